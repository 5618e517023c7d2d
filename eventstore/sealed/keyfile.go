package sealed

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"waystation/eventstore"
)

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
