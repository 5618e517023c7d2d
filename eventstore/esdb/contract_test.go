package esdb_test

import (
	"context"
	"os"
	"testing"

	"waystation/eventstore"
	"waystation/eventstore/esdb"
	"waystation/eventstore/storetest"
)

// clusterLimits is what EventStoreDB cannot promise: it keeps no event-ID
// index, so reusing an event ID in another stream is written, and the
// adapter looks for a retry's IDs only where the retry lands (esdb.Append),
// so that an append does not read the whole stream.
var clusterLimits = storetest.Limits{
	EventIDsPerStream: true, RetriesOnlyWhereTheyLand: true, DeletedStreamsKeepTheirRevision: true,
	MaxAppendSize: esdb.DefaultMaxAppendSize,
}

// TestContract runs the contract suite against the adapter over the
// in-process gRPC server (one fresh node per store the suite opens).
func TestContract(t *testing.T) {
	storetest.RunWith(t, func(tb testing.TB) eventstore.Store {
		st, _ := open(tb)
		return st
	}, clusterLimits)
}

// TestContractOnARealServer runs the same suite against the server named
// by WAYSTATION_ESDB_URL, for example a local
//
//	docker run --rm -p 2113:2113 <the upstream KurrentDB image> --insecure --mem-db
//
// with WAYSTATION_ESDB_URL='esdb://localhost:2113?tls=false'. The suite
// writes only to streams with a prefix unique to the run.
func TestContractOnARealServer(t *testing.T) {
	url := os.Getenv("WAYSTATION_ESDB_URL")
	if url == "" {
		t.Skip("WAYSTATION_ESDB_URL is not set: skipping the contract suite against a real " +
			"EventStoreDB / KurrentDB server (see eventstore/esdb/README.md)")
	}
	open := func(tb testing.TB) *esdb.Store {
		tb.Helper()
		st, err := esdb.Open(context.Background(), url, esdb.Options{})
		if err != nil {
			tb.Fatalf("open %s: %v", "WAYSTATION_ESDB_URL", err)
		}
		tb.Cleanup(func() { _ = st.Close() })
		return st
	}
	limits := clusterLimits
	limits.MaxAppendSize = open(t).MaxAppendSize() // the maxAppendSize parameter, else the server's default
	storetest.RunWith(t, func(tb testing.TB) eventstore.Store { return open(tb) }, limits)
}

// TestCheckpointContract runs the checkpoint part of the suite against the
// per-replica checkpoint files.
func TestCheckpointContract(t *testing.T) {
	storetest.RunCheckpoints(t, func(tb testing.TB) eventstore.CheckpointStore {
		tb.Helper()
		c, err := esdb.OpenCheckpoints(tb.TempDir())
		if err != nil {
			tb.Fatal(err)
		}
		return c
	})
}
