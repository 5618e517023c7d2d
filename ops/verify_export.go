package ops

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"waystation/domain"
	"waystation/eventstore/audit"
)

// runVerifyExport is `waystation verify-export FILE [--key KEY] [--json]`:
// it checks an inspector's bundle offline (audit.VerifyBundle).
func runVerifyExport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify-export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	key := fs.String("key", "", "the station's verifier key (audit.pub, or GET /v1/audit/checkpoint's "+
		"verifier_key) to pin; a file name or the key itself")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	file, err := fileAndFlags(fs, "verify-export", args)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("verify-export: %w", err)
	}
	k := strings.TrimSpace(*key)
	if k != "" {
		if kb, err := os.ReadFile(k); err == nil {
			k = strings.TrimSpace(string(kb))
		}
	}
	rep, err := audit.VerifyBundle(b, k, domain.CaseStream)
	if err != nil {
		fmt.Fprintln(stdout, "NOT INTACT:", err)
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	pinned := "pinned key"
	if !rep.KeyPinned {
		pinned = "the bundle's own key (pin the station's key with --key to tie it to the station)"
	}
	fmt.Fprintf(stdout, "intact: case %s, %d events (%d of the case, versions %d to %d, no gap) "+
		"in the signed log of %d events, signature checked with %s\n",
		rep.CaseID, rep.Events, rep.CaseEvent, rep.FirstVersion, rep.LastVersion, rep.TreeSize, pinned)
	return nil
}

// fileAndFlags parses the flags of command name, whose one argument, the
// export FILE, may come before or after them.
func fileAndFlags(fs *flag.FlagSet, name string, args []string) (string, error) {
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", err
		}
		return "", fmt.Errorf("%w: %s: %v", ErrUsage, name, err)
	}
	if file == "" && fs.NArg() > 0 {
		file = fs.Arg(0)
	}
	if file == "" {
		return "", fmt.Errorf("%w: %s: give the export FILE", ErrUsage, name)
	}
	return file, nil
}
