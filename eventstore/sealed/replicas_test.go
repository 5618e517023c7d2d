package sealed_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/esdb/esdbtest"
	"waystation/eventstore/sealed"
)

// replica is one Waystation replica's view of a cluster: its own client,
// key store and sealed store.
type replica struct {
	inner eventstore.Store
	keys  *sealed.StreamKeys
	store *sealed.Store
}

func newReplica(tb testing.TB, srv *esdbtest.Server) replica {
	tb.Helper()
	inner := openESDB(tb, srv)
	keys := openStreamKeys(tb, inner)
	return replica{inner, keys, sealedOver(inner, keys)}
}

// TestTwoReplicasShareKeysAndErasures: a case recorded on one replica reads
// with its personal values on another; an erasure on the first shows on the
// second once it has seen the erasure event, though it had the key cached;
// a replica started later reads it erased too; and the cluster never holds
// the values in clear.
func TestTwoReplicasShareKeysAndErasures(t *testing.T) {
	ctx := context.Background()
	srv := esdbtest.Start(t)
	a, b := newReplica(t, srv), newReplica(t, srv)
	id, other := uuid.New(), uuid.New()
	for _, c := range []uuid.UUID{id, other} {
		if _, err := a.store.Append(ctx, domain.CaseStream(c), eventstore.NoStream, intake(t, c)); err != nil {
			t.Fatal(err)
		}
	}
	if got := readCase(t, b.store, id)[0].Event.(domain.IntakeRegistered); got.Person.Name != name {
		t.Fatalf("replica B reads the name %q, want the one recorded on A", got.Person.Name)
	}

	for rec, err := range a.inner.ReadAll(ctx, eventstore.ReadAllOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{name, idNumber, "Li Si", "13800138000"} {
			if bytes.Contains(rec.Data, []byte(secret)) || bytes.Contains(rec.Metadata, []byte(secret)) {
				t.Errorf("the cluster stores %q in clear in %s", secret, rec.Stream)
			}
		}
	}

	if err := a.store.Erase(ctx, domain.CaseStream(id)); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := b.keys.WaitForErasure(wctx, domain.CaseStream(id)); err != nil {
		t.Fatalf("replica B never saw the erasure: %v", err)
	}
	for r, s := range map[string]*sealed.Store{"A": a.store, "B": b.store, "C (started after)": newReplica(t, srv).store} {
		if got := readCase(t, s, id)[0].Event.(domain.IntakeRegistered); got.Person.Name != "" || got.Person.IDNumber != "" {
			t.Errorf("replica %s reads the erased case's name %q, ID number %q", r, got.Person.Name, got.Person.IDNumber)
		}
		if got := readCase(t, s, other)[0].Event.(domain.IntakeRegistered); got.Person.Name != name {
			t.Errorf("replica %s reads another case's name %q", r, got.Person.Name)
		}
	}
	if _, err := b.store.Append(
		ctx, domain.CaseStream(id), eventstore.Any, intake(t, id),
	); !errors.Is(err, eventstore.ErrInvalid) {
		t.Errorf("replica B appending personal data to the case erased on A: err = %v, want ErrInvalid", err)
	}
}

// TestReplicasRacingToCreateAKeyAgree: two replicas asked at once for the
// keys of the same new subjects end with one key per subject, which both
// use.
func TestReplicasRacingToCreateAKeyAgree(t *testing.T) {
	srv := esdbtest.Start(t)
	a, b := newReplica(t, srv), newReplica(t, srv)
	const n = 16
	subjects := make([]string, n)
	for i := range subjects {
		subjects[i] = domain.CaseStream(uuid.New())
	}
	idsA, idsB := make([]uint64, n), make([]uint64, n)
	var wg sync.WaitGroup
	for _, r := range []struct {
		keys *sealed.StreamKeys
		ids  []uint64
	}{{a.keys, idsA}, {b.keys, idsB}} {
		for i, s := range subjects {
			wg.Go(func() {
				id, _, err := r.keys.SubjectKey(s, true)
				if err != nil {
					t.Error(err)
				}
				r.ids[i] = id
			})
		}
	}
	wg.Wait()
	for i, s := range subjects {
		if idsA[i] != idsB[i] {
			t.Errorf("subject %d: replica A uses key %d, replica B key %d", i, idsA[i], idsB[i])
		}
		ka, err := a.keys.KeyByID(idsA[i])
		if err != nil {
			t.Fatal(err)
		}
		_, kb, err := b.keys.SubjectKey(s, false)
		if err != nil || !sameKey(t, ka, kb) {
			t.Errorf("subject %d: the replicas hold different keys (err %v)", i, err)
		}
	}
}

// TestStreamKeysRefuseAnotherMasterKey: a replica given another master key
// than the one the cluster's keys were made with does not start.
func TestStreamKeysRefuseAnotherMasterKey(t *testing.T) {
	srv := esdbtest.Start(t)
	newReplica(t, srv)
	_, err := sealed.OpenStreamKeys(context.Background(), openESDB(t, srv), bytes.Repeat([]byte{9}, 32))
	if !errors.Is(err, sealed.ErrMasterKey) {
		t.Errorf("another master key: err = %v, want ErrMasterKey", err)
	}
}

// TestAnErasureInterruptedBeforeItsAnnouncementIsAnnouncedAgain: an erasure
// that stopped after tombstoning the key but before announcing it (a crash,
// or a failed append) does not count as done: the next Erased call, as the
// retention job makes, announces it, and a replica that held the key in
// its cache stops opening the person's values.
func TestAnErasureInterruptedBeforeItsAnnouncementIsAnnouncedAgain(t *testing.T) {
	ctx := context.Background()
	srv := esdbtest.Start(t)
	a, b := newReplica(t, srv), newReplica(t, srv)
	id := uuid.New()
	if _, err := a.store.Append(ctx, domain.CaseStream(id), eventstore.NoStream, intake(t, id)); err != nil {
		t.Fatal(err)
	}
	if got := readCase(t, b.store, id)[0].Event.(domain.IntakeRegistered); got.Person.Name == "" {
		t.Fatal("replica B cannot read the case before the erasure")
	}
	// Given the first half of Destroy only: the key stream tombstoned.
	if err := a.inner.Tombstone(ctx, sealed.KeyStreamPrefix+"-"+domain.CaseStream(id), eventstore.Any); err != nil {
		t.Fatal(err)
	}
	// When the retention job asks whether the erasure is done,
	if !a.keys.Erased(domain.CaseStream(id)) {
		t.Fatal("Erased reports false with the key tombstoned and the announcement sent")
	}
	// then the erasure is announced, and replica B drops its cached key.
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := b.keys.WaitForErasure(wctx, domain.CaseStream(id)); err != nil {
		t.Fatalf("replica B never heard of the erasure: %v", err)
	}
	if got := readCase(t, b.store, id)[0].Event.(domain.IntakeRegistered); got.Person.Name != "" {
		t.Errorf("replica B still reads the erased person's name %q", got.Person.Name)
	}
}
