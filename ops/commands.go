package ops

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	nethttp "net/http"
	"os"
	"runtime/debug"
	"sort"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"waystation/eventstore"
	"waystation/eventstore/audit"
	"waystation/eventstore/bolt"
)

// ErrUsage marks a command line that names no known subcommand or breaks
// one's flags; the binary exits 2 on it.
var ErrUsage = errors.New("usage")

// command is one subcommand of the binary.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":         {"serve the API on the configured store", runServe},
		"demo":          {"serve a seeded demo region (stations, tokens, weeks of cases)", runDemo},
		"account":       {"manage people's accounts, the first admin's too: account create --username U --name N --role R [--station S | --region G], account reset|disable --username U, account list", runAccount},
		"backup":        {"write a consistent copy of the embedded store, its data keys and signing key (--out FILE, a tar archive)", runBackup},
		"restore":       {"restore a backup into an empty data folder (--from FILE [--force])", runRestore},
		"verify":        {"recompute the Merkle tree and check the signed tree heads (with --store esdb://..., this replica's audit index against the cluster)", runVerify},
		"rebuild":       {"rebuild every projection from the start of the log", runRebuild},
		"migrate":       {"copy the embedded store into an EventStoreDB cluster (--from DIR --to esdb://...)", runMigrate},
		"bench":         {"measure: bench append|rebuild|http|sealing|readall [--writers N] [--events N] [--json]", runBench},
		"export":        {"write the exchange-format export (docs/exchange.md): export --from DATE --to DATE [--station S | --region R] [--personal] --out FILE", runExport},
		"export-check":  {"check an exchange-format export against its specification and manifest: export-check FILE [--json]", runExportCheck},
		"import":        {"load an exchange-format export through the domain's commands: import --data DIR FILE [--dry-run] [--json]", runImport},
		"verify-export": {"check an inspector's case export offline: verify-export FILE [--key VERIFIER_KEY]", runVerifyExport},
	}
}

// RunCommand runs the subcommand named by args[0] with the rest of args.
func RunCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr, cmds)
		if len(args) == 0 {
			return fmt.Errorf("%w: no subcommand given", ErrUsage)
		}
		return nil
	}
	c, ok := cmds[args[0]]
	if !ok {
		usage(stderr, cmds)
		return fmt.Errorf("%w: unknown subcommand %q", ErrUsage, args[0])
	}
	err := c.run(ctx, args[1:], stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h: the flags were printed
	}
	return err
}

func usage(w io.Writer, cmds map[string]command) {
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w, "usage: waystation <subcommand> [flags]  (waystation <subcommand> -h for its flags)")
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
}

// parse parses a subcommand's flags into a Config, turning flag errors into
// ErrUsage.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) (Config, error) {
	cfg, err := ParseConfig(fs, args, os.Getenv, stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return cfg, fmt.Errorf("%w: %s: %v", ErrUsage, fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("%w: %s: unexpected argument %q", ErrUsage, fs.Name(), fs.Arg(0))
	}
	return cfg, err
}

func runServe(ctx context.Context, args []string, _, stderr io.Writer) error {
	cfg, err := parse(flag.NewFlagSet("serve", flag.ContinueOnError), args, stderr)
	if err != nil {
		return err
	}
	tuneGC()
	return serve(ctx, NewMain(cfg, cfg.Logger(stderr)))
}

// tuneGC lets the heap grow to three times the live heap before a
// collection (GOGC=200) unless the operator set GOGC: measured on the HTTP
// load benchmark, 13 % less CPU per request for a peak of 130 MB instead of
// 105 MB; a service holding many cases has a larger live heap and gains less.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}

// serve runs m until ctx ends and closes it.
func serve(ctx context.Context, m *Main) error {
	err := m.Run(ctx)
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return err
}

func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	out := fs.String("out", "", "file to write the backup to (required)")
	url := fs.String("url", "", "back up a running server through its API instead (http://HOST:PORT); the admin token comes from WAYSTATION_ADMIN_TOKEN")
	cfg, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: backup: --out FILE is required", ErrUsage)
	}
	var n int64
	if *url != "" {
		n, err = backupOverHTTP(ctx, *url, cfg.AdminToken, *out)
	} else {
		n, err = backupDataDir(ctx, cfg.Data, *out)
		if errors.Is(err, eventstore.ErrLocked) {
			// The service is running: ask it, through the folder's
			// control socket.
			n, err = backupOverControl(ctx, cfg.Data, *out)
			if errors.Is(err, errNoControl) {
				return fmt.Errorf("%w; the process that holds it does not answer on %s: back a running service up with --url http://%s (admin token in WAYSTATION_ADMIN_TOKEN)", err, ControlSocket, cfg.Addr)
			}
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes)\n", *out, n)
	return nil
}

func runRestore(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	from := fs.String("from", "", "backup file to restore (required)")
	force := fs.Bool("force", false, "replace the store in a non-empty data folder")
	cfg, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if *from == "" {
		return fmt.Errorf("%w: restore: --from FILE is required", ErrUsage)
	}
	if err := restoreArchive(*from, cfg.Data, *force, masterKeySource{Value: cfg.MasterKey, File: cfg.MasterKeyFile}); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s; run `waystation verify --data %s` to check it\n", *from, cfg.Data, cfg.Data)
	return nil
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var keys []string
	fs.Func("key", "a verifier key the signed tree heads must be signed by, or a file holding it (the published one, e.g. from GET /v1/audit/checkpoint or audit.pub kept off the machine; repeat for a rotated key); without it the store's own keys are trusted", func(v string) error {
		if b, err := os.ReadFile(v); err == nil {
			v = string(b)
		}
		if _, err := note.NewVerifier(strings.TrimSpace(v)); err != nil {
			return fmt.Errorf("neither a verifier key nor a file holding one: %v", err)
		}
		keys = append(keys, strings.TrimSpace(v))
		return nil
	})
	cfg, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	var rep audit.VerifyReport
	if cfg.Store != "" {
		rep, err = verifyReplica(ctx, cfg.Store, cfg.Data, keys...)
	} else {
		rep, err = verifyDataDir(ctx, cfg.Data, keys...)
		if errors.Is(err, eventstore.ErrLocked) {
			rep, err = verifyOverControl(ctx, cfg.Data, keys...)
		}
	}
	if err != nil && (rep.OK() || !errors.Is(err, audit.ErrTampered)) {
		return err
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(stdout, describeReport(rep))
	}
	if !rep.OK() {
		return errors.New("verify: the log is not intact")
	}
	return nil
}

// verifyDataDir opens the embedded store in dir read-side and verifies it.
func verifyDataDir(ctx context.Context, dir string, pinned ...string) (bolt.VerifyReport, error) {
	if err := requireStore(dir); err != nil {
		return bolt.VerifyReport{}, err
	}
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		return bolt.VerifyReport{}, err
	}
	defer s.Close()
	return s.Verify(ctx, pinned...)
}

func backupDataDir(ctx context.Context, dir, out string) (int64, error) {
	if err := requireStore(dir); err != nil {
		return 0, err
	}
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		return 0, err
	}
	defer s.Close()
	return writeFileAtomic(out, func(w io.Writer) (int64, error) { return writeArchive(ctx, dir, s, nil, w) })
}

// requireStore refuses to create a store where an offline command expects
// one to exist.
func requireStore(dir string) error {
	if _, err := os.Stat(dir + string(os.PathSeparator) + bolt.DataFile); err != nil {
		return fmt.Errorf("data: no Waystation store in %s", dir)
	}
	return nil
}

// writeFileAtomic writes a file through fill into a temporary file next to
// path, fsyncs it and renames it into place, so a failed write leaves no
// half file behind.
func writeFileAtomic(path string, fill func(io.Writer) (int64, error)) (int64, error) {
	tmp, err := os.CreateTemp(dirOf(path), ".waystation-backup-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name())
	n, err := fill(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o600)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return n, err
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, os.PathSeparator); i >= 0 {
		return path[:i+1]
	}
	return "."
}

// describeReport renders a verify report as one line for an operator.
func describeReport(r bolt.VerifyReport) string {
	if r.OK() {
		msg := fmt.Sprintf("intact: %d events, root %s, %d signed tree heads checked", r.Events, r.Root, r.HeadsChecked)
		if r.Events > 0 && !r.Pinned {
			msg += "\n(signatures checked against the store's own keys, which whoever can rewrite the store can replace: pass --key with the published verifier key to rule that out)"
		}
		return msg
	}
	return fmt.Sprintf("NOT INTACT: first bad position %s: %s (%d events read)", r.FirstBad, r.Problem, r.Events)
}

// backupOverHTTP asks a running server for an online backup through its
// admin route and writes it to out.
func backupOverHTTP(ctx context.Context, base, token, out string) (int64, error) {
	if token == "" {
		return 0, fmt.Errorf("%w: backup: --url needs the admin token in WAYSTATION_ADMIN_TOKEN", ErrUsage)
	}
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodPost, strings.TrimRight(base, "/")+"/v1/admin/backup", nil)
	if err != nil {
		return 0, fmt.Errorf("backup: url: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != nethttp.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return 0, fmt.Errorf("backup: server answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return writeFileAtomic(out, func(w io.Writer) (int64, error) { return io.Copy(w, resp.Body) })
}
