package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// KeyFile and PublicKeyFile are the names, inside a data folder, of the
// signing key and of the verifier key an inspector pins.
const (
	KeyFile       = "audit.key"
	PublicKeyFile = "audit.pub"
)

// keyName names the signer inside every signed note.
const keyName = "waystation-audit"

// Signer signs tree heads with the Ed25519 key of one data folder.
type Signer struct {
	signer   note.Signer
	verifier string
}

// LoadOrCreateSigner reads the signing key from dir, creating it (mode 0600,
// with its public half in PublicKeyFile) on first start. The key never
// leaves the folder and is never logged.
func LoadOrCreateSigner(dir string) (*Signer, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		skey, vkey, gerr := note.GenerateKey(rand.Reader, keyName)
		if gerr != nil {
			return nil, fmt.Errorf("audit: generating signing key: %w", gerr)
		}
		if err := writeFileSync(path, []byte(skey+"\n")); err != nil {
			return nil, err
		}
		if err := writeFileSync(filepath.Join(dir, PublicKeyFile), []byte(vkey+"\n")); err != nil {
			return nil, err
		}
		b = []byte(skey)
	} else if err != nil {
		return nil, fmt.Errorf("audit: reading signing key: %w", err)
	}
	skey := strings.TrimSpace(string(b))
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("audit: %s is not a signing key", path)
	}
	vkey, err := verifierKey(skey)
	if err != nil {
		return nil, err
	}
	return &Signer{signer: s, verifier: vkey}, nil
}

// verifierKey derives the public verifier key from a note signer key of the
// form "PRIVATE+KEY+name+hash+key".
func verifierKey(skey string) (string, error) {
	parts := strings.SplitN(skey, "+", 5)
	if len(parts) != 5 {
		return "", errors.New("audit: malformed signing key")
	}
	return derivePublic(parts[2], parts[4])
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("audit: creating %s: %w", filepath.Base(path), err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("audit: writing %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("audit: syncing %s: %w", filepath.Base(path), err)
	}
	return f.Close()
}

// VerifierKey returns the public key that checks this signer's notes, in
// sumdb/note's text form.
func (s *Signer) VerifierKey() string { return s.verifier }

// originPrefix opens the origin of every checkpoint a Waystation log
// signs; Origin says what follows it.
const originPrefix = "waystation.local/audit/"

// legacyHeader is the first line of the tree heads Waystation signed before
// its checkpoints named their log: tlog.FormatTree's header, which is the
// Go checksum database's. Such heads still open (a data folder keeps them
// for good), but none is signed any more.
const legacyHeader = "go.sum database tree"

// Origin returns the origin line of the checkpoints signed with the key
// whose verifier key is vkey: "waystation.local/audit/" and the first 16
// hex digits of the SHA-256 of vkey's text (audit.pub without its line
// end). The origin names the log by its signing key because the key is
// what makes one log: it lives in the data folder, so the origin stays
// the same across restarts, upgrades and restores of the folder; a wiped
// folder starts a new tree under a new key, and its checkpoints then name
// a new log, as they must (they are not consistent with the old ones);
// each replica of a cluster signs its own index with its own key, so each
// names its own log. It needs no setting, and an inspector can recompute
// it from the key they pinned:
//
//	printf %s "$(cat audit.pub)" | sha256sum | cut -c1-16
//
// The note's key name stays "waystation-audit" (C2SP's tlog-checkpoint
// would have it match the origin, a SHOULD): the name is part of the
// verifier key inspectors have pinned and of every signature already
// made, so renaming it would void both.
func Origin(vkey string) string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(vkey)))
	return originPrefix + hex.EncodeToString(sum[:8])
}

// Origin returns the origin line of the checkpoints s signs.
func (s *Signer) Origin() string { return Origin(s.verifier) }

// SignedTreeHead is a tree size and root hash, signed.
type SignedTreeHead struct {
	Size int64
	Root tlog.Hash
	// Origin names the log that signed the head (see Origin); it is empty
	// for a head signed in the old form, whose first line is the Go
	// checksum database's header.
	Origin string
	// Note is the signed note: a checkpoint as C2SP's tlog-checkpoint
	// lays it out (the origin, the tree size in decimal, the root hash in
	// base64, each on its own line), a blank line, and the signature line.
	Note []byte
}

// Tree returns the size and root hash of h.
func (h SignedTreeHead) Tree() tlog.Tree { return tlog.Tree{N: h.Size, Hash: h.Root} }

// Sign signs tree as a checkpoint of s's log.
func (s *Signer) Sign(tree tlog.Tree) (SignedTreeHead, error) {
	origin := s.Origin()
	text := formatCheckpoint(origin, tree)
	msg, err := note.Sign(&note.Note{Text: text}, s.signer)
	if err != nil {
		return SignedTreeHead{}, fmt.Errorf("audit: signing tree head: %w", err)
	}
	return SignedTreeHead{Size: tree.N, Root: tree.Hash, Origin: origin, Note: msg}, nil
}

// formatCheckpoint returns the note text of a checkpoint, without
// extension lines.
func formatCheckpoint(origin string, tree tlog.Tree) string {
	return origin + "\n" + strconv.FormatInt(tree.N, 10) + "\n" + base64.StdEncoding.EncodeToString(tree.Hash[:]) + "\n"
}

// parseCheckpoint reads the note text of a checkpoint: at least three
// non-empty lines, the origin, the tree size in decimal with no leading
// zero, and the base64 root hash; the extension lines after them are
// allowed and ignored.
func parseCheckpoint(text string) (origin string, tree tlog.Tree, err error) {
	body, ok := strings.CutSuffix(text, "\n")
	if !ok {
		return "", tree, errors.New("checkpoint does not end with a line end")
	}
	lines := strings.Split(body, "\n")
	if len(lines) < 3 {
		return "", tree, errors.New("checkpoint has fewer than three lines")
	}
	if slices.Contains(lines, "") {
		return "", tree, errors.New("checkpoint has an empty line")
	}
	n, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || n < 0 || strconv.FormatInt(n, 10) != lines[1] {
		return "", tree, errors.New("checkpoint tree size is not a decimal number")
	}
	h, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(h) != len(tlog.Hash{}) || base64.StdEncoding.EncodeToString(h) != lines[2] {
		return "", tree, errors.New("checkpoint root hash is not a base64 hash")
	}
	tree.N = n
	copy(tree.Hash[:], h)
	return lines[0], tree, nil
}

// ErrSignature reports a tree head whose signature does not check against
// the given key, or that is not a tree head at all.
var ErrSignature = errors.New("audit: tree head not signed by this key")

// OpenTreeHead checks that msg is a tree head signed by one of the keys
// vkeys and returns it. It opens a checkpoint, whose origin must be the
// one Origin gives for the key that signed it, and a head in the old form
// (the Go checksum database's header, tlog.FormatTree's layout), which
// data folders and export bundles made before checkpoints named their log
// still hold.
func OpenTreeHead(msg []byte, vkeys ...string) (SignedTreeHead, error) {
	var list []note.Verifier
	for _, k := range vkeys {
		v, err := note.NewVerifier(strings.TrimSpace(k))
		if err != nil {
			return SignedTreeHead{}, fmt.Errorf("%w: malformed verifier key", ErrSignature)
		}
		list = append(list, v)
	}
	n, err := note.Open(msg, note.VerifierList(list...))
	if err != nil {
		return SignedTreeHead{}, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	if strings.HasPrefix(n.Text, legacyHeader+"\n") {
		tree, err := tlog.ParseTree([]byte(n.Text))
		if err != nil {
			return SignedTreeHead{}, fmt.Errorf("%w: %v", ErrSignature, err)
		}
		return SignedTreeHead{Size: tree.N, Root: tree.Hash, Note: msg}, nil
	}
	origin, tree, err := parseCheckpoint(n.Text)
	if err != nil {
		return SignedTreeHead{}, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	if want := Origin(signerOf(n, vkeys, list)); origin != want {
		return SignedTreeHead{}, fmt.Errorf("%w: checkpoint of the log %q, but the key signs the log %q", ErrSignature, origin, want)
	}
	return SignedTreeHead{Size: tree.N, Root: tree.Hash, Origin: origin, Note: msg}, nil
}

// signerOf returns which of vkeys (parsed as list) made the first
// verified signature of n.
func signerOf(n *note.Note, vkeys []string, list []note.Verifier) string {
	for i, v := range list {
		if v.Name() == n.Sigs[0].Name && v.KeyHash() == n.Sigs[0].Hash {
			return vkeys[i]
		}
	}
	return ""
}

// derivePublic returns the verifier key for the Ed25519 seed encoded in a
// signer key's last field (algorithm byte 1, then the 32-byte seed).
func derivePublic(name, enc string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil || len(raw) != 1+ed25519.SeedSize || raw[0] != 1 {
		return "", errors.New("audit: malformed signing key")
	}
	pub := ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey)
	return note.NewEd25519VerifierKey(name, pub)
}

// OpenTreeHeads opens every signed tree head of msgs (nil entries are
// skipped) against vkeys and keeps those that fit a log of size events. It
// returns the heads kept and the first problem met: a head that does not
// open, or one larger than the log.
func OpenTreeHeads(msgs [][]byte, size int64, vkeys ...string) ([]SignedTreeHead, error) {
	var heads []SignedTreeHead
	var first error
	for _, m := range msgs {
		if m == nil {
			continue
		}
		h, err := OpenTreeHead(m, vkeys...)
		switch {
		case err != nil:
		case h.Size > size:
			err = fmt.Errorf("signed head of size %d but the log holds %d events", h.Size, size)
		default:
			heads = append(heads, h)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return heads, first
}
