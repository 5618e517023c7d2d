package ops

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// runBench runs `waystation bench append|rebuild|http|sealing|readall`.
// Without --data it works in a fresh temporary folder that it removes
// afterwards; readall first appends --events events when the folder holds
// no store.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: bench: which one? append, rebuild, http, sealing or readall", ErrUsage)
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, "usage: waystation bench append|rebuild|http|sealing|readall [flags]  (waystation bench <kind> -h for the flags)")
		return nil
	}
	kind := args[0]
	fs := flag.NewFlagSet("bench "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "folder for the benchmark's store (default: a temporary folder, removed afterwards)")
	writers := fs.Int("writers", 64, "concurrent writers (append) or clients (http)")
	events := fs.Int("events", 100000, "events (append, rebuild, readall's log when it must write one, and each of sealing's two runs) or requests (http)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (for go tool pprof)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if *writers < 1 || *events < 1 {
		return fmt.Errorf("%w: bench: --writers and --events must be at least 1", ErrUsage)
	}
	dir := *data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "waystation-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	switch kind {
	case "sealing":
		cost, err := BenchSealing(ctx, dir, *writers, *events, *events)
		if err != nil {
			return err
		}
		return printBench(stdout, kind, *asJSON, cost)
	case "rebuild":
		res, err := BenchRebuild(ctx, dir, *events)
		if err != nil {
			return err
		}
		return printBench(stdout, kind, *asJSON, res)
	case "readall":
		if requireStore(dir) != nil {
			if _, err := BenchAppend(ctx, dir, *writers, *events); err != nil {
				return err
			}
		}
		res, err := BenchReadAll(ctx, dir)
		if err != nil {
			return err
		}
		return printBench(stdout, kind, *asJSON, res)
	}
	var res BenchResult
	var err error
	switch kind {
	case "append":
		res, err = BenchAppend(ctx, dir, *writers, *events)
	case "http":
		tuneGC() // as serve runs
		res, err = BenchHTTP(ctx, dir, *writers, *events)
	default:
		return fmt.Errorf("%w: bench: unknown benchmark %q (append, rebuild, http, sealing or readall)", ErrUsage, kind)
	}
	if err != nil {
		return err
	}
	return printBench(stdout, kind, *asJSON, res)
}

// printBench prints the result of benchmark kind: with asJSON one JSON
// object on one line, else a title line and the object indented.
func printBench(stdout io.Writer, kind string, asJSON bool, res any) error {
	if asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "bench %s\n%s\n", kind, b)
	return err
}
