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
	"slices"
	"sort"
	"strconv"
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
	fileHeader = "waystation-keys v2"
	checkText  = "waystation-keys-check"
	// maxCached bounds the opened data keys kept in memory; past it the
	// cache is emptied and refilled on demand.
	maxCached = 1 << 16
	// poolSize is how many fresh keys one fsync of the file makes durable
	// ahead of need.
	poolSize = 128
)

// Keys is what a Store needs from a key store: one data key per data
// subject, found by subject (to seal) or by the number a sealed value
// names (to open), and destroyed for good on erasure. KeyStore (a file in
// one data folder) and StreamKeys (streams of the event store itself,
// shared by every replica of a cluster) implement it. Implementations are
// safe for concurrent use.
type Keys interface {
	// SubjectKey returns the ID and opened data key of subject. With
	// create, a subject that has none is given a fresh key. A destroyed
	// subject is ErrErased (even with create: an erased subject never gets
	// a new key); a subject without a key, without create, is ErrNoKey; a
	// subject the store cannot hold is eventstore.ErrInvalid.
	SubjectKey(subject string, create bool) (uint64, cipher.AEAD, error)
	// KeyByID returns the opened data key numbered id, or ErrNoKey when
	// there is no such key (it was destroyed, or never made).
	KeyByID(id uint64) (cipher.AEAD, error)
	// Destroy destroys the data keys of subjects and the keys numbered
	// ids, and remembers the subjects as erased. Destroying a destroyed or
	// unknown subject is not an error.
	Destroy(subjects []string, ids ...uint64) error
	// Erased reports whether subject's data key was destroyed.
	Erased(subject string) bool
	// Has reports whether subject has a live data key.
	Has(subject string) bool
	// Close releases the key store; later calls fail with
	// eventstore.ErrClosed.
	Close() error
}

var (
	_ Keys = (*KeyStore)(nil)
	_ Keys = (*StreamKeys)(nil)
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

// keyCache holds opened data keys by ID in shards, so that readers opening
// events on several goroutines at once (requests, subscriptions, a
// rebuild) seldom meet on a lock.
type keyCache struct {
	shards [64]struct {
		mu   sync.RWMutex
		keys map[uint64]cipher.AEAD // guarded by mu
	}
}

func (c *keyCache) get(id uint64) cipher.AEAD {
	sh := &c.shards[id%64]
	sh.mu.RLock()
	k := sh.keys[id]
	sh.mu.RUnlock()
	return k
}

// put caches k; a full shard (maxCached/64 keys) is emptied first.
func (c *keyCache) put(id uint64, k cipher.AEAD) {
	sh := &c.shards[id%64]
	sh.mu.Lock()
	if sh.keys == nil || len(sh.keys) >= maxCached/64 {
		sh.keys = map[uint64]cipher.AEAD{}
	}
	sh.keys[id] = k
	sh.mu.Unlock()
}

func (c *keyCache) remove(id uint64) {
	sh := &c.shards[id%64]
	sh.mu.Lock()
	delete(sh.keys, id)
	sh.mu.Unlock()
}

func (c *keyCache) clear() {
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		sh.keys = nil
		sh.mu.Unlock()
	}
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

// load reads the file into the maps. Lines: "k ID WRAPPED" a key, "a ID
// SUBJECT" a key given to a subject, "u ID" a fresh key never used (written
// at Close), "e SUBJECT" a destroyed subject. A torn last line (a crash
// mid-append) was never acknowledged and is skipped.
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
				return fmt.Errorf("sealed: %s is not a key store of this version", ks.path)
			}
			if _, err := ks.unwrap([]byte(check), checkText); err != nil {
				return ErrMasterKey
			}
			continue
		}
		kind, rest, _ := strings.Cut(line, " ")
		arg, val, _ := strings.Cut(rest, " ")
		switch kind {
		case "k":
			id, err := strconv.ParseUint(arg, 10, 64)
			if err != nil || val == "" {
				continue
			}
			ks.wrapped[id] = []byte(val)
			ks.next = max(ks.next, id+1)
		case "a":
			id, err := strconv.ParseUint(arg, 10, 64)
			if err == nil && val != "" && !ks.erased[val] {
				ks.subjects[val] = id
			}
		case "u":
			if id, err := strconv.ParseUint(arg, 10, 64); err == nil {
				delete(ks.wrapped, id)
			}
		case "e":
			if id, ok := ks.subjects[arg]; ok {
				delete(ks.wrapped, id)
				delete(ks.subjects, arg)
			}
			ks.erased[arg] = true
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

// refill makes poolSize fresh keys durable (one write, one fsync) and adds
// them to the pool, unless another caller refilled it meanwhile.
func (ks *KeyStore) refill() error {
	ks.fillMu.Lock()
	defer ks.fillMu.Unlock()
	ks.mu.RLock()
	n, closed, next := len(ks.pool), ks.closed, ks.next
	ks.mu.RUnlock()
	if closed {
		return eventstore.ErrClosed
	}
	if n > 0 {
		return nil
	}
	var b bytes.Buffer
	fresh := make(map[uint64][]byte, poolSize)
	raw := make([]byte, 32)
	defer clear(raw)
	for id := next; id < next+poolSize; id++ {
		if _, err := rand.Read(raw); err != nil {
			return err
		}
		w, err := ks.wrap(raw, keyLabel(id))
		if err != nil {
			return err
		}
		fresh[id] = w
		b.WriteString("k " + strconv.FormatUint(id, 10) + " ")
		b.Write(w)
		b.WriteByte('\n')
	}
	ks.mu.Lock()
	f := ks.f
	_, err := f.Write(b.Bytes())
	if err == nil {
		ks.next = next + poolSize
	}
	ks.mu.Unlock()
	if err != nil {
		return fmt.Errorf("sealed: writing the key store: %w", err)
	}
	// The sync also makes the assignment lines written since the last
	// one durable.
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sealed: syncing the key store: %w", err)
	}
	ks.mu.Lock()
	defer ks.mu.Unlock()
	for id, w := range fresh {
		ks.wrapped[id] = w
		ks.pool = append(ks.pool, id)
	}
	return nil
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

// checkSubject refuses a subject that the key file's lines cannot hold:
// a space would cut it short in an "e" line (so that, after a restart, the
// subject could be given a new key) and a line break would add lines.
// Its error does not repeat the subject.
func checkSubject(subject string) error {
	if subject == "" || strings.ContainsAny(subject, " \t\r\n") {
		return fmt.Errorf("%w: sealed: a data subject must be non-empty, without spaces or line breaks", eventstore.ErrInvalid)
	}
	return nil
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
	ids := make([]uint64, 0, len(ks.wrapped))
	for id := range ks.wrapped {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		b.WriteString("k " + strconv.FormatUint(id, 10) + " ")
		b.Write(ks.wrapped[id])
		b.WriteByte('\n')
	}
	subjects := make([]string, 0, len(ks.subjects))
	for s := range ks.subjects {
		subjects = append(subjects, s)
	}
	sort.Strings(subjects)
	for _, s := range subjects {
		b.WriteString("a " + strconv.FormatUint(ks.subjects[s], 10) + " " + s + "\n")
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
