package bolt_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/eventstore/storetest"
)

func TestOpenHeldStoreFailsAtOnce(t *testing.T) {
	dir := t.TempDir()
	openAt(t, dir, bolt.Options{NoSync: true})
	_, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if !errors.Is(err, eventstore.ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Fatalf("error %q does not name the folder %s", err, dir)
	}
}

func TestDataFolderIsPrivate(t *testing.T) {
	for _, existing := range []bool{false, true} {
		dir := filepath.Join(t.TempDir(), "data")
		if existing { // made by hand, readable by everyone
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		openAt(t, dir, bolt.Options{NoSync: true})
		want := map[string]os.FileMode{".": 0o700, bolt.DataFile: 0o600, "audit.key": 0o600}
		for name, mode := range want {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != mode {
				t.Errorf("folder existed before: %v: %s: mode %o, want %o", existing, name, got, mode)
			}
		}
	}
}

func TestReopenKeepsEventsAndContinuesPositions(t *testing.T) {
	dir := t.TempDir()
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Append(ctx, "case-1", eventstore.NoStream, storetest.Events("case.intake_registered", 3)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCheckpoint(ctx, "occupancy", first.Position); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = openAt(t, dir, bolt.Options{})
	next, err := s.Append(ctx, "case-1", eventstore.Exact(2), storetest.Event("case.note_added", 3))
	if err != nil {
		t.Fatalf("append after reopen: %v", err)
	}
	if next.Position != eventstore.At(4) || next.NextExpectedRevision != 3 {
		t.Fatalf("got %+v, want position 4, revision 3", next)
	}
	if p, ok, err := s.LoadCheckpoint(ctx, "occupancy"); err != nil || !ok || p != first.Position {
		t.Fatalf("checkpoint after reopen: %s %v %v, want %s", p, ok, err, first.Position)
	}
	if _, err := s.Verify(ctx); err != nil {
		t.Fatalf("verify after reopen: %v", err)
	}
}

func TestRecordedAtComesFromTheClock(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 30, 0, 0, time.FixedZone("CST", 8*3600))
	s := openAt(t, t.TempDir(), bolt.Options{NoSync: true, Now: func() time.Time { return at }})
	if _, err := s.Append(ctx, "case-1", eventstore.NoStream, storetest.Event("case.intake_registered", 0)); err != nil {
		t.Fatal(err)
	}
	got, err := storetest.Collect(s.ReadStream(ctx, "case-1", eventstore.ReadStreamOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if !got[0].RecordedAt.Equal(at) || got[0].RecordedAt.Location() != time.UTC {
		t.Fatalf("recorded at %v, want %v in UTC", got[0].RecordedAt, at)
	}
}

type batchCounter struct {
	mu              sync.Mutex
	events, batches int
}

func (b *batchCounter) ObserveBatch(events, requests int, fsync, total time.Duration) {
	b.mu.Lock()
	b.events += events
	b.batches++
	b.mu.Unlock()
}

func TestObserverHearsEveryEvent(t *testing.T) {
	obs := &batchCounter{}
	s := openAt(t, t.TempDir(), bolt.Options{NoSync: true, Observer: obs})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				if _, err := s.Append(
					ctx, "case-"+string(rune('a'+w)), eventstore.Any, storetest.Event("case.note_added", i),
				); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	s.Close()
	if obs.events != 200 || obs.batches == 0 || obs.batches > 200 {
		t.Fatalf("observer saw %d events in %d batches, want 200 events in 1..200 batches", obs.events, obs.batches)
	}
}

func TestBackupWhileAppendingRestoresAConsistentStore(t *testing.T) {
	s := openTemp(t)
	fill(t, s, 100)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.Append(ctx, "case-live", eventstore.Any, storetest.Event("case.note_added", i)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var buf bytes.Buffer
	n, err := s.Backup(ctx, &buf)
	close(stop)
	wg.Wait()
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("backup: %d bytes, %v; buffer holds %d", n, err, buf.Len())
	}
	file := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	occupied := t.TempDir()
	os.WriteFile(filepath.Join(occupied, "notes.txt"), []byte("x"), 0o600)
	if err := bolt.Restore(file, occupied, false); err == nil {
		t.Fatal("restore into a non-empty folder without force succeeded")
	}
	if err := bolt.Restore(file, s.Dir(), true); !errors.Is(err, eventstore.ErrLocked) {
		t.Fatalf("restore over a store in use: got %v, want ErrLocked", err)
	}

	dir := filepath.Join(t.TempDir(), "restored")
	if err := bolt.Restore(file, dir, false); err != nil {
		t.Fatalf("restore: %v", err)
	}
	r := openAt(t, dir, bolt.Options{NoSync: true})
	events, err := storetest.Collect(r.ReadAll(ctx, eventstore.ReadAllOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 100 {
		t.Fatalf("restored store holds %d events, want at least the 100 written before the backup", len(events))
	}
	for i, e := range events {
		if e.Position != eventstore.At(uint64(i+1)) {
			t.Fatalf("restored positions not dense: %s at index %d", e.Position, i)
		}
	}
	if _, err := r.Verify(ctx); err != nil {
		t.Fatalf("verify restored store (signed with a new key): %v", err)
	}
	if _, err := r.Append(ctx, "case-after", eventstore.NoStream, storetest.Event("case.note_added", 0)); err != nil {
		t.Fatalf("append to restored store: %v", err)
	}
	if _, err := r.Verify(ctx); err != nil {
		t.Fatalf("verify restored store after a new append: %v", err)
	}
}

func TestRestoreWithForceReplacesAClosedStore(t *testing.T) {
	src := openTemp(t)
	fill(t, src, 10)
	file := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Backup(ctx, f); err != nil {
		t.Fatal(err)
	}
	f.Close()

	dir := t.TempDir()
	old, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, old, 3)
	old.Close()
	if err := bolt.Restore(file, dir, false); err == nil {
		t.Fatal("restore over an existing store without force succeeded")
	}
	if err := bolt.Restore(file, dir, true); err != nil {
		t.Fatalf("restore with force: %v", err)
	}
	s := openAt(t, dir, bolt.Options{NoSync: true})
	if h, _ := s.Head(ctx); h != eventstore.At(10) {
		t.Fatalf("restored head %s, want the backup's 10", h)
	}
	if _, err := s.Verify(ctx); err != nil {
		t.Fatalf("verify: %v", err)
	}
}
