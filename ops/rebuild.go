package ops

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"waystation/eventstore"
)

// runRebuild folds the whole log into fresh views and reports how far and
// how fast it went. While the service runs on the data folder, it asks the
// service, through the folder's control socket, to rebuild its live views
// (they are swapped in once caught up; the old ones answer until then).
// Otherwise it rebuilds offline, through the same wiring as serve (so sealed
// personal values are opened and either backend works), as a check that
// every stored event still decodes and folds; the service rebuilds its
// in-memory views on every start anyway.
func runRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parse(flag.NewFlagSet("rebuild", flag.ContinueOnError), args, stderr)
	if err != nil {
		return err
	}
	if cfg.Store == "" {
		if err := requireStore(cfg.Data); err != nil {
			return err
		}
	}
	m := NewMain(cfg, cfg.Logger(stderr))
	defer m.Close()
	var res rebuildResult
	switch err := m.Open(ctx); {
	case errors.Is(err, eventstore.ErrLocked):
		res, err = rebuildOverControl(ctx, cfg.Data)
		if err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if res, err = m.rebuild(ctx); err != nil {
			return err
		}
	}
	if res.Undecodable > 0 {
		return fmt.Errorf("rebuild: %d events could not be decoded", res.Undecodable)
	}
	fmt.Fprintf(stdout, "rebuilt every view up to position %s in %s\n", res.Position, time.Duration(res.TookMs*float64(time.Millisecond)).Round(time.Millisecond))
	return nil
}

// rebuildResult is what a rebuild reports, also over the control socket.
type rebuildResult struct {
	Position    eventstore.Position `json:"position"`
	TookMs      float64             `json:"took_ms"`
	Undecodable uint64              `json:"undecodable"`
}

// rebuild folds the whole log into fresh views and swaps them in.
func (m *Main) rebuild(ctx context.Context) (rebuildResult, error) {
	started := time.Now()
	if err := m.Views.Rebuild(ctx); err != nil {
		return rebuildResult{}, err
	}
	took := time.Since(started)
	lag, err := m.Views.Lag(ctx)
	if err != nil {
		return rebuildResult{}, err
	}
	return rebuildResult{Position: lag.Position, TookMs: float64(took) / float64(time.Millisecond), Undecodable: lag.Undecodable}, nil
}
