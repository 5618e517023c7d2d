package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/eventstore"
	"waystation/eventstore/audit"
)

// bundleCase is the case of the bundles these tests make.
var bundleCase = uuid.MustParse("01940000-0000-7000-8000-0000000000c1")

// caseStream names a case's stream as the domain does.
func caseStream(id uuid.UUID) string { return "case-" + id.String() }

// bundleLog is an in-memory log of case and station events, its stored
// tree and a signed head over the first signed events.
type bundleLog struct {
	dir    string
	events []eventstore.RecordedEvent
	tree   memoryTree
	head   audit.SignedTreeHead
	signer *audit.Signer
}

// newBundleLog returns a log of caseEvents events of bundleCase's stream,
// each followed by one station event, with a head signed over the first
// signed of them, and a signing key in a temporary folder.
func newBundleLog(tb testing.TB, caseEvents, signed int) *bundleLog {
	tb.Helper()
	l := &bundleLog{dir: tb.TempDir()}
	var err error
	if l.signer, err = audit.LoadOrCreateSigner(l.dir); err != nil {
		tb.Fatal(err)
	}
	for i := range caseEvents {
		for _, stream := range []string{caseStream(bundleCase), "station-S01"} {
			rev := uint64(i)
			n := len(l.events)
			rec := eventstore.RecordedEvent{
				ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte{byte(n)}), Stream: stream, Revision: rev,
				Position: eventstore.At(uint64(n + 1)), Type: "case.note_added",
				Data: []byte(`{"n":` + string(rune('0'+n%10)) + `}`), Metadata: []byte(`{}`),
				RecordedAt: time.Unix(1700000000, int64(n)).UTC(),
			}
			hs, err := audit.StoredHashes(int64(n), audit.LeafOf(rec), &l.tree)
			if err != nil {
				tb.Fatal(err)
			}
			l.tree = append(l.tree, hs...)
			l.events = append(l.events, rec)
		}
	}
	root, err := audit.TreeHash(int64(signed), &l.tree)
	if err != nil {
		tb.Fatal(err)
	}
	if l.head, err = l.signer.Sign(tlog.Tree{N: int64(signed), Hash: root}); err != nil {
		tb.Fatal(err)
	}
	return l
}

// source proves l's events from its stored tree and opens them as stored.
func (l *bundleLog) source() audit.BundleSource {
	return audit.BundleSource{
		LeafIndex: func(_ context.Context, pos eventstore.Position) (int64, error) {
			return int64(pos.Commit) - 1, nil
		},
		Proof: func(_ context.Context, pos eventstore.Position, size int64) (tlog.RecordProof, error) {
			return audit.InclusionProof(size, int64(pos.Commit)-1, &l.tree)
		},
		Open: func(rec eventstore.RecordedEvent) ([]byte, error) { return rec.Data, nil },
	}
}

// signedBundle returns l's bundle of bundleCase, signed, as JSON.
func (l *bundleLog) signedBundle(tb testing.TB) []byte {
	tb.Helper()
	events := append([]eventstore.RecordedEvent(nil), l.events...)
	b, err := audit.NewBundle(context.Background(), bundleCase, time.Unix(1700000100, 0),
		l.head, l.signer.VerifierKey(), events, l.source())
	if err != nil {
		tb.Fatal(err)
	}
	if err := b.Sign(l.dir); err != nil {
		tb.Fatal(err)
	}
	j, err := json.Marshal(b)
	if err != nil {
		tb.Fatal(err)
	}
	return j
}

func TestNewBundleProvesTheEventsTheHeadCovers(t *testing.T) {
	l := newBundleLog(t, 4, 7) // 8 events, the last committed after the head
	events := append([]eventstore.RecordedEvent(nil), l.events...)
	events[0], events[5] = events[5], events[0]
	src := l.source()
	src.Open = func(rec eventstore.RecordedEvent) ([]byte, error) {
		if rec.Position.Commit == 2 {
			return []byte("not json"), nil
		}
		return rec.Data, nil
	}
	b, err := audit.NewBundle(context.Background(), bundleCase, time.Unix(1700000100, 0),
		l.head, l.signer.VerifierKey(), events, src)
	if err != nil {
		t.Fatal(err)
	}
	if b.Format != audit.BundleFormat || b.CaseID != bundleCase || b.TreeHead.Size != 7 {
		t.Errorf("got format %q, case %s, tree size %d; want %q, %s, 7",
			b.Format, b.CaseID, b.TreeHead.Size, audit.BundleFormat, bundleCase)
	}
	if len(b.Events) != 7 || len(b.Opened) != 7 {
		t.Fatalf("got %d events and %d opened, want the 7 the head covers", len(b.Events), len(b.Opened))
	}
	for i, ev := range b.Events {
		if ev.Index != int64(i) || ev.Position != eventstore.At(uint64(i+1)).String() {
			t.Errorf("event %d: leaf %d at %s, want leaf %d in log order", i, ev.Index, ev.Position, i)
		}
	}
	if got := string(b.Opened[1].Data); got != "null" {
		t.Errorf("an event that opens as no JSON shows %s, want null", got)
	}
	if b.Signature != "" {
		t.Errorf("NewBundle signed the bundle: %q", b.Signature)
	}
}

func TestNewBundleReturnsTheSourcesErrors(t *testing.T) {
	l := newBundleLog(t, 2, 4)
	boom := errors.New("boom")
	for name, change := range map[string]func(*audit.BundleSource){
		"leaf index": func(s *audit.BundleSource) {
			s.LeafIndex = func(context.Context, eventstore.Position) (int64, error) { return 0, boom }
		},
		"proof": func(s *audit.BundleSource) {
			s.Proof = func(context.Context, eventstore.Position, int64) (tlog.RecordProof, error) { return nil, boom }
		},
		"open": func(s *audit.BundleSource) {
			s.Open = func(eventstore.RecordedEvent) ([]byte, error) { return nil, boom }
		},
	} {
		t.Run(name, func(t *testing.T) {
			src := l.source()
			change(&src)
			_, err := audit.NewBundle(context.Background(), bundleCase, time.Now(), l.head, "", l.events, src)
			if err != boom {
				t.Errorf("got %v, want the source's own error", err)
			}
		})
	}
}

func TestVerifyBundleReportsTheCaseByVersion(t *testing.T) {
	l := newBundleLog(t, 3, 6)
	b := l.signedBundle(t)
	rep, err := audit.VerifyBundle(b, l.signer.VerifierKey(), caseStream)
	if err != nil {
		t.Fatal(err)
	}
	want := audit.BundleReport{CaseID: bundleCase, TreeSize: 6, Events: 6, CaseEvent: 3,
		FirstVersion: 1, LastVersion: 3, KeyPinned: true}
	if rep != want {
		t.Errorf("got %+v, want %+v", rep, want)
	}
	rep, err = audit.VerifyBundle(b, "", caseStream)
	if err != nil || rep.KeyPinned {
		t.Errorf("with the bundle's own key: %+v, %v; want verified, not pinned", rep, err)
	}
}

func TestVerifyBundleRefusesChanges(t *testing.T) {
	l := newBundleLog(t, 3, 6)
	b := l.signedBundle(t)
	other := newBundleLog(t, 1, 2)
	var indented bytes.Buffer
	if err := json.Indent(&indented, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.VerifyBundle(indented.Bytes(), l.signer.VerifierKey(), caseStream); err != nil {
		t.Errorf("the bundle indented does not verify: %v", err)
	}
	firstEvent := bytes.Index(b, []byte(`{"leaf_index"`)) + 1
	for _, tt := range []struct {
		name string
		key  string
		b    []byte
	}{
		{"another station's key", other.signer.VerifierKey(), b},
		{"a member named twice", l.signer.VerifierKey(),
			append(append(bytes.Clone(b[:firstEvent]), `"type":"case.forged",`...), b[firstEvent:]...)},
		{"a changed display value", l.signer.VerifierKey(),
			bytes.Replace(b, []byte(`"data":{"n":1}`), []byte(`"data":{"n":9}`), 1)},
		{"an unknown member", l.signer.VerifierKey(), append([]byte(`{"extra":1,`), b[1:]...)},
		{"another format", l.signer.VerifierKey(),
			bytes.Replace(b, []byte(audit.BundleFormat), []byte("waystation-export/v0"), 1)},
		{"not JSON", l.signer.VerifierKey(), b[:len(b)/2]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if bytes.Equal(tt.b, b) && tt.key == l.signer.VerifierKey() {
				t.Fatal("the case changes nothing")
			}
			if _, err := audit.VerifyBundle(tt.b, tt.key, caseStream); !errors.Is(err, audit.ErrBundleInvalid) {
				t.Errorf("got %v, want ErrBundleInvalid", err)
			}
		})
	}
}

func TestVerifyBundleRefusesACaseWithAGap(t *testing.T) {
	l := newBundleLog(t, 3, 6)
	l.events = append(l.events[:2:2], l.events[3:]...) // the case's version 2 left out, re-signed
	rep, err := audit.VerifyBundle(l.signedBundle(t), l.signer.VerifierKey(), caseStream)
	want := "the case's version 1 is followed by version 3, not 2"
	if !errors.Is(err, audit.ErrBundleInvalid) || !strings.Contains(err.Error(), want) {
		t.Errorf("got %+v, %v; want ErrBundleInvalid saying %q", rep, err, want)
	}
}

func TestBundleSignNeedsTheFoldersKey(t *testing.T) {
	var b audit.Bundle
	if err := b.Sign(t.TempDir()); err == nil {
		t.Error("Sign in a folder with no signing key: no error")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, audit.KeyFile), []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.Sign(dir); err == nil {
		t.Error("Sign with a malformed key: no error")
	}
}

// FuzzVerifyBundle feeds VerifyBundle bundles changed at random: an
// inspector's file is outside input. It must not panic, must refuse with
// ErrBundleInvalid, or, if it accepts, vouch for what the log signed.
func FuzzVerifyBundle(f *testing.F) {
	l := newBundleLog(f, 3, 6)
	b := l.signedBundle(f)
	key := l.signer.VerifierKey()
	want, err := audit.VerifyBundle(b, key, caseStream)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"format":"waystation-export/v1"}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := audit.VerifyBundle(in, key, caseStream)
		if err != nil {
			if !errors.Is(err, audit.ErrBundleInvalid) {
				t.Fatalf("refusal does not wrap ErrBundleInvalid: %v", err)
			}
			return
		}
		if got != want {
			t.Fatalf("accepted a changed bundle as %+v, the signed one is %+v", got, want)
		}
	})
}
