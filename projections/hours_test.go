package projections_test

import (
	"encoding/json"
	"testing"
	"time"

	"waystation/projections"
)

func TestHoursAreWrittenWithOneDecimal(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{12 * time.Millisecond, "0.0"},
		{11880 * time.Millisecond, "0.0"},
		{3 * time.Minute, "0.1"},
		{3*time.Hour + 20*time.Minute, "3.3"},
		{75*time.Hour + time.Minute, "75.0"},
		{10 * 365 * 24 * time.Hour, "87600.0"},
	} {
		raw, err := json.Marshal(projections.HoursOf(tt.d))
		if err != nil || string(raw) != tt.want {
			t.Errorf("%s: got %s (%v), want %s", tt.d, raw, err, tt.want)
		}
	}
}
