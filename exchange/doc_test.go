package exchange_test

import (
	"os"
	"strings"
	"testing"

	"waystation/exchange"
)

// TestTheSpecificationDocumentsEveryColumn: docs/exchange.md has a row for
// every column of every file, with its type and whether it is required,
// in the order of the files.
func TestTheSpecificationDocumentsEveryColumn(t *testing.T) {
	b, err := os.ReadFile("../docs/exchange.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, f := range append([]exchange.File{exchange.ManifestFile}, exchange.DataFiles...) {
		i := strings.Index(doc, "### "+f.Name)
		if i < 0 {
			t.Errorf("no section for %s", f.Name)
			continue
		}
		sec := doc[i:]
		if j := strings.Index(sec[4:], "\n### "); j >= 0 {
			sec = sec[:j+4]
		}
		for _, c := range f.Columns {
			req := "no"
			if c.Required {
				req = "yes"
			}
			if !strings.Contains(sec, "| `"+c.Name+"` | "+c.Type+" | "+req+" |") {
				t.Errorf("%s: column %s (%s, required %s) not documented", f.Name, c.Name, c.Type, req)
			}
		}
	}
}
