package ops

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"time"

	"waystation/internal/bench"
)

// runBench runs `waystation bench append|rebuild|http|sealing|readall`
// (package internal/bench). Without --data it works in a fresh temporary
// folder that it removes afterwards; readall first appends --events events
// when the folder holds no store.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: bench: which one? append, rebuild, http, console, sealing or readall", ErrUsage)
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(stderr, "usage: waystation bench append|rebuild|http|console|sealing|readall [flags]"+
			"  (waystation bench <kind> -h for the flags)")
		return nil
	}
	kind := args[0]
	fs := flag.NewFlagSet("bench "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "folder for the benchmark's store (default: a temporary folder, removed afterwards)")
	writers := fs.Int("writers", 64, "concurrent writers (append) or clients (http)")
	events := fs.Int("events", 100000, "events (append, rebuild, readall's log when it must write one, "+
		"and each of sealing's two runs) or requests (http)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (for go tool pprof)")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if *writers < 1 || *events < 1 {
		return fmt.Errorf("%w: bench: --writers and --events must be at least 1", ErrUsage)
	}
	if kind == "console" && !flagSet(fs, "events") {
		*events = consoleRounds
	}
	run, ok := benchmarks[kind]
	if !ok {
		return fmt.Errorf("%w: bench: unknown benchmark %q (append, rebuild, http, console, sealing or readall)", ErrUsage, kind)
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
	res, err := run(ctx, dir, *writers, *events)
	if err != nil {
		return err
	}
	return printBench(stdout, kind, *asJSON, res)
}

// benchmarks runs each benchmark of `waystation bench` by its name.
var benchmarks = map[string]func(ctx context.Context, dir string, writers, events int) (any, error){
	"append": func(ctx context.Context, dir string, writers, events int) (any, error) {
		return bench.Append(ctx, dir, writers, events)
	},
	"rebuild": func(ctx context.Context, dir string, _, events int) (any, error) {
		return bench.Rebuild(ctx, dir, events)
	},
	"readall": func(ctx context.Context, dir string, writers, events int) (any, error) {
		if requireStore(dir) != nil {
			if _, err := bench.Append(ctx, dir, writers, events); err != nil {
				return nil, err
			}
		}
		return bench.ReadAll(ctx, dir)
	},
	"sealing": func(ctx context.Context, dir string, writers, events int) (any, error) {
		return bench.Sealing(ctx, dir, writers, events, events)
	},
	"http": func(ctx context.Context, dir string, clients, requests int) (any, error) {
		tuneGC() // as serve runs
		return bench.HTTP(ctx, dir, clients, requests, serveForBench)
	},
	"console": benchConsole,
}

// consoleRounds is how many times `bench console` asks for each page
// unless --events says otherwise.
const consoleRounds = 50

// benchConsole serves the store in dir (the demo, seeded first, when dir
// holds none) and measures every page of the console (bench.Console),
// each asked for rounds times.
func benchConsole(ctx context.Context, dir string, _, rounds int) (any, error) {
	tuneGC() // as serve runs
	seed := requireStore(dir) != nil
	addr, stop, err := serveForBench(ctx, dir, bench.AdminToken)
	if err != nil {
		return nil, err
	}
	defer stop()
	base := "http://" + addr
	if seed {
		if _, err := SeedDemo(ctx, base, bench.AdminToken, DemoOptions{Cases: 160, Seed: 2024, Now: time.Now()}); err != nil {
			return nil, fmt.Errorf("bench console: seeding the demo: %w", err)
		}
	}
	return bench.Console(ctx, bench.ConsoleConfig{BaseURL: base, AdminToken: bench.AdminToken, Rounds: rounds})
}

// serveForBench is bench.Serve over Main: the whole service in dir on a
// loopback port, logging nowhere. It returns Run's error when Run ends
// before it listens.
func serveForBench(ctx context.Context, dir, token string) (string, func(), error) {
	cfg := DefaultConfig()
	cfg.Data = dir
	cfg.Addr = "127.0.0.1:0"
	cfg.AdminToken = token
	m := NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	runCtx, cancel := context.WithCancel(ctx)
	listening, served := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		err := serve(runCtx, m)
		served()
		done <- err
	}()
	addr := m.Addr(listening)
	if addr == "" {
		cancel()
		if err := <-done; err != nil {
			return "", nil, err
		}
		return "", nil, ctx.Err()
	}
	return addr, func() { cancel(); <-done; served() }, nil
}

// flagSet reports whether the command line set flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
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
