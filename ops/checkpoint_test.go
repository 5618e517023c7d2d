package ops_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/domain"
	"waystation/eventstore/audit"
)

// folderOrigin is the origin an inspector computes from the verifier key
// they pinned (the data folder's audit.pub): waystation.local/audit/ and
// the first 16 hex digits of the key's SHA-256.
func folderOrigin(tb testing.TB, dir string) (origin, vkey string) {
	tb.Helper()
	pub, err := os.ReadFile(filepath.Join(dir, audit.PublicKeyFile))
	if err != nil {
		tb.Fatal(err)
	}
	vkey = strings.TrimSpace(string(pub))
	sum := sha256.Sum256([]byte(vkey))
	return "waystation.local/audit/" + hex.EncodeToString(sum[:8]), vkey
}

// firstLine returns the first line of a signed note.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestTheCheckpointNamesItsOwnLog: given a service on the embedded store
// with one case, when an inspector reads GET /v1/audit/checkpoint and the
// case's export bundle, then both signed notes begin with the origin of
// the data folder's log (computable from the pinned key), not the Go
// checksum database's header, and the checkpoints signed after a restart name the same log.
func TestTheCheckpointNamesItsOwnLog(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	staff := r.seed(t)
	id := r.must(t, 201, staff, "POST", "/v1/cases", intake("Checkpoint Person", time.Now().Add(-time.Hour)))["id"].(string)
	origin, vkey := folderOrigin(t, dir)

	cp := r.must(t, 200, adminToken, "GET", "/v1/audit/checkpoint", nil)
	n := cp["note"].(string)
	if firstLine(n) != origin || strings.Contains(n, "go.sum") {
		t.Fatalf("checkpoint note %q, want it to begin with the log's origin %s", n, origin)
	}
	head, err := audit.OpenTreeHead([]byte(n), vkey)
	if err != nil || head.Origin != origin {
		t.Fatalf("checkpoint opened with the pinned key: origin %q, %v; want %s", head.Origin, err, origin)
	}

	bundle, e := r.export(t, id)
	if firstLine(e.TreeHead.Note) != origin {
		t.Fatalf("export tree head %q, want it to begin with %s", e.TreeHead.Note, origin)
	}
	if _, err := audit.VerifyBundle(bundle, vkey, domain.CaseStream); err != nil {
		t.Fatalf("the export does not verify against the pinned key: %v", err)
	}

	if err := r.stop(); err != nil {
		t.Fatal(err)
	}
	r = start(t, dir)
	r.must(t, 201, staff, "POST", "/v1/cases", intake("Second Person", time.Now().Add(-time.Hour)))
	if got := firstLine(r.must(t, 200, adminToken, "GET", "/v1/audit/checkpoint", nil)["note"].(string)); got != origin {
		t.Fatalf("origin after a restart: %s, want %s", got, origin)
	}
}

// TestAnExportWithAnOldFormTreeHeadStillVerifies: given a case's export
// bundle whose tree head was signed in the old form ("go.sum database
// tree", as bundles exported before checkpoints named their log hold), when
// an inspector verifies it against the pinned key, then it verifies.
func TestAnExportWithAnOldFormTreeHeadStillVerifies(t *testing.T) {
	dir := t.TempDir()
	r := start(t, dir)
	staff := r.seed(t)
	id := r.must(t, 201, staff, "POST", "/v1/cases", intake("Old Bundle Person", time.Now().Add(-time.Hour)))["id"].(string)
	_, e := r.export(t, id)
	_, vkey := folderOrigin(t, dir)
	head, err := audit.OpenTreeHead([]byte(e.TreeHead.Note), vkey)
	if err != nil {
		t.Fatal(err)
	}

	// The bundle as the release before signed it: the same tree head in
	// tlog.FormatTree's text, and the bundle's signature over it.
	skey, err := os.ReadFile(filepath.Join(dir, audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(text string) string {
		msg, err := note.Sign(&note.Note{Text: text}, signer)
		if err != nil {
			t.Fatal(err)
		}
		return string(msg)
	}
	e.TreeHead.Note = sign(string(tlog.FormatTree(head.Tree())))
	e.Signature = ""
	unsigned, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(unsigned)
	e.Signature = sign(audit.BundleFormat + "\ncase " + e.CaseID.String() + "\nsha256 " + hex.EncodeToString(sum[:]) + "\n")
	old, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.TreeHead.Note, "go.sum database tree\n") {
		t.Fatalf("test bundle's tree head %q is not in the old form", e.TreeHead.Note)
	}
	rep, err := audit.VerifyBundle(old, vkey, domain.CaseStream)
	if err != nil || rep.TreeSize != head.Size || !rep.KeyPinned {
		t.Fatalf("an old-form bundle: %+v, %v; want it verified at tree size %d against the pinned key", rep, err, head.Size)
	}
}
