package ops

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	nethttp "net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/exchange"
)

// exportRoute is the route an offline export's reads are logged under.
const exportRoute = "waystation export"

// runExport writes the exchange-format export (docs/exchange.md) of a data
// folder: offline, or through the control socket of the service that holds
// it.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	from := fs.String("from", "", "the period's first civil date, 2026-11-01 (required)")
	to := fs.String("to", "", "its last civil date, included (required)")
	station := fs.String("station", "", "only this station")
	region := fs.String("region", "", "only this region")
	personal := fs.Bool("personal", false, "include personal values (never an erased person's); each case is logged as read")
	out := fs.String("out", "", "the ZIP file to write (required)")
	cfg, err := parse(fs, args, stderr)
	if err != nil {
		return err
	}
	if *out == "" || *from == "" || *to == "" {
		return fmt.Errorf("%w: export: --from DATE --to DATE --out FILE are required", ErrUsage)
	}
	opts, err := exportOptions(*from, *to, *station, *region, *personal)
	if err != nil {
		return fmt.Errorf("%w: export: %v", ErrUsage, err)
	}
	if cfg.Store == "" {
		if err := requireStore(cfg.Data); err != nil {
			return err
		}
	}
	m := NewMain(cfg, cfg.Logger(stderr))
	defer m.Close()
	var man exchange.Manifest
	switch err := m.Open(ctx); {
	case errors.Is(err, eventstore.ErrLocked):
		man, err = exportOverControl(ctx, cfg.Data, opts, *out)
		if err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if man, err = m.exportExchange(ctx, opts, *out, domain.Actor{ID: "cli", Role: domain.RoleAdmin}, exportRoute); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "export %s written to %s: %d cases, %d events\n", exchange.FormatVersion, *out, len(man.Cases), man.Events)
	return nil
}

func exportOptions(from, to, station, region string, personal bool) (exchange.Options, error) {
	f, err := domain.ParseDate(from)
	if err != nil {
		return exchange.Options{}, fmt.Errorf("--from: %v", err)
	}
	t, err := domain.ParseDate(to)
	if err != nil {
		return exchange.Options{}, fmt.Errorf("--to: %v", err)
	}
	if station != "" && region != "" {
		return exchange.Options{}, errors.New("give --station or --region, not both")
	}
	return exchange.Options{From: f, To: t, Station: station, Region: region, Personal: personal}, nil
}

// exportExchange writes the export opts selects to the file out and logs
// each case exported as read by actor through route.
func (m *Main) exportExchange(ctx context.Context, opts exchange.Options, out string, actor domain.Actor,
	route string) (exchange.Manifest, error) {
	opts.Now = m.Now
	man, err := exchange.WriteFile(ctx, m.Store, opts, out)
	if err != nil {
		return man, fmt.Errorf("export: %w", err)
	}
	if err := logReads(ctx, m.Store, actor, route, man.Cases, m.Now()); err != nil {
		os.Remove(out)
		return man, fmt.Errorf("export: recording the reads: %w", err)
	}
	return man, nil
}

// logReads appends one access-log entry per case of ids.
func logReads(ctx context.Context, store eventstore.Store, actor domain.Actor, route string, ids []uuid.UUID, now time.Time) error {
	meta := domain.Metadata{OccurredAt: now, RecordedAt: now, Actor: actor.ID, Role: actor.Role,
		LegalBasis: domain.BasisStatutoryDuty}
	var batch []eventstore.EventData
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := store.Append(ctx, domain.CaseReadsStream, eventstore.Any, batch...)
		batch = batch[:0]
		return err
	}
	for _, id := range ids {
		evID, err := uuid.NewV7()
		if err != nil {
			return err
		}
		data, err := domain.Encode(evID, domain.CaseRead{CaseID: id.String(), Reader: actor.ID, Role: actor.Role, Route: route}, meta)
		if err != nil {
			return err
		}
		if batch = append(batch, data); len(batch) == 256 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// serveExport answers POST /export on the control socket: the export of
// the query's from, to, station, region and personal, as a ZIP.
func (m *Main) serveExport(w nethttp.ResponseWriter, r *nethttp.Request) {
	q := r.URL.Query()
	opts, err := exportOptions(q.Get("from"), q.Get("to"), q.Get("station"), q.Get("region"), q.Get("personal") == "true")
	if err != nil {
		nethttp.Error(w, err.Error(), nethttp.StatusBadRequest)
		return
	}
	tmp, err := os.CreateTemp("", "waystation-export-*.zip")
	if err != nil {
		nethttp.Error(w, "no room for the export", nethttp.StatusInternalServerError)
		return
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	man, err := m.exportExchange(r.Context(), opts, tmp.Name(), domain.Actor{ID: "cli", Role: domain.RoleAdmin}, exportRoute)
	if err != nil {
		m.Logger.Error("export over the control socket failed", "err", err)
		nethttp.Error(w, "export failed: "+err.Error(), nethttp.StatusInternalServerError)
		return
	}
	f, err := os.Open(tmp.Name())
	if err != nil {
		nethttp.Error(w, "export failed", nethttp.StatusInternalServerError)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Waystation-Export-Cases", strconv.Itoa(len(man.Cases)))
	w.Header().Set("Waystation-Export-Events", strconv.Itoa(man.Events))
	io.Copy(w, f)
}

// exportOverControl asks the serving process that holds dir for the export.
func exportOverControl(ctx context.Context, dir string, opts exchange.Options, out string) (exchange.Manifest, error) {
	q := url.Values{"from": {opts.From.String()}, "to": {opts.To.String()}, "station": {opts.Station},
		"region": {opts.Region}, "personal": {strconv.FormatBool(opts.Personal)}}
	req, err := nethttp.NewRequestWithContext(ctx, nethttp.MethodPost, "http://waystation/export?"+q.Encode(), nil)
	if err != nil {
		return exchange.Manifest{}, err
	}
	resp, err := controlClient(dir).Do(req)
	if err != nil {
		return exchange.Manifest{}, fmt.Errorf("export: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != nethttp.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return exchange.Manifest{}, fmt.Errorf("export: the serving process answered %s: %s", resp.Status, msg)
	}
	if _, err := writeFileAtomic(out, func(w io.Writer) (int64, error) { return io.Copy(w, resp.Body) }); err != nil {
		return exchange.Manifest{}, fmt.Errorf("export: %w", err)
	}
	var man exchange.Manifest
	n, _ := strconv.Atoi(resp.Header.Get("Waystation-Export-Cases"))
	man.Cases = make([]uuid.UUID, n)
	man.Events, _ = strconv.Atoi(resp.Header.Get("Waystation-Export-Events"))
	return man, nil
}

// runExportCheck checks an export against the specification and its
// manifest's hashes; it exits 0 only when nothing is wrong, and names
// every problem by file, line and column.
func runExportCheck(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export-check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the problems as JSON")
	file, err := fileAndFlags(fs, "export-check", args)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("export-check: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("export-check: %w", err)
	}
	man, problems := exchange.Check(f, st.Size())
	if *asJSON {
		json.NewEncoder(stdout).Encode(map[string]any{"manifest": man, "problems": problems})
	} else {
		for _, p := range problems {
			fmt.Fprintln(stdout, p.String())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("export-check: %d problem(s) in %s", len(problems), file)
	}
	if !*asJSON {
		fmt.Fprintf(stdout, "%s: a valid %s %s export (%s to %s, scope %s)\n", file, man["format"], man["format_version"],
			man["period_from"], man["period_to"], man["scope"])
	}
	return nil
}

// runImport loads an exchange-format export into a data folder through the
// domain's commands (exchange.Import), offline; --dry-run checks without
// writing. It prints the report, every refused row by file, line, column
// and reason, and fails when any case was refused.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	dry := fs.Bool("dry-run", false, "check every row and report, writing nothing")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	var file string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		file, args = args[0], args[1:]
	}
	cfg, err := ParseConfig(fs, args, os.Getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: import: %v", ErrUsage, err)
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	if file == "" || fs.NArg() > 1 {
		return fmt.Errorf("%w: import: give the export FILE (import --data DIR FILE [--dry-run])", ErrUsage)
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	m := NewMain(cfg, cfg.Logger(stderr))
	defer m.Close()
	if err := m.Open(ctx); err != nil {
		if errors.Is(err, eventstore.ErrLocked) {
			return fmt.Errorf("%w; the service holds the data folder: import through it with POST /v1/imports (admin)", err)
		}
		return err
	}
	rep, err := exchange.Import(ctx, m.Service, m.Store, f, st.Size(), exchange.ImportOptions{DryRun: *dry, Now: m.Now})
	if *asJSON {
		json.NewEncoder(stdout).Encode(rep)
	} else {
		for _, p := range rep.Problems {
			fmt.Fprintln(stdout, p.String())
		}
		verb := "imported"
		if *dry {
			verb = "would import"
		}
		fmt.Fprintf(stdout, "%s %d case(s) of export %s (%d refused); %d events written, %d rows left to the domain\n",
			verb, rep.Cases, rep.ExportID, rep.CasesRefused, rep.Written, rep.Derived)
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if rep.CasesRefused > 0 {
		return fmt.Errorf("import: %d case(s) refused", rep.CasesRefused)
	}
	return nil
}
