package sealed_test

import (
	"strconv"
	"testing"

	"waystation/eventstore/esdb/esdbtest"
)

// BenchmarkStreamKeyCreate measures giving a new subject a key in the
// in-process cluster (claim its ID, write the key stream: two appends),
// which an intake on EventStoreDB pays once per case.
func BenchmarkStreamKeyCreate(b *testing.B) {
	keys := openStreamKeys(b, openESDB(b, esdbtest.Start(b)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := keys.SubjectKey("case-"+strconv.Itoa(i), true); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkStreamKeyFirstUseOnAnotherReplica measures a replica opening a
// key another replica made (read the ID's stream, then the subject's, then
// unwrap), which a rebuild pays once per case, and BenchmarkStreamKeyCached
// the same key once cached.
func BenchmarkStreamKeyFirstUseOnAnotherReplica(b *testing.B) {
	srv := esdbtest.Start(b)
	maker := openStreamKeys(b, openESDB(b, srv))
	const n = 512
	ids := make([]uint64, n)
	for i := range ids {
		var err error
		if ids[i], _, err = maker.SubjectKey("case-"+strconv.Itoa(i), true); err != nil {
			b.Fatal(err)
		}
	}
	inner := openESDB(b, srv)
	reader := openStreamKeys(b, inner)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == n {
			b.StopTimer()
			reader.Close()
			reader = openStreamKeys(b, inner)
			b.StartTimer()
			i = 0
		}
		if _, err := reader.KeyByID(ids[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkStreamKeyCached(b *testing.B) {
	keys := openStreamKeys(b, openESDB(b, esdbtest.Start(b)))
	id, _, err := keys.SubjectKey("case-1", true)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := keys.KeyByID(id); err != nil {
			b.Fatal(err)
		}
	}
}
