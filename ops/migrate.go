package ops

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"time"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/eventstore/esdb"
	"waystation/eventstore/sealed"
)

// runMigrate copies an embedded store into an EventStoreDB / KurrentDB
// cluster in global order, keeping event IDs, so it can be rerun safely
// (events already copied are skipped). Personal values sealed in the
// embedded store are read opened and sealed again under the cluster's own
// data keys (sealed.StreamKeys, wrapped by the master key the cluster's
// replicas are given), so the cluster never holds them in clear. People
// erased in the embedded store stay erased: their keys in the cluster are
// destroyed once the copy is done, and the cluster records the erasure.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "./data", "data folder of the embedded store to copy")
	to := fs.String("to", "", "connection string of the cluster (esdb://...), required")
	keyFile := fs.String("master-key-file", "", "the master key of the data folder's personal-data keys (or WAYSTATION_MASTER_KEY; default: the folder's generated master.key)")
	toKeyFile := fs.String("to-master-key-file", "", "the master key the cluster's replicas are given (default: the data folder's, when it was given with WAYSTATION_MASTER_KEY or --master-key-file)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	if *to == "" {
		return fmt.Errorf("%w: migrate: --to esdb://... is required", ErrUsage)
	}
	if err := requireStore(*from); err != nil {
		return err
	}
	envKey, fromKeyFile := os.Getenv("WAYSTATION_MASTER_KEY"), firstNonEmpty(*keyFile, os.Getenv("WAYSTATION_MASTER_KEY_FILE"))
	var clusterKey []byte
	var err error
	switch {
	case *toKeyFile != "":
		clusterKey, _, err = sealed.LoadMasterKey("", *toKeyFile, "")
	case envKey != "" || fromKeyFile != "":
		clusterKey, _, err = sealed.LoadMasterKey(envKey, fromKeyFile, "")
	default:
		return fmt.Errorf("%w: migrate: the cluster seals personal values with the master key its replicas are given: pass it with --to-master-key-file (the data folder's own generated key must not become the cluster's)", ErrUsage)
	}
	if err != nil {
		return fmt.Errorf("migrate: the cluster's master key: %w", err)
	}
	defer clear(clusterKey)

	raw, err := bolt.Open(*from, bolt.Options{})
	if err != nil {
		return err
	}
	src, err := openedSource(raw, *from, envKey, fromKeyFile)
	if err != nil {
		raw.Close()
		return err
	}
	defer src.Close()
	erased, err := erasedSubjects(ctx, src)
	if err != nil {
		return err
	}
	dst, err := esdb.Open(ctx, *to, esdb.Options{})
	if err != nil {
		return err
	}
	defer dst.Close()
	keys, err := sealed.OpenStreamKeys(ctx, dst, clusterKey)
	if err != nil {
		return fmt.Errorf("migrate: the cluster's data keys: %w", err)
	}
	defer keys.Close()
	seal := sealed.New(dst, keys, domain.PersonalPaths, domain.DataSubject)
	started := time.Now()
	// Every event is sealed, an erased person's too: an erasure whose key
	// destruction was interrupted in the folder still opens its values,
	// and the cluster must not receive them in clear. The keys of erased
	// people are destroyed right after the copy.
	n, err := esdb.Migrate(ctx, src, dst, esdb.MigrateOptions{Seal: seal.Seal})
	if err != nil {
		return fmt.Errorf("migrate: after %d events: %w", n, err)
	}
	if len(erased) > 0 {
		if err := keys.Destroy(slices.Sorted(maps.Keys(erased))); err != nil {
			return fmt.Errorf("migrate: recording the erasures in the cluster: %w", err)
		}
	}
	fmt.Fprintf(stdout, "migrated %d events from %s to %s in %s (%d people erased stay erased)\n", n, *from, redactURL(*to), time.Since(started).Round(time.Millisecond), len(erased))
	return nil
}

// erasedSubjects returns the data subjects (case streams) whose personal
// data was erased in store: those with an erasure event.
func erasedSubjects(ctx context.Context, store eventstore.Store) (map[string]bool, error) {
	erased := map[string]bool{}
	for e, err := range store.ReadAll(ctx, eventstore.ReadAllOptions{}) {
		if err != nil {
			return nil, fmt.Errorf("migrate: reading the source: %w", err)
		}
		if e.Type != domain.TypePersonalDataErased {
			continue
		}
		if subject, ok := domain.DataSubject(e.Stream); ok {
			erased[subject] = true
		}
	}
	return erased, nil
}
