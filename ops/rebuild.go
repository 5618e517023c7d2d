package ops

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"
)

// runRebuild folds the whole log into fresh views, offline, through the
// same wiring as serve (so sealed personal values are opened and either
// backend works), as a check that every stored event still decodes and
// folds, and reports how far and how fast it went. The service rebuilds its
// in-memory views on every start; this command does the same without
// serving.
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
	if err := m.Open(ctx); err != nil {
		return err
	}
	started := time.Now()
	if err := m.Views.Rebuild(ctx); err != nil {
		return err
	}
	took := time.Since(started)
	lag, err := m.Views.Lag(ctx)
	if err != nil {
		return err
	}
	if lag.Undecodable > 0 {
		return fmt.Errorf("rebuild: %d events could not be decoded", lag.Undecodable)
	}
	fmt.Fprintf(stdout, "rebuilt every view up to position %s in %s\n", lag.Position, took.Round(time.Millisecond))
	return nil
}
