package http_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"waystation/domain"
)

// oneOf are the bodies that need one of several optional fields, as
// docs/api.md says: the required convention cannot express "one of".
var oneOf = map[string]bool{
	"/v1/cases/{id}/eligibility": true, // eligible, or assist_first
	"/v1/cases/{id}/belongings":  true, // deposited, or returned
}

// TestRequiredMatchesValidation checks the required convention against
// the domain's own validation: for every command body but oneOf's, the
// field the domain refuses first in an empty command is listed as
// required.
func TestRequiredMatchesValidation(t *testing.T) {
	e := newEnv(t)
	doc := openAPIDoc(t, e)
	bodies := map[string]domain.Command{"/v1/cases": new(domain.Intake), "/v1/stations": new(domain.RegisterStation), "/v1/stations/{code}/zones": new(domain.ChangeZones)}
	for _, step := range domain.CaseSteps() {
		cmd, _ := domain.NewCommand(step)
		bodies["/v1/cases/{id}/"+string(step)] = cmd
	}
	for path, cmd := range bodies {
		err := cmd.Validate()
		var de *domain.Error
		if err == nil || !errors.As(err, &de) || de.Field == "" || oneOf[path] {
			continue
		}
		schema := at(t, doc, "paths", path, "post", "requestBody", "content", "application/json", "schema")
		top, _, _ := strings.Cut(de.Field, ".")
		if req := strings_(asMap(schema)["required"]); !slices.Contains(req, top) {
			t.Errorf("%s: the domain refuses an empty body naming %q, but required is %v", path, de.Field, req)
		}
	}
}
