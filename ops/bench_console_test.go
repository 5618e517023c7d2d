package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	"waystation/internal/bench"
	"waystation/ops"
)

func TestBenchConsoleMeasuresEveryPageOfTheSeededDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds the demo")
	}
	var out bytes.Buffer
	err := ops.RunCommand(context.Background(), []string{"bench", "console", "--data", t.TempDir(), "--events", "2", "--json"},
		&out, io.Discard)
	if err != nil {
		t.Fatalf("bench console: %v", err)
	}
	var rep bench.ConsoleReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if rep.Rounds != 2 || len(rep.Pages) < 10 || rep.Cases == 0 {
		t.Fatalf("report %+v", rep)
	}
	for _, p := range rep.Pages {
		if p.Bytes == 0 || p.WeightBytes <= p.Bytes || p.P50Ms <= 0 {
			t.Errorf("page %s measured nothing: %+v", p.Page, p)
		}
	}
}
