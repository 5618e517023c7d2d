package sealed_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/eventstore/sealed"
	"waystation/eventstore/storetest"
)

var master = bytes.Repeat([]byte{7}, 32)

// openSealed opens a bolt store (no fsync) in dir wrapped by a sealed store
// with the domain's policy, and closes it when the test ends.
func openSealed(tb testing.TB, dir string) *sealed.Store {
	tb.Helper()
	inner, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	ks, err := sealed.OpenKeyStore(dir, master)
	if err != nil {
		inner.Close()
		tb.Fatalf("open key store: %v", err)
	}
	s := sealed.New(inner, ks, domain.PersonalPaths, domain.DataSubject)
	tb.Cleanup(func() { s.Close() })
	return s
}

// TestContract runs the store contract through a sealed store that seals
// the "n" value of every event of every stream: what comes out must be
// byte for byte what went in.
func TestContract(t *testing.T) {
	storetest.Run(t, func(tb testing.TB) eventstore.Store {
		dir := tb.TempDir()
		inner, err := bolt.Open(dir, bolt.Options{NoSync: true})
		if err != nil {
			tb.Fatalf("open store: %v", err)
		}
		ks, err := sealed.OpenKeyStore(dir, master)
		if err != nil {
			tb.Fatalf("open key store: %v", err)
		}
		s := sealed.New(inner, ks,
			func(string, []byte) []string { return []string{"n"} },
			func(stream string) (string, bool) { return stream, true })
		tb.Cleanup(func() { s.Close() })
		return s
	})
}

const (
	name     = "Zhang Sanfeng"
	idNumber = "11010519491231002X"
)

func intake(tb testing.TB, id uuid.UUID) eventstore.EventData {
	tb.Helper()
	ev := domain.IntakeRegistered{
		CaseID: id, Station: "S01", Referral: domain.Referral{
			Source: domain.ReferralSource("police_escort"), FoundAt: "under the Jiefang bridge",
		},
		Person: domain.Person{Name: name, Sex: domain.Male, IDNumber: idNumber, HukouPlace: "Xicheng, Beijing",
			Contacts: []domain.Contact{{Name: "Li Si", Phone: "13800138000"}}},
		Inspection: domain.Inspection{Injuries: true, Notes: "cut on left hand"},
		Notes:      `quotes "ws1:not-sealed" and \ backslash`,
	}
	d, err := domain.Encode(
		uuid.New(), ev,
		domain.Metadata{OccurredAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Actor: "t1", Role: domain.RoleStaff},
	)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func readCase(tb testing.TB, s eventstore.Store, id uuid.UUID) []domain.Envelope {
	tb.Helper()
	var out []domain.Envelope
	for rec, err := range s.ReadStream(context.Background(), domain.CaseStream(id), eventstore.ReadStreamOptions{}) {
		if err != nil {
			tb.Fatalf("read: %v", err)
		}
		env, err := domain.Decode(rec)
		if err != nil {
			tb.Fatalf("decode: %v", err)
		}
		out = append(out, env)
	}
	return out
}

func TestPersonalValuesAreSealedAtRestAndOpenOnRead(t *testing.T) {
	dir := t.TempDir()
	s := openSealed(t, dir)
	id := uuid.New()
	ev := intake(t, id)
	if _, err := s.Append(context.Background(), domain.CaseStream(id), eventstore.NoStream, ev); err != nil {
		t.Fatal(err)
	}
	// At rest: neither the name, the ID number, the place, the contact nor
	// the inspection (its flags and notes) is in the stored bytes; sex stays
	// in clear.
	var raw []byte
	for rec, err := range s.Inner().ReadStream(
		context.Background(), domain.CaseStream(id), eventstore.ReadStreamOptions{},
	) {
		if err != nil {
			t.Fatal(err)
		}
		raw = rec.Data
	}
	for _, secret := range []string{
		name, idNumber, "Xicheng", "Li Si", "13800138000", "Jiefang", "cut on left hand", "injuries",
	} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("stored data holds %q in clear: %s", secret, raw)
		}
	}
	if !bytes.Contains(raw, []byte(`"sex":"male"`)) || !bytes.Contains(raw, []byte(`"source":"police_escort"`)) {
		t.Errorf("stored data lost its clear statistical values: %s", raw)
	}
	if !json.Valid(raw) {
		t.Errorf("stored data is not JSON: %s", raw)
	}
	// Read through the sealed store: the event decodes to what was written.
	got := readCase(t, s, id)[0].Event.(domain.IntakeRegistered)
	want, _ := domain.Decode(eventstore.RecordedEvent{Type: ev.Type, Data: ev.Data, Metadata: ev.Metadata})
	if g, w := mustJSON(t, got), mustJSON(t, want.Event); g != w {
		t.Errorf("round trip:\n got %s\nwant %s", g, w)
	}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestEraseShowsNullsEverywhereAndLeavesNoKeyInTheFile(t *testing.T) {
	dir := t.TempDir()
	s := openSealed(t, dir)
	ctx := context.Background()
	id, other := uuid.New(), uuid.New()
	for _, c := range []uuid.UUID{id, other} {
		if _, err := s.Append(ctx, domain.CaseStream(c), eventstore.NoStream, intake(t, c)); err != nil {
			t.Fatal(err)
		}
	}
	keysBefore, err := sealed.DataKeys(filepath.Join(dir, sealed.KeyFile), master)
	if err != nil {
		t.Fatal(err)
	}
	erasedKey := keysBefore[domain.CaseStream(id)]
	if len(erasedKey) != 32 {
		t.Fatalf("no data key for the case before erasure")
	}
	// A subscription that has already opened the key must see the erasure too.
	if err := s.Erase(ctx, domain.CaseStream(id)); err != nil {
		t.Fatal(err)
	}

	t.Run("reads show the personal values as erased, the clear ones unchanged", func(t *testing.T) {
		got := readCase(t, s, id)[0].Event.(domain.IntakeRegistered)
		if got.Person.Name != "" || got.Person.IDNumber != "" || got.Person.HukouPlace != "" || got.Person.Contacts != nil ||
			got.Referral.FoundAt != "" || got.Inspection != (domain.Inspection{}) || got.Notes != "" {
			t.Errorf("erased case still shows personal values: %+v", got)
		}
		if got.Person.Sex != domain.Male || got.Referral.Source != "police_escort" || got.CaseID != id {
			t.Errorf("erased case lost its clear values: %+v", got)
		}
		if o := readCase(t, s, other)[0].Event.(domain.IntakeRegistered); o.Person.Name != name {
			t.Errorf("another case's name = %q, want it intact", o.Person.Name)
		}
	})
	t.Run("the global log and subscriptions show them erased", func(t *testing.T) {
		for rec, err := range s.ReadAll(ctx, eventstore.ReadAllOptions{}) {
			if err != nil {
				t.Fatal(err)
			}
			if rec.Stream == domain.CaseStream(id) && (bytes.Contains(rec.Data, []byte(name)) || !bytes.Contains(
				rec.Data, []byte(`"name":null`),
			)) {
				t.Errorf("read all: %s", rec.Data)
			}
		}
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		for m, err := range s.SubscribeToAll(sctx, eventstore.Start) {
			if err != nil {
				t.Fatal(err)
			}
			if m.CaughtUp {
				break
			}
			if m.Event.Stream == domain.CaseStream(id) && bytes.Contains(m.Event.Data, []byte(name)) {
				t.Errorf("subscription shows the erased name")
			}
		}
	})
	t.Run("the key is gone from the file, the other key stays", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(dir, sealed.KeyFile))
		if err != nil {
			t.Fatal(err)
		}
		keys, err := sealed.DataKeys(filepath.Join(dir, sealed.KeyFile), master)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := keys[domain.CaseStream(id)]; ok {
			t.Errorf("the erased case's key is still in the key file")
		}
		if !bytes.Equal(keys[domain.CaseStream(other)], keysBefore[domain.CaseStream(other)]) {
			t.Errorf("the other case's key changed or went")
		}
		if bytes.Contains(b, erasedKey) {
			t.Errorf("the raw key bytes are in the key file")
		}
	})
	t.Run("the erasure survives a restart and refuses new personal data", func(t *testing.T) {
		s.Close()
		s2 := openSealed(t, dir)
		if got := readCase(t, s2, id)[0].Event.(domain.IntakeRegistered); got.Person.Name != "" {
			t.Errorf("after restart the name is back: %q", got.Person.Name)
		}
		if got := readCase(t, s2, other)[0].Event.(domain.IntakeRegistered); got.Person.Name != name {
			t.Errorf("after restart another case's name = %q", got.Person.Name)
		}
		_, err := s2.Append(ctx, domain.CaseStream(id), eventstore.Any, intake(t, id))
		if !errors.Is(err, eventstore.ErrInvalid) {
			t.Errorf("appending personal data to an erased case: err = %v, want ErrInvalid", err)
		}
	})
}

func TestTamperedSealedValueIsAnError(t *testing.T) {
	dir := t.TempDir()
	s := openSealed(t, dir)
	ctx := context.Background()
	id := uuid.New()
	ev := intake(t, id)
	sealedEv, err := s.Seal(domain.CaseStream(id), ev)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(sealedEv.Data, []byte(`"ws1:`)) + 10
	sealedEv.Data[i] ^= 1
	if _, err := s.Inner().Append(ctx, domain.CaseStream(id), eventstore.NoStream, sealedEv); err != nil {
		t.Fatal(err)
	}
	failed := false
	for _, err := range s.ReadStream(ctx, domain.CaseStream(id), eventstore.ReadStreamOptions{}) {
		if err == nil {
			t.Errorf("a changed sealed value opened without error")
		}
		failed = true
	}
	if !failed {
		t.Errorf("reading the changed event yielded nothing, want an error")
	}
}

func TestKeyStore(t *testing.T) {
	t.Run("a wrong master key is refused", func(t *testing.T) {
		dir := t.TempDir()
		ks, err := sealed.OpenKeyStore(dir, master)
		if err != nil {
			t.Fatal(err)
		}
		ks.Close()
		if _, err := sealed.OpenKeyStore(dir, bytes.Repeat([]byte{8}, 32)); !errors.Is(err, sealed.ErrMasterKey) {
			t.Errorf("err = %v, want ErrMasterKey", err)
		}
	})
	t.Run("concurrent creations are all durable", func(t *testing.T) {
		dir := t.TempDir()
		ks, err := sealed.OpenKeyStore(dir, master)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, _, err := ks.SubjectKey("case-"+strings.Repeat("x", i%8)+uuid.NewString(), true); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		ks.Close()
		keys, err := sealed.DataKeys(filepath.Join(dir, sealed.KeyFile), master)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 64 {
			t.Errorf("key file holds %d keys, want 64", len(keys))
		}
	})
	t.Run("a key whose assignment line was lost is still destroyed with its subject", func(t *testing.T) {
		dir := t.TempDir()
		s := openSealed(t, dir)
		ctx := context.Background()
		id := uuid.New()
		if _, err := s.Append(ctx, domain.CaseStream(id), eventstore.NoStream, intake(t, id)); err != nil {
			t.Fatal(err)
		}
		s.Close()
		// Simulate a crash that lost the line giving the key to the case.
		file := filepath.Join(dir, sealed.KeyFile)
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for _, line := range strings.Split(string(b), "\n") {
			if !strings.HasPrefix(line, "a ") {
				kept = append(kept, line)
			}
		}
		if err := os.WriteFile(file, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
			t.Fatal(err)
		}
		s2 := openSealed(t, dir)
		if got := readCase(t, s2, id)[0].Event.(domain.IntakeRegistered); got.Person.Name != name {
			t.Fatalf("after losing the assignment the case reads %q, want it readable", got.Person.Name)
		}
		if err := s2.Erase(ctx, domain.CaseStream(id)); err != nil {
			t.Fatal(err)
		}
		if got := readCase(t, s2, id)[0].Event.(domain.IntakeRegistered); got.Person.Name != "" {
			t.Errorf("after erasure the name reads %q", got.Person.Name)
		}
		after, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(after), "\nk "); n != 0 {
			t.Errorf("the key file still holds %d keys after the only used one was destroyed and the unused ones dropped", n)
		}
	})
	t.Run("a subject the key file cannot hold is refused", func(t *testing.T) {
		dir := t.TempDir()
		ks, err := sealed.OpenKeyStore(dir, master)
		if err != nil {
			t.Fatal(err)
		}
		for _, subj := range []string{"", "case-a b", "case-a\ne case-b"} {
			if _, _, err := ks.SubjectKey(subj, true); !errors.Is(err, eventstore.ErrInvalid) {
				t.Errorf("SubjectKey(%q) err = %v, want ErrInvalid", subj, err)
			}
			if err := ks.Destroy([]string{subj}); !errors.Is(err, eventstore.ErrInvalid) {
				t.Errorf("Destroy(%q) err = %v, want ErrInvalid", subj, err)
			}
		}
		if err := ks.Close(); err != nil {
			t.Fatal(err)
		}
		keys, err := sealed.DataKeys(filepath.Join(dir, sealed.KeyFile), master)
		if err != nil || len(keys) != 0 {
			t.Errorf("key file after refusals: %d keys, %v; want none", len(keys), err)
		}
	})
	t.Run("master keys parse from base64 and hex, never echoing the input", func(t *testing.T) {
		for _, in := range []string{"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=", strings.Repeat("07", 32)} {
			k, err := sealed.ParseMasterKey(in)
			if err != nil || !bytes.Equal(k, master) {
				t.Errorf("ParseMasterKey(%q) = %x, %v", in, k, err)
			}
		}
		_, err := sealed.ParseMasterKey("secret-but-short")
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("err = %v, want an error that does not repeat the input", err)
		}
	})
	t.Run("a generated master key is reused", func(t *testing.T) {
		dir := t.TempDir()
		k1, gen1, err := sealed.LoadMasterKey("", "", dir)
		if err != nil || !gen1 {
			t.Fatalf("first load: generated=%v err=%v", gen1, err)
		}
		k2, gen2, err := sealed.LoadMasterKey("", "", dir)
		if err != nil || gen2 || !bytes.Equal(k1, k2) {
			t.Errorf("second load: generated=%v same=%v err=%v", gen2, bytes.Equal(k1, k2), err)
		}
		if fi, err := os.Stat(filepath.Join(dir, sealed.MasterKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("master key file mode: %v %v", fi.Mode(), err)
		}
	})
}

// TestOpenAndReadAllAgree: ReadAll (which opens over the bytes it read)
// yields what Open yields for every event, and Open leaves the event it is
// given as it was.
func TestOpenAndReadAllAgree(t *testing.T) {
	ctx := context.Background()
	s := openSealed(t, t.TempDir())
	ids := make([]uuid.UUID, 600) // more than one page of the bolt store
	for i := range ids {
		ids[i] = uuid.New()
		if _, err := s.Append(ctx, domain.CaseStream(ids[i]), eventstore.NoStream, intake(t, ids[i])); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
	if err := s.Erase(ctx, domain.CaseStream(ids[3])); err != nil {
		t.Fatalf("erase: %v", err)
	}
	var stored []eventstore.RecordedEvent
	for rec, err := range s.Inner().ReadAll(ctx, eventstore.ReadAllOptions{}) {
		if err != nil {
			t.Fatalf("read sealed: %v", err)
		}
		stored = append(stored, rec)
	}
	n := 0
	for rec, err := range s.ReadAll(ctx, eventstore.ReadAllOptions{}) {
		if err != nil {
			t.Fatalf("read all: %v", err)
		}
		before := bytes.Clone(stored[n].Data)
		opened, err := s.Open(stored[n])
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		if !bytes.Equal(stored[n].Data, before) {
			t.Fatalf("Open changed the event it was given")
		}
		if !bytes.Equal(opened.Data, rec.Data) {
			t.Fatalf("event %d: ReadAll gave\n%s\nOpen gave\n%s", n, rec.Data, opened.Data)
		}
		if bytes.Contains(rec.Data, []byte(`"ws1:`)) {
			t.Fatalf("event %d still sealed: %s", n, rec.Data)
		}
		wantName := strings.Contains(string(rec.Data), name)
		if erased := rec.Stream == domain.CaseStream(ids[3]); wantName == erased {
			t.Fatalf("event %d of %s (erased %v): name shown %v", n, rec.Stream, erased, wantName)
		}
		n++
	}
	if n != len(ids) {
		t.Fatalf("ReadAll gave %d events, want %d", n, len(ids))
	}
}

// TestAppendAfterErasure: once a case's key is destroyed, an event that
// would carry a personal value is refused as invalid, and one whose
// personal values are all absent is stored as it is.
func TestAppendAfterErasure(t *testing.T) {
	ctx := context.Background()
	s := openSealed(t, t.TempDir())
	id := uuid.New()
	stream := domain.CaseStream(id)
	if _, err := s.Append(ctx, stream, eventstore.NoStream, intake(t, id)); err != nil {
		t.Fatalf("append: %v", err)
	}
	if err := s.Erase(ctx, stream); err != nil {
		t.Fatalf("erase: %v", err)
	}
	returned := func(data string) eventstore.EventData {
		return eventstore.EventData{
			ID: uuid.New(), Type: domain.TypeBelongingsReturned, Data: []byte(data), Metadata: []byte(`{}`),
		}
	}
	_, err := s.Append(ctx, stream, eventstore.Any, returned(`{"items":["phone"],"notes":"given back at the gate"}`))
	if !errors.Is(err, eventstore.ErrInvalid) {
		t.Fatalf("appending notes after erasure: err = %v, want ErrInvalid", err)
	}
	plain := `{"items":["phone"]}`
	if _, err := s.Append(ctx, stream, eventstore.Any, returned(plain)); err != nil {
		t.Fatalf("appending an event without personal values after erasure: %v", err)
	}
	var last []byte
	for rec, err := range s.ReadStream(ctx, stream, eventstore.ReadStreamOptions{}) {
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		last = rec.Data
	}
	if string(last) != plain {
		t.Fatalf("last event reads %s, want %s", last, plain)
	}
}
