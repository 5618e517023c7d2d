package sealed_test

import (
	"bytes"
	"context"
	"crypto/cipher"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/eventstore/esdb"
	"waystation/eventstore/esdb/esdbtest"
	"waystation/eventstore/sealed"
	"waystation/eventstore/storetest"
)

// keyBackend opens a fresh store and a key store over it; the key store is
// closed when the test ends, the store too.
type keyBackend struct {
	name string
	open func(tb testing.TB) (sealed.Keys, eventstore.Store)
}

// keyBackends are the key stores every contract test runs against: the
// file, and the key streams on the embedded store and on the in-process
// EventStoreDB server.
var keyBackends = []keyBackend{
	{"file", func(tb testing.TB) (sealed.Keys, eventstore.Store) {
		tb.Helper()
		dir := tb.TempDir()
		inner := openBolt(tb, dir)
		ks, err := sealed.OpenKeyStore(dir, master)
		if err != nil {
			tb.Fatalf("open key store: %v", err)
		}
		tb.Cleanup(func() { ks.Close() })
		return ks, inner
	}},
	{"streams on bolt", func(tb testing.TB) (sealed.Keys, eventstore.Store) {
		tb.Helper()
		inner := openBolt(tb, tb.TempDir())
		return openStreamKeys(tb, inner), inner
	}},
	{"streams on esdb", func(tb testing.TB) (sealed.Keys, eventstore.Store) {
		tb.Helper()
		inner := openESDB(tb, esdbtest.Start(tb))
		return openStreamKeys(tb, inner), inner
	}},
}

func openBolt(tb testing.TB, dir string) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// openESDB connects a client (one replica's) to srv.
func openESDB(tb testing.TB, srv *esdbtest.Server) *esdb.Store {
	tb.Helper()
	s, err := esdb.Open(context.Background(), srv.URL(), esdb.Options{RetryInterval: 10 * time.Millisecond})
	if err != nil {
		tb.Fatalf("open esdb: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func openStreamKeys(tb testing.TB, inner eventstore.Store) *sealed.StreamKeys {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ks, err := sealed.OpenStreamKeys(ctx, inner, master)
	if err != nil {
		tb.Fatalf("open stream keys: %v", err)
	}
	tb.Cleanup(func() { ks.Close() })
	return ks
}

// sealedOver wraps inner with keys and the domain's policy. Closing the
// sealed store would close inner and keys, which their openers do.
func sealedOver(inner eventstore.Store, keys sealed.Keys) *sealed.Store {
	return sealed.New(inner, keys, domain.PersonalPaths, domain.DataSubject)
}

// sameKey reports whether a and b are the same data key: what one seals
// the other opens.
func sameKey(tb testing.TB, a, b cipher.AEAD) bool {
	tb.Helper()
	nonce := make([]byte, a.NonceSize())
	ct := a.Seal(nil, nonce, []byte("probe"), nil)
	_, err := b.Open(nil, nonce, ct, nil)
	return err == nil
}

// TestKeysContract runs what a sealed store relies on against every key
// store.
func TestKeysContract(t *testing.T) {
	for _, kb := range keyBackends {
		t.Run(kb.name, func(t *testing.T) {
			t.Run("values are sealed at rest and open on read", func(t *testing.T) {
				keys, inner := kb.open(t)
				s := sealedOver(inner, keys)
				id := uuid.New()
				if _, err := s.Append(context.Background(), domain.CaseStream(id), eventstore.NoStream, intake(t, id)); err != nil {
					t.Fatal(err)
				}
				for rec, err := range inner.ReadAll(context.Background(), eventstore.ReadAllOptions{}) {
					if err != nil {
						t.Fatal(err)
					}
					if bytes.Contains(rec.Data, []byte(name)) || bytes.Contains(rec.Data, []byte(idNumber)) {
						t.Errorf("stored event of %s holds personal data in clear", rec.Stream)
					}
				}
				if got := readCase(
					t, s, id,
				)[0].Event.(domain.IntakeRegistered); got.Person.Name != name || got.Person.IDNumber != idNumber {
					t.Errorf("read back name %q, ID number %q; want the ones written", got.Person.Name, got.Person.IDNumber)
				}
			})
			t.Run("a subject keeps one key, found by subject and by ID", func(t *testing.T) {
				keys, _ := kb.open(t)
				if _, _, err := keys.SubjectKey("case-a", false); !errors.Is(err, sealed.ErrNoKey) {
					t.Errorf("SubjectKey without create of a new subject: err = %v, want ErrNoKey", err)
				}
				if keys.Has("case-a") {
					t.Errorf("Has before a key was made = true")
				}
				id, k, err := keys.SubjectKey("case-a", true)
				if err != nil {
					t.Fatal(err)
				}
				id2, k2, err := keys.SubjectKey("case-a", false)
				if err != nil || id2 != id || !sameKey(t, k, k2) {
					t.Errorf("second SubjectKey: id %d (first %d), same key %v, err %v", id2, id, err == nil && sameKey(t, k, k2), err)
				}
				byID, err := keys.KeyByID(id)
				if err != nil || !sameKey(t, k, byID) {
					t.Errorf("KeyByID: err %v", err)
				}
				if !keys.Has("case-a") || keys.Erased("case-a") {
					t.Errorf("Has = %v, Erased = %v; want true, false", keys.Has("case-a"), keys.Erased("case-a"))
				}
				if _, err := keys.KeyByID(id ^ 1<<62); !errors.Is(err, sealed.ErrNoKey) {
					t.Errorf("KeyByID of a number never given: err = %v, want ErrNoKey", err)
				}
			})
			t.Run("concurrent creations give every subject its own key", func(t *testing.T) {
				keys, _ := kb.open(t)
				const n = 32
				ids := make([]uint64, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						id, _, err := keys.SubjectKey("case-"+uuid.NewString(), true)
						if err != nil {
							t.Error(err)
						}
						ids[i] = id
					})
				}
				wg.Wait()
				seen := map[uint64]bool{}
				for _, id := range ids {
					if seen[id] {
						t.Errorf("key ID %d given twice", id)
					}
					seen[id] = true
				}
			})
			t.Run("destroyed keys are gone and their subjects never get new ones", func(t *testing.T) {
				keys, _ := kb.open(t)
				id, _, err := keys.SubjectKey("case-gone", true)
				if err != nil {
					t.Fatal(err)
				}
				otherID, other, err := keys.SubjectKey("case-kept", true)
				if err != nil {
					t.Fatal(err)
				}
				if err := keys.Destroy([]string{"case-gone", "case-never-keyed"}); err != nil {
					t.Fatal(err)
				}
				if err := keys.Destroy([]string{"case-gone"}); err != nil {
					t.Errorf("destroying again: %v", err)
				}
				if _, err := keys.KeyByID(id); !errors.Is(err, sealed.ErrNoKey) {
					t.Errorf("KeyByID of a destroyed key: err = %v, want ErrNoKey", err)
				}
				for _, s := range []string{"case-gone", "case-never-keyed"} {
					if _, _, err := keys.SubjectKey(s, true); !errors.Is(err, sealed.ErrErased) {
						t.Errorf("SubjectKey(%s, create) after erasure: err = %v, want ErrErased", s, err)
					}
					if !keys.Erased(s) || keys.Has(s) {
						t.Errorf("%s: Erased = %v, Has = %v; want true, false", s, keys.Erased(s), keys.Has(s))
					}
				}
				if k, err := keys.KeyByID(otherID); err != nil || !sameKey(t, k, other) {
					t.Errorf("another subject's key after the erasure: err %v", err)
				}
			})
			t.Run("a subject the store cannot hold is refused", func(t *testing.T) {
				keys, _ := kb.open(t)
				for _, subj := range []string{"", "case-a b", "case-a\ne case-b"} {
					if _, _, err := keys.SubjectKey(subj, true); !errors.Is(err, eventstore.ErrInvalid) {
						t.Errorf("SubjectKey(%q) err = %v, want ErrInvalid", subj, err)
					}
					if err := keys.Destroy([]string{subj}); !errors.Is(err, eventstore.ErrInvalid) {
						t.Errorf("Destroy(%q) err = %v, want ErrInvalid", subj, err)
					}
				}
			})
			t.Run("erasure through the sealed store shows nulls and refuses new personal data", func(t *testing.T) {
				keys, inner := kb.open(t)
				s := sealedOver(inner, keys)
				ctx := context.Background()
				id, other := uuid.New(), uuid.New()
				for _, c := range []uuid.UUID{id, other} {
					if _, err := s.Append(ctx, domain.CaseStream(c), eventstore.NoStream, intake(t, c)); err != nil {
						t.Fatal(err)
					}
				}
				readCase(t, s, id) // the key is cached now
				if err := s.Erase(ctx, domain.CaseStream(id)); err != nil {
					t.Fatal(err)
				}
				if got := readCase(
					t, s, id,
				)[0].Event.(domain.IntakeRegistered); got.Person.Name != "" || got.Person.Sex != domain.Male {
					t.Errorf("erased case reads name %q, sex %q; want none, male", got.Person.Name, got.Person.Sex)
				}
				if got := readCase(t, s, other)[0].Event.(domain.IntakeRegistered); got.Person.Name != name {
					t.Errorf("another case reads name %q", got.Person.Name)
				}
				if _, err := s.Append(
					ctx, domain.CaseStream(id), eventstore.Any, intake(t, id),
				); !errors.Is(err, eventstore.ErrInvalid) {
					t.Errorf("personal data for an erased case: err = %v, want ErrInvalid", err)
				}
			})
			t.Run("closed", func(t *testing.T) {
				keys, _ := kb.open(t)
				if err := keys.Close(); err != nil {
					t.Fatal(err)
				}
				if _, _, err := keys.SubjectKey("case-a", true); !errors.Is(err, eventstore.ErrClosed) {
					t.Errorf("SubjectKey after Close: err = %v, want ErrClosed", err)
				}
				if _, err := keys.KeyByID(1); !errors.Is(err, eventstore.ErrClosed) {
					t.Errorf("KeyByID after Close: err = %v, want ErrClosed", err)
				}
			})
		})
	}
}

// TestContractWithStreamKeys runs the store contract through a sealed
// store whose keys live in the same store: the key streams it writes must
// not show in the global log, its head or its subscriptions.
func TestContractWithStreamKeys(t *testing.T) {
	for _, kb := range keyBackends[1:] {
		t.Run(kb.name, func(t *testing.T) {
			storetest.RunWith(t, func(tb testing.TB) eventstore.Store {
				keys, inner := kb.open(tb)
				return sealed.New(inner, keys,
					func(string, []byte) []string { return []string{"n"} },
					func(stream string) (string, bool) { return stream, true })
			}, storetest.Limits{
				EventIDsPerStream:               strings.Contains(kb.name, "esdb"),
				RetriesOnlyWhereTheyLand:        strings.Contains(kb.name, "esdb"),
				DeletedStreamsKeepTheirRevision: strings.Contains(kb.name, "esdb"),
				MaxAppendSize:                   esdbMaxAppendSize(kb.name),
			})
		})
	}
}

// esdbMaxAppendSize is the size limit of the contract on an esdb backend.
func esdbMaxAppendSize(backend string) int {
	if strings.Contains(backend, "esdb") {
		return esdb.DefaultMaxAppendSize
	}
	return 0
}
