package ops

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"waystation/eventstore/audit"
	"waystation/eventstore/bolt"
	"waystation/eventstore/sealed"
)

// A backup is a tar archive of the data folder's state: the events store
// (a consistent copy from one read transaction), then the key store as it
// stands after that copy (so every key the copy needs is there, and no key
// destroyed before the backup began), the signing key and its public half,
// and the master key when it was generated in the data folder, and last an
// end entry that says the archive is whole. A restore unpacks it and
// refuses an archive without the end entry (a backup cut short: a failure
// midway, a stream broken in transit); a backup from before this format (a
// bare events store) still restores.

// archiveFiles are the files besides the events store that a backup
// carries when the data folder has them, in order.
var archiveFiles = []string{sealed.KeyFile, audit.KeyFile, audit.PublicKeyFile, sealed.MasterKeyFile}

// archiveEnd is the name of a backup's last entry, written only once every
// other entry is: a restore that does not find it refuses the archive.
const archiveEnd = "waystation-backup.end"

// writeArchive writes a backup of the store in dataDir to w. keys is the
// open key store, or nil when no process holds it (its file is read).
func writeArchive(ctx context.Context, dataDir string, s *bolt.Store, keys *sealed.KeyStore, w io.Writer) (int64, error) {
	tmp, err := os.CreateTemp(dataDir, ".backup-events-*")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, err := s.Backup(ctx, tmp)
	if err != nil {
		return 0, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	cw := &countWriter{w: w}
	tw := tar.NewWriter(cw)
	now := time.Now()
	if err := tw.WriteHeader(&tar.Header{Name: bolt.DataFile, Mode: 0o600, Size: size, ModTime: now, Typeflag: tar.TypeReg}); err != nil {
		return cw.n, err
	}
	if _, err := io.Copy(tw, ctxReader{ctx, tmp}); err != nil {
		return cw.n, fmt.Errorf("backup: %w", err)
	}
	for _, name := range archiveFiles {
		var b []byte
		if name == sealed.KeyFile && keys != nil {
			b, err = keys.Snapshot()
		} else {
			b, err = os.ReadFile(filepath.Join(dataDir, name))
		}
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return cw.n, fmt.Errorf("backup: %s: %w", name, err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(b)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
			return cw.n, err
		}
		if _, err := tw.Write(b); err != nil {
			return cw.n, err
		}
	}
	end := []byte("the backup is whole\n")
	if err := tw.WriteHeader(&tar.Header{Name: archiveEnd, Mode: 0o600, Size: int64(len(end)), ModTime: now, Typeflag: tar.TypeReg}); err != nil {
		return cw.n, err
	}
	if _, err := tw.Write(end); err != nil {
		return cw.n, err
	}
	if err := tw.Close(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// isArchive reports whether the file at path is a tar archive.
func isArchive(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 263)
	n, _ := io.ReadFull(f, head)
	return n == len(head) && bytes.Equal(head[257:262], []byte("ustar")), nil
}

// restoreArchive restores a backup into dir: the events store through
// bolt.Restore (which checks it and refuses a non-empty dir unless force),
// then the key store (replacing any), and the signing and master keys when
// dir has none. A bare events store (the earlier backup format) restores
// as before.
func restoreArchive(from, dir string, force bool, master masterKeySource) error {
	ok, err := isArchive(from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if !ok {
		return bolt.Restore(from, dir, force)
	}
	parent := filepath.Dir(filepath.Clean(dir))
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".waystation-restore-*")
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(tmp)
	f, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	found := map[string]bool{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("restore: %s is not a readable backup: %w", from, err)
		}
		name := filepath.Base(h.Name)
		if h.Typeflag != tar.TypeReg || (name != bolt.DataFile && name != archiveEnd && !slices.Contains(archiveFiles, name)) || name != h.Name {
			return fmt.Errorf("restore: %s holds an unexpected entry", from)
		}
		if found[archiveEnd] {
			return fmt.Errorf("restore: %s holds entries after its end", from)
		}
		out, err := os.OpenFile(filepath.Join(tmp, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		if _, err := io.Copy(out, tr); err != nil {
			out.Close()
			return fmt.Errorf("restore: %w", err)
		}
		if err := out.Sync(); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		found[name] = true
	}
	if !found[bolt.DataFile] {
		return fmt.Errorf("restore: %s holds no events store", from)
	}
	if !found[archiveEnd] {
		return fmt.Errorf("restore: %s is cut short (it has no end entry): the backup did not complete; take it again", from)
	}
	// Before anything in dir changes: the master key the service will use
	// must open the backup's data keys, or the restored store would not
	// start (or would not open anyone's personal data).
	if found[sealed.KeyFile] {
		if err := master.opens(filepath.Join(tmp, sealed.KeyFile), tmp, dir); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if err := bolt.Restore(filepath.Join(tmp, bolt.DataFile), dir, force); err != nil {
		return err
	}
	for _, name := range archiveFiles {
		if !found[name] {
			continue
		}
		target := filepath.Join(dir, name)
		if name != sealed.KeyFile && name != sealed.MasterKeyFile {
			if _, err := os.Stat(target); err == nil {
				continue // keep the folder's own signing key
			}
		}
		// The data keys and the generated master key that wraps them
		// travel together: the folder's own master key would not open
		// the backup's keys.
		if err := os.Rename(filepath.Join(tmp, name), target); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// masterKeySource is where the master key comes from for a restore: the
// operator's (WAYSTATION_MASTER_KEY or --master-key-file), else the one
// generated in the data folder.
type masterKeySource struct{ Value, File string }

// opens checks that the master key in effect after a restore opens the data
// keys in keysFile: the operator's, else the archive's master.key (in
// unpacked), else the folder's own. With none of them, it refuses: serve
// would generate a new key that opens nothing.
func (m masterKeySource) opens(keysFile, unpacked, dir string) error {
	var key []byte
	var err error
	switch {
	case m.Value != "" || m.File != "":
		key, _, err = sealed.LoadMasterKey(m.Value, m.File, "")
	default:
		from := ""
		for _, d := range []string{unpacked, dir} {
			if _, serr := os.Stat(filepath.Join(d, sealed.MasterKeyFile)); serr == nil {
				from = d
				break
			}
		}
		if from == "" {
			return errors.New("the backup's data keys are wrapped by a master key that was not generated in the folder: pass it (WAYSTATION_MASTER_KEY or --master-key-file)")
		}
		key, _, err = sealed.LoadMasterKey("", "", from)
	}
	if err != nil {
		return err
	}
	defer clear(key)
	if _, err := sealed.DataKeys(keysFile, key); err != nil {
		return fmt.Errorf("the master key in effect does not open the backup's data keys; pass the master key the backup was taken with (WAYSTATION_MASTER_KEY or --master-key-file): %w", err)
	}
	return nil
}
