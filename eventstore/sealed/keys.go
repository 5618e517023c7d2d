package sealed

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"waystation/eventstore"
)

// KeyFile is the name of the key store's file inside a data folder, and
// MasterKeyFile the name of a master key generated there when the operator
// gave none.
const (
	KeyFile       = "keys.dat"
	MasterKeyFile = "master.key"
)

// Errors of the key store; test them with errors.Is.
var (
	// ErrErased: the subject's data key was destroyed.
	ErrErased = errors.New("sealed: the data subject's key was destroyed")
	// ErrNoKey: a sealed value names a subject that has no key in the key
	// store (the key file is not the one the events were sealed with).
	ErrNoKey = errors.New("sealed: no data key for a sealed value")
	// ErrMasterKey: the master key does not open the key store, or is not
	// 32 bytes.
	ErrMasterKey = errors.New("sealed: wrong or malformed master key")
)

const (
	fileHeader = "waystation-keys v1"
	checkText  = "waystation-keys-check"
	// maxCached bounds the opened data keys kept in memory; past it the
	// cache is emptied and refilled on demand.
	maxCached = 1 << 16
)

// KeyStore keeps one AES-256 data key per data subject (a case stream),
// each wrapped by the master key with AES-GCM, in a file of the data
// folder (mode 0600). Creating a key appends a line and fsyncs (concurrent
// creations share one fsync); destroying one rewrites the file without it
// (temporary file, fsync, rename, fsync of the folder), so the key does not
// survive in the file. Opened keys are cached in memory; Destroy evicts the
// key before it returns. It is safe for concurrent use.
type KeyStore struct {
	path   string
	master cipher.AEAD

	syncMu sync.Mutex // serialises fsyncs and rewrites; taken before mu
	synced uint64     // lines known durable; guarded by syncMu

	mu      sync.RWMutex
	wrapped map[string][]byte      // subject → nonce‖sealed key; guarded by mu
	erased  map[string]bool        // destroyed subjects; guarded by mu
	cache   map[string]cipher.AEAD // opened keys; guarded by mu
	f       *os.File               // append handle; guarded by mu
	written uint64                 // lines written; guarded by mu
	closed  bool                   // guarded by mu
}

// ParseMasterKey reads a 32-byte master key written as base64 (standard or
// URL alphabet, padded or not) or as 64 hex digits. Its errors never repeat
// the input.
func ParseMasterKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == 32 {
			return b, nil
		}
	}
	return nil, fmt.Errorf("%w: give 32 bytes as base64 or 64 hex digits", ErrMasterKey)
}

// LoadMasterKey returns the master key: from value when it is not empty
// (WAYSTATION_MASTER_KEY), else from the file at path when path is not
// empty (--master-key-file), else from MasterKeyFile in dataDir, which is
// generated (mode 0600) on first use; generated is true then, and the
// caller must warn the operator that the key sits next to the data it
// protects.
func LoadMasterKey(value, path, dataDir string) (key []byte, generated bool, err error) {
	if value != "" {
		k, err := ParseMasterKey(value)
		return k, false, err
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, false, fmt.Errorf("sealed: reading the master key file: %w", err)
		}
		k, err := ParseMasterKey(string(b))
		return k, false, err
	}
	local := filepath.Join(dataDir, MasterKeyFile)
	b, err := os.ReadFile(local)
	if err == nil {
		k, err := ParseMasterKey(string(b))
		return k, false, err
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("sealed: reading the master key file: %w", err)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, false, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, err
	}
	if err := writeSynced(local, []byte(base64.StdEncoding.EncodeToString(k)+"\n")); err != nil {
		return nil, false, err
	}
	return k, true, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// OpenKeyStore opens (creating when missing) the key store file in dir
// with master, a 32-byte key. A master key that did not create the file is
// ErrMasterKey.
func OpenKeyStore(dir string, master []byte) (*KeyStore, error) {
	if len(master) != 32 {
		return nil, ErrMasterKey
	}
	m, err := newAEAD(master)
	if err != nil {
		return nil, err
	}
	ks := &KeyStore{path: filepath.Join(dir, KeyFile), master: m,
		wrapped: map[string][]byte{}, erased: map[string]bool{}, cache: map[string]cipher.AEAD{}}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sealed: key store: %w", err)
	}
	if err := ks.load(); errors.Is(err, fs.ErrNotExist) {
		if err := ks.rewrite(); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(ks.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sealed: key store: %w", err)
	}
	ks.f = f
	return ks, nil
}

// load reads the file into the maps.
func (ks *KeyStore) load() error {
	b, err := os.ReadFile(ks.path)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	first := true
	for sc.Scan() {
		line := sc.Text()
		if first {
			first = false
			check, ok := strings.CutPrefix(line, fileHeader+" ")
			if !ok {
				return fmt.Errorf("sealed: %s is not a key store", ks.path)
			}
			if _, err := ks.unwrap([]byte(check), checkText); err != nil {
				return ErrMasterKey
			}
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		switch kind {
		case "k":
			subject, w, ok := strings.Cut(rest, " ")
			if !ok {
				// A torn last line (crash mid-append) was never acknowledged.
				continue
			}
			if !ks.erased[subject] {
				ks.wrapped[subject] = []byte(w)
			}
		case "e":
			delete(ks.wrapped, rest)
			ks.erased[rest] = true
		}
	}
	if first {
		return fmt.Errorf("sealed: %s is empty", ks.path)
	}
	return sc.Err()
}

// wrap seals a data key (or the check text) under the master key, bound to
// label, and returns it base64-encoded.
func (ks *KeyStore) wrap(plain []byte, label string) ([]byte, error) {
	nonce := make([]byte, ks.master.NonceSize(), ks.master.NonceSize()+len(plain)+ks.master.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	sealed := ks.master.Seal(nonce, nonce, plain, []byte(label))
	out := make([]byte, base64.RawStdEncoding.EncodedLen(len(sealed)))
	base64.RawStdEncoding.Encode(out, sealed)
	return out, nil
}

func (ks *KeyStore) unwrap(enc []byte, label string) ([]byte, error) {
	raw := make([]byte, base64.RawStdEncoding.DecodedLen(len(enc)))
	n, err := base64.RawStdEncoding.Decode(raw, enc)
	if err != nil || n < ks.master.NonceSize() {
		return nil, ErrMasterKey
	}
	ns := ks.master.NonceSize()
	plain, err := ks.master.Open(nil, raw[:ns], raw[ns:n], []byte(label))
	if err != nil {
		return nil, ErrMasterKey
	}
	return plain, nil
}

// Key returns the opened data key of subject. With create, a subject that
// has none gets a new key, durable before Key returns. A destroyed key is
// ErrErased (even with create: an erased subject gets no new key); a
// missing one without create is ErrNoKey.
func (ks *KeyStore) Key(subject string, create bool) (cipher.AEAD, error) {
	ks.mu.RLock()
	if k := ks.cache[subject]; k != nil {
		ks.mu.RUnlock()
		return k, nil
	}
	w, has := ks.wrapped[subject]
	erased, closed := ks.erased[subject], ks.closed
	ks.mu.RUnlock()
	switch {
	case closed:
		return nil, eventstore.ErrClosed
	case erased:
		return nil, ErrErased
	case has:
		return ks.open(subject, w)
	case !create:
		return nil, ErrNoKey
	}
	return ks.create(subject)
}

// open unwraps w and caches the key, unless subject was destroyed meanwhile.
func (ks *KeyStore) open(subject string, w []byte) (cipher.AEAD, error) {
	raw, err := ks.unwrap(w, subject)
	if err != nil {
		return nil, err
	}
	k, err := newAEAD(raw)
	clear(raw)
	if err != nil {
		return nil, err
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.erased[subject] {
		return nil, ErrErased
	}
	if len(ks.cache) >= maxCached {
		clear(ks.cache)
	}
	ks.cache[subject] = k
	return k, nil
}

func (ks *KeyStore) create(subject string) (cipher.AEAD, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	defer clear(raw)
	w, err := ks.wrap(raw, subject)
	if err != nil {
		return nil, err
	}
	k, err := newAEAD(raw)
	if err != nil {
		return nil, err
	}
	ks.mu.Lock()
	switch {
	case ks.closed:
		ks.mu.Unlock()
		return nil, eventstore.ErrClosed
	case ks.erased[subject]:
		ks.mu.Unlock()
		return nil, ErrErased
	case ks.wrapped[subject] != nil:
		// Another caller created it first.
		w := ks.wrapped[subject]
		ks.mu.Unlock()
		return ks.open(subject, w)
	}
	line := make([]byte, 0, 4+len(subject)+len(w))
	line = append(append(append(append(line, "k "...), subject...), ' '), w...)
	line = append(line, '\n')
	if _, err := ks.f.Write(line); err != nil {
		ks.mu.Unlock()
		return nil, fmt.Errorf("sealed: writing the key store: %w", err)
	}
	ks.wrapped[subject] = w
	if len(ks.cache) >= maxCached {
		clear(ks.cache)
	}
	ks.cache[subject] = k
	ks.written++
	mine := ks.written
	ks.mu.Unlock()
	if err := ks.syncUpTo(mine); err != nil {
		return nil, err
	}
	return k, nil
}

// syncUpTo makes every line up to the mine-th durable; one fsync covers
// every line written before it started.
func (ks *KeyStore) syncUpTo(mine uint64) error {
	ks.syncMu.Lock()
	defer ks.syncMu.Unlock()
	if ks.synced >= mine {
		return nil
	}
	ks.mu.RLock()
	f, target := ks.f, ks.written
	ks.mu.RUnlock()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sealed: syncing the key store: %w", err)
	}
	ks.synced = target
	return nil
}

// Has reports whether subject has a live data key.
func (ks *KeyStore) Has(subject string) bool {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.wrapped[subject] != nil
}

// Erased reports whether subject's data key was destroyed.
func (ks *KeyStore) Erased(subject string) bool {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.erased[subject]
}

// Destroy destroys the data keys of subjects: they leave the memory cache
// at once and the file is rewritten without them (a destroyed subject is
// remembered by name only, so that it never gets a new key). It is durable
// when Destroy returns; destroying a destroyed or unknown subject is not an
// error.
func (ks *KeyStore) Destroy(subjects ...string) error {
	ks.syncMu.Lock()
	defer ks.syncMu.Unlock()
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.closed {
		return eventstore.ErrClosed
	}
	for _, s := range subjects {
		delete(ks.wrapped, s)
		delete(ks.cache, s)
		ks.erased[s] = true
	}
	if err := ks.rewrite(); err != nil {
		return err
	}
	f, err := os.OpenFile(ks.path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("sealed: key store: %w", err)
	}
	ks.f.Close()
	ks.f = f
	ks.synced = ks.written
	return nil
}

// rewrite writes the whole key store to a new file and renames it over the
// old one, durably. The caller holds mu (or owns ks exclusively).
func (ks *KeyStore) rewrite() error {
	check, err := ks.wrap([]byte(checkText), checkText)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(fileHeader + " ")
	b.Write(check)
	b.WriteByte('\n')
	subjects := make([]string, 0, len(ks.wrapped))
	for s := range ks.wrapped {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	for _, s := range subjects {
		b.WriteString("k " + s + " ")
		b.Write(ks.wrapped[s])
		b.WriteByte('\n')
	}
	erased := make([]string, 0, len(ks.erased))
	for s := range ks.erased {
		erased = append(erased, s)
	}
	sort.Strings(erased)
	for _, s := range erased {
		b.WriteString("e " + s + "\n")
	}
	tmp := ks.path + ".tmp"
	os.Remove(tmp)
	if err := writeSynced(tmp, b.Bytes()); err != nil {
		return err
	}
	if err := os.Rename(tmp, ks.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sealed: replacing the key store: %w", err)
	}
	return syncDir(filepath.Dir(ks.path))
}

// Snapshot returns a consistent copy of the key store file (as it stands,
// without destroyed keys), for backups.
func (ks *KeyStore) Snapshot() ([]byte, error) {
	ks.syncMu.Lock()
	defer ks.syncMu.Unlock()
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	if ks.closed {
		return nil, eventstore.ErrClosed
	}
	if err := ks.f.Sync(); err != nil {
		return nil, err
	}
	ks.synced = ks.written
	return os.ReadFile(ks.path)
}

// Close closes the file; later calls fail with eventstore.ErrClosed.
func (ks *KeyStore) Close() error {
	ks.syncMu.Lock()
	defer ks.syncMu.Unlock()
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.closed {
		return nil
	}
	ks.closed = true
	clear(ks.cache)
	return ks.f.Close()
}

// DataKeys reads every live data key of the key store file at path with
// master, by subject. It is for tools and tests that check what a file (or
// a backup) still holds; never log its result.
func DataKeys(path string, master []byte) (map[string][]byte, error) {
	m, err := newAEAD(master)
	if err != nil {
		return nil, ErrMasterKey
	}
	ks := &KeyStore{path: path, master: m, wrapped: map[string][]byte{}, erased: map[string]bool{}}
	if err := ks.load(); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(ks.wrapped))
	for s, w := range ks.wrapped {
		raw, err := ks.unwrap(w, s)
		if err != nil {
			return nil, err
		}
		out[s] = raw
	}
	return out, nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("sealed: creating %s: %w", filepath.Base(path), err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("sealed: writing %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sealed: syncing %s: %w", filepath.Base(path), err)
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
