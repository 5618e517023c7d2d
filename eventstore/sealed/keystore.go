package sealed

import (
	"bytes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

const (
	fileHeader = "waystation-keys v2"
	checkText  = "waystation-keys-check"
	// maxCached bounds the opened data keys kept in memory; past it the
	// cache is emptied and refilled on demand.
	maxCached = 1 << 16
	// poolSize is how many fresh keys one fsync of the file makes durable
	// ahead of need.
	poolSize = 128
)

// KeyStore keeps one AES-256 data key per data subject (a case stream),
// each wrapped by the master key with AES-GCM, in a file of the data
// folder (mode 0600). Keys are made ahead of need, poolSize at a time with
// one fsync, and numbered; a sealed value names the number of its key, so
// reading never depends on which subject a key was given to. Giving a key
// to a subject appends a line without waiting for the disk: should that
// line be lost in a crash, the subject's events still name their key, and
// Store.Erase finds it there. Fresh keys left over when the process stops
// are never given out again (a lost line could hide that they were used).
// Destroying keys rewrites the file without them (temporary file, fsync,
// rename, fsync of the folder), so they do not survive in the file; opened
// keys are cached in memory and Destroy evicts them before it returns. It
// is safe for concurrent use.
type KeyStore struct {
	path   string
	master cipher.AEAD

	fillMu sync.Mutex // serialises pool refills and rewrites; taken before mu

	mu       sync.RWMutex
	wrapped  map[uint64][]byte // key ID → nonce‖sealed key; guarded by mu
	cache    keyCache          // opened keys; stored under mu.RLock, deleted under mu.Lock
	subjects map[string]uint64 // subject → its key; guarded by mu
	erased   map[string]bool   // destroyed subjects; guarded by mu
	pool     []uint64          // durable keys given to no subject; guarded by mu
	next     uint64            // next key ID; guarded by mu
	f        *os.File          // append handle; guarded by mu
	closed   bool              // guarded by mu

	// afterLookup, when set (by tests), runs in SubjectKey between finding
	// the subject's key ID and opening the key.
	afterLookup func()
}

// OpenKeyStore opens (creating when missing) the key store file in dir
// with master, a 32-byte key. A master key that did not create the file is
// ErrMasterKey.
func OpenKeyStore(dir string, master []byte) (*KeyStore, error) {
	ks, err := newKeyStore(filepath.Join(dir, KeyFile), master)
	if err != nil {
		return nil, err
	}
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

func newKeyStore(path string, master []byte) (*KeyStore, error) {
	if len(master) != 32 {
		return nil, ErrMasterKey
	}
	m, err := newAEAD(master)
	if err != nil {
		return nil, err
	}
	return &KeyStore{path: path, master: m, wrapped: map[uint64][]byte{},
		subjects: map[string]uint64{}, erased: map[string]bool{}, next: 1}, nil
}

// wrap seals a data key (or the check text) under the master key, bound to
// label, and returns it base64-encoded.
func (ks *KeyStore) wrap(plain []byte, label string) ([]byte, error) {
	return wrapWith(ks.master, plain, label)
}

func (ks *KeyStore) unwrap(enc []byte, label string) ([]byte, error) {
	return unwrapWith(ks.master, enc, label)
}

// keyLabel binds a wrapped key to its ID.
func keyLabel(id uint64) string { return "key:" + strconv.FormatUint(id, 10) }

// SubjectKey returns the ID and opened data key of subject. With create, a
// subject that has none is given a fresh key (made durable beforehand). A
// destroyed subject is ErrErased (even with create: an erased subject gets
// no new key), also when the destruction lands while SubjectKey runs; a
// subject without a key, without create, is ErrNoKey; a subject the key
// file cannot hold (empty, or with a space or line break) is
// eventstore.ErrInvalid.
func (ks *KeyStore) SubjectKey(subject string, create bool) (uint64, cipher.AEAD, error) {
	if err := checkSubject(subject); err != nil {
		return 0, nil, err
	}
	ks.mu.RLock()
	id, has := ks.subjects[subject]
	erased, closed := ks.erased[subject], ks.closed
	ks.mu.RUnlock()
	switch {
	case closed:
		return 0, nil, eventstore.ErrClosed
	case erased:
		return 0, nil, ErrErased
	case has:
		if ks.afterLookup != nil {
			ks.afterLookup()
		}
		return ks.subjectKeyByID(subject, id)
	case !create:
		return 0, nil, ErrNoKey
	}
	return ks.assign(subject)
}

// subjectKeyByID opens key id, which was given to subject: a key destroyed
// since it was looked up is ErrErased when the subject was erased with it.
func (ks *KeyStore) subjectKeyByID(subject string, id uint64) (uint64, cipher.AEAD, error) {
	k, err := ks.KeyByID(id)
	if errors.Is(err, ErrNoKey) && ks.Erased(subject) {
		return 0, nil, ErrErased
	}
	if err != nil {
		return 0, nil, err
	}
	return id, k, nil
}

// KeyByID returns the opened data key numbered id, or ErrNoKey when the
// store holds no such key (it was destroyed, or never made here).
func (ks *KeyStore) KeyByID(id uint64) (cipher.AEAD, error) {
	if k := ks.cache.get(id); k != nil {
		return k, nil
	}
	ks.mu.RLock()
	w := ks.wrapped[id]
	closed := ks.closed
	ks.mu.RUnlock()
	switch {
	case closed:
		return nil, eventstore.ErrClosed
	case w == nil:
		return nil, ErrNoKey
	}
	raw, err := ks.unwrap(w, keyLabel(id))
	if err != nil {
		return nil, err
	}
	k, err := newAEAD(raw)
	clear(raw)
	if err != nil {
		return nil, err
	}
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	if ks.wrapped[id] == nil || ks.closed {
		return nil, ErrNoKey // destroyed meanwhile
	}
	ks.cache.put(id, k)
	return k, nil
}

// assign gives subject a key from the pool, refilling the pool first when
// it is empty.
func (ks *KeyStore) assign(subject string) (uint64, cipher.AEAD, error) {
	for {
		ks.mu.Lock()
		switch {
		case ks.closed:
			ks.mu.Unlock()
			return 0, nil, eventstore.ErrClosed
		case ks.erased[subject]:
			ks.mu.Unlock()
			return 0, nil, ErrErased
		}
		if id, ok := ks.subjects[subject]; ok {
			ks.mu.Unlock()
			return ks.subjectKeyByID(subject, id)
		}
		if n := len(ks.pool); n > 0 {
			id := ks.pool[n-1]
			ks.pool = ks.pool[:n-1]
			line := "a " + strconv.FormatUint(id, 10) + " " + subject + "\n"
			if _, err := ks.f.WriteString(line); err != nil {
				ks.pool = append(ks.pool, id)
				ks.mu.Unlock()
				return 0, nil, fmt.Errorf("sealed: writing the key store: %w", err)
			}
			ks.subjects[subject] = id
			ks.mu.Unlock()
			return ks.subjectKeyByID(subject, id)
		}
		ks.mu.Unlock()
		if err := ks.refill(); err != nil {
			return 0, nil, err
		}
	}
}

// Has reports whether subject has a live data key given to it in the key
// store. A key whose assignment line a crash lost is not counted, though
// the subject's events may still open with it: to learn whether a
// subject's erasure was completed, ask Erased (Store.Erase finds such keys
// in the subject's events).
func (ks *KeyStore) Has(subject string) bool {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	id, ok := ks.subjects[subject]
	return ok && ks.wrapped[id] != nil
}

// Erased reports whether subject's data key was destroyed.
func (ks *KeyStore) Erased(subject string) bool {
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	return ks.erased[subject]
}

// Destroy destroys the data keys of subjects, and the keys numbered ids
// (those the subjects' events name, in case a line giving one to its
// subject was lost): they leave the memory cache at once and the file is
// rewritten without them (a destroyed subject is remembered by name only,
// so that it never gets a new key). It is durable when Destroy returns;
// destroying a destroyed or unknown subject is not an error, and a subject
// SubjectKey would refuse is eventstore.ErrInvalid (nothing is destroyed).
func (ks *KeyStore) Destroy(subjects []string, ids ...uint64) error {
	for _, s := range subjects {
		if err := checkSubject(s); err != nil {
			return err
		}
	}
	ks.fillMu.Lock()
	defer ks.fillMu.Unlock()
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.closed {
		return eventstore.ErrClosed
	}
	for _, s := range subjects {
		if id, ok := ks.subjects[s]; ok {
			ids = append(ids, id)
		}
		delete(ks.subjects, s)
		ks.erased[s] = true
	}
	for _, id := range ids {
		delete(ks.wrapped, id)
		ks.cache.remove(id)
		ks.pool = slices.DeleteFunc(ks.pool, func(p uint64) bool { return p == id })
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
	return nil
}

// Snapshot returns a consistent copy of the key store file (as it stands,
// without destroyed keys), for backups.
func (ks *KeyStore) Snapshot() ([]byte, error) {
	ks.fillMu.Lock()
	defer ks.fillMu.Unlock()
	ks.mu.RLock()
	defer ks.mu.RUnlock()
	if ks.closed {
		return nil, eventstore.ErrClosed
	}
	if err := ks.f.Sync(); err != nil {
		return nil, err
	}
	return os.ReadFile(ks.path)
}

// Close marks the fresh keys never given out as unused (so the next start
// drops them), syncs and closes the file; later calls fail with
// eventstore.ErrClosed.
func (ks *KeyStore) Close() error {
	ks.fillMu.Lock()
	defer ks.fillMu.Unlock()
	ks.mu.Lock()
	defer ks.mu.Unlock()
	if ks.closed {
		return nil
	}
	ks.closed = true
	ks.cache.clear()
	var b bytes.Buffer
	for _, id := range ks.pool {
		b.WriteString("u " + strconv.FormatUint(id, 10) + "\n")
	}
	_, err := ks.f.Write(b.Bytes())
	if serr := ks.f.Sync(); err == nil {
		err = serr
	}
	if cerr := ks.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// DataKeys reads every data key given to a subject in the key store file
// at path, by subject, with master. It is for tools and tests that check
// what a file (or a backup) still holds; never log its result.
func DataKeys(path string, master []byte) (map[string][]byte, error) {
	ks, err := newKeyStore(path, master)
	if err != nil {
		return nil, err
	}
	if err := ks.load(); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(ks.subjects))
	for s, id := range ks.subjects {
		w := ks.wrapped[id]
		if w == nil {
			continue
		}
		raw, err := ks.unwrap(w, keyLabel(id))
		if err != nil {
			return nil, err
		}
		out[s] = raw
	}
	return out, nil
}
