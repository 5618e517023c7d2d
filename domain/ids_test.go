package domain_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"

	"waystation/domain"
)

// TestDerivedIDsAreStable pins the derived IDs, name-based UUIDs of
// version 8 with the RFC 9562 variant: stored events carry them, so a retry
// after an upgrade must derive the same ones to be recognised.
func TestDerivedIDsAreStable(t *testing.T) {
	parent := uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
	tests := []struct {
		name string
		got  uuid.UUID
		want string
	}{
		{"first event of a keyed request", domain.KeyedEventID("staff-7", "key-1", 0), "6bcf1916-5d48-8005-90a8-eb6542c658e0"},
		{"fourth event of a keyed request", domain.KeyedEventID("staff-7", "key-1", 3), "cf316bf1-bcfb-8527-84f8-306bf3ef7822"},
		{"case of a keyed intake with a long key", domain.KeyedCaseID("staff-7", strings.Repeat("k", 200)), "2f5ca512-9dbd-831d-a08c-fe6de2b978c3"},
		{"case of a keyed intake with a key longer than the framing buffer", domain.KeyedCaseID("staff-7", strings.Repeat("k", 300)), "8556f9c1-e190-8904-8798-f18f737e2b2e"},
		{"event derived from another", domain.DerivedEventID(parent, "bed-release"), "7f1ef1b6-0380-8f94-a3d1-c9545eede9a4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got.String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if v, variant := tt.got.Version(), tt.got.Variant(); v != 8 || variant != uuid.RFC4122 {
				t.Errorf("version %d variant %v, want version 8 of the RFC 9562 variant", v, variant)
			}
		})
	}
}
