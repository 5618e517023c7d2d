package ops

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"waystation/eventstore/bolt"
	"waystation/projections"
)

// runRebuild folds the whole log of the embedded store into fresh views, as
// a check that every stored event still decodes and folds, and reports how
// far and how fast it went. The service rebuilds its in-memory views on
// every start; this command does the same offline.
func runRebuild(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parse(flag.NewFlagSet("rebuild", flag.ContinueOnError), args, stderr)
	if err != nil {
		return err
	}
	if err := requireStore(cfg.Data); err != nil {
		return err
	}
	s, err := bolt.Open(cfg.Data, bolt.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	r := projections.NewRunner(s, s, projections.Options{Logger: cfg.Logger(stderr)})
	started := time.Now()
	if err := r.Rebuild(ctx); err != nil {
		return err
	}
	took := time.Since(started)
	lag, err := r.Lag(ctx)
	if err != nil {
		return err
	}
	if lag.Undecodable > 0 {
		return fmt.Errorf("rebuild: %d events could not be decoded", lag.Undecodable)
	}
	fmt.Fprintf(stdout, "rebuilt every view up to position %s in %s\n", lag.Position, took.Round(time.Millisecond))
	return nil
}
