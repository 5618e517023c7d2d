package ops_test

import (
	"bufio"
	"context"
	"encoding/json"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	"waystation/eventstore/esdb/esdbtest"
)

// TestARevocationOnOneReplicaEndsTheTokensStreamsOnTheOthers: given two
// replicas on one cluster and an inspector's live stream of the log on the
// second, caught up; when the token is revoked through the first and an
// intake is then recorded there; then the stream on the second replica
// ends, the intake never arrives on it, and no access-log entry names the
// token after its revocation.
func TestARevocationOnOneReplicaEndsTheTokensStreamsOnTheOthers(t *testing.T) {
	cluster := esdbtest.Start(t)
	r1 := startOn(t, t.TempDir(), cluster.URL())
	r2 := startOn(t, t.TempDir(), cluster.URL())
	staff := r1.seed(t)
	shown := r1.must(t, 201, staff, "POST", "/v1/cases", intake("Shown Before", time.Now().Add(-time.Hour)))["id"].(string)
	issued := r1.must(t, 201, adminToken, "POST", "/v1/tokens", map[string]any{"name": "auditor", "role": "inspector"})
	token, id := issued["token"].(string), issued["id"].(string)
	eventually(t, "the token issued on replica 1 works on replica 2", func() bool {
		code, _ := r2.raw(t, token, "/v1/events?limit=1")
		return code == 200
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := nethttp.NewRequestWithContext(ctx, "GET", r2.base+"/v1/events/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("stream on replica 2: %d", resp.StatusCode)
	}
	events := bufio.NewReader(resp.Body)
	for {
		line, err := events.ReadString('\n')
		if err != nil {
			t.Fatalf("the stream ended before it caught up: %v", err)
		}
		if line == "event: caught_up\n" {
			break
		}
	}
	readsByToken := func() (before, after []string) {
		revoked := false
		for _, e := range r1.globalLog(t) {
			var d struct {
				ID     string `json:"id"`
				CaseID string `json:"case_id"`
				Reader string `json:"reader"`
			}
			_ = json.Unmarshal(e.Data, &d)
			switch {
			case e.Type == "access.token_revoked" && d.ID == id:
				revoked = true
			case e.Type == "access.case_read" && d.Reader == id && revoked:
				after = append(after, d.CaseID)
			case e.Type == "access.case_read" && d.Reader == id:
				before = append(before, d.CaseID)
			}
		}
		return before, after
	}
	// Replica 2 records the read once written, which may be just after the
	// client has read it.
	eventually(t, "replica 2 records the read of the case its stream showed", func() bool {
		before, _ := readsByToken()
		return len(before) == 1 && before[0] == shown
	})

	r1.must(t, 200, adminToken, "DELETE", "/v1/tokens/"+id, nil)
	late := r1.must(t, 201, staff, "POST", "/v1/cases", intake("After The Revocation", time.Now().Add(-time.Minute)))["id"].(string)
	timer := time.AfterFunc(30*time.Second, cancel)
	defer timer.Stop()
	for {
		line, err := events.ReadString('\n')
		if err != nil {
			break
		}
		if strings.Contains(line, late) {
			t.Fatalf("replica 2 delivered an event of case %s, recorded after the revocation", late)
		}
	}
	if !timer.Stop() {
		t.Fatal("the stream on replica 2 was still open 30s after the revocation on replica 1")
	}
	if _, after := readsByToken(); len(after) > 0 {
		t.Fatalf("the access log records reads by the revoked token after its revocation: %v", after)
	}
}
