package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
	origin   string
}

// legacyHeader is the first line of the tree heads signed before they
// named their own log (golang.org/x/mod/sumdb/tlog.FormatTree's header,
// the Go checksum database's). Such heads still open.
const legacyHeader = "go.sum database tree"

// Origin returns the origin line of the checkpoints s signs: it names this
// log, "waystation/log/" and the signing key's ID (the 8 hex digits of its
// verifier key), so it is the same across restarts, backups and restores
// of the folder, and differs between deployments and between the replicas
// of a cluster, each of which keeps its own audit index.
func (s *Signer) Origin() string { return s.origin }

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
	return &Signer{signer: s, verifier: vkey, origin: "waystation/log/" + strings.Split(vkey, "+")[1]}, nil
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

// SignedTreeHead is a tree size and root hash, signed.
type SignedTreeHead struct {
	Size int64
	Root tlog.Hash
	// Origin names the log the head is of (the checkpoint's first line);
	// empty for a head signed in the legacy form.
	Origin string
	// Note is the signed note: a C2SP tlog-checkpoint (the origin, the
	// size in decimal and the root hash in base64, a line each), a blank
	// line and the signature line. Heads signed before carry the legacy
	// header instead of an origin.
	Note []byte
}

// Tree returns the size and root hash of h.
func (h SignedTreeHead) Tree() tlog.Tree { return tlog.Tree{N: h.Size, Hash: h.Root} }

// Sign signs tree as a checkpoint of s's log (https://c2sp.org/tlog-checkpoint).
func (s *Signer) Sign(tree tlog.Tree) (SignedTreeHead, error) {
	text := fmt.Sprintf("%s\n%d\n%s\n", s.origin, tree.N, tree.Hash)
	msg, err := note.Sign(&note.Note{Text: text}, s.signer)
	if err != nil {
		return SignedTreeHead{}, fmt.Errorf("audit: signing tree head: %w", err)
	}
	return SignedTreeHead{Size: tree.N, Root: tree.Hash, Origin: s.origin, Note: msg}, nil
}

// parseCheckpoint reads a checkpoint's body: an origin line, the tree size
// in decimal, the root hash in base64, then any extension lines (ignored).
// A body in the legacy form (tlog.FormatTree's) reads with an empty origin.
func parseCheckpoint(text string) (origin string, tree tlog.Tree, err error) {
	if strings.HasPrefix(text, legacyHeader+"\n") {
		tree, err := tlog.ParseTree([]byte(text))
		return "", tree, err
	}
	lines := strings.SplitAfter(text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return "", tlog.Tree{}, errors.New("malformed checkpoint")
	}
	origin = strings.TrimSuffix(lines[0], "\n")
	size := strings.TrimSuffix(lines[1], "\n")
	if origin == "" || size == "" || (len(size) > 1 && size[0] == '0') || strings.Trim(size, "0123456789") != "" {
		return "", tlog.Tree{}, errors.New("malformed checkpoint")
	}
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil {
		return "", tlog.Tree{}, errors.New("malformed checkpoint size")
	}
	h, err := tlog.ParseHash(strings.TrimSuffix(lines[2], "\n"))
	if err != nil {
		return "", tlog.Tree{}, errors.New("malformed checkpoint root hash")
	}
	return origin, tlog.Tree{N: n, Hash: h}, nil
}

// ErrSignature reports a tree head whose signature does not check against
// the given key, or that is not a tree head at all.
var ErrSignature = errors.New("audit: tree head not signed by this key")

// OpenTreeHead checks that msg is a tree head signed by one of the keys
// vkeys and returns it.
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
	origin, tree, err := parseCheckpoint(n.Text)
	if err != nil {
		return SignedTreeHead{}, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return SignedTreeHead{Size: tree.N, Root: tree.Hash, Origin: origin, Note: msg}, nil
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
