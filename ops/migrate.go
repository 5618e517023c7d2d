package ops

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"waystation/eventstore/bolt"
	"waystation/eventstore/esdb"
)

// runMigrate copies an embedded store into an EventStoreDB / KurrentDB
// cluster in global order, keeping event IDs, so it can be rerun safely
// (events already copied are skipped). Personal values sealed in the
// embedded store are copied opened (or null when erased), since the
// cluster keeps none sealed (README, Privacy).
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "./data", "data folder of the embedded store to copy")
	to := fs.String("to", "", "connection string of the cluster (esdb://...), required")
	keyFile := fs.String("master-key-file", "", "the master key of the data folder's personal-data keys (or WAYSTATION_MASTER_KEY; default: the folder's generated master.key)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	if *to == "" {
		return fmt.Errorf("%w: migrate: --to esdb://... is required", ErrUsage)
	}
	if err := requireStore(*from); err != nil {
		return err
	}
	raw, err := bolt.Open(*from, bolt.Options{})
	if err != nil {
		return err
	}
	src, err := openedSource(raw, *from, os.Getenv("WAYSTATION_MASTER_KEY"), firstNonEmpty(*keyFile, os.Getenv("WAYSTATION_MASTER_KEY_FILE")))
	if err != nil {
		raw.Close()
		return err
	}
	defer src.Close()
	dst, err := esdb.Open(ctx, *to, esdb.Options{})
	if err != nil {
		return err
	}
	defer dst.Close()
	started := time.Now()
	n, err := esdb.Migrate(ctx, src, dst)
	if err != nil {
		return fmt.Errorf("migrate: after %d events: %w", n, err)
	}
	fmt.Fprintf(stdout, "migrated %d events from %s to %s in %s\n", n, *from, redactURL(*to), time.Since(started).Round(time.Millisecond))
	return nil
}
