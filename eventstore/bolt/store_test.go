package bolt_test

import (
	"testing"

	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/eventstore/storetest"
)

// openTemp opens a store in a fresh temporary folder, without fsync, and
// closes it when the test ends.
func openTemp(tb testing.TB) *bolt.Store {
	tb.Helper()
	return openAt(tb, tb.TempDir(), bolt.Options{NoSync: true})
}

func openAt(tb testing.TB, dir string, opts bolt.Options) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(dir, opts)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) eventstore.Store { return openTemp(tb) })
}

func TestCheckpoints(t *testing.T) {
	storetest.RunCheckpoints(t, func(tb testing.TB) eventstore.CheckpointStore { return openTemp(tb) })
}
