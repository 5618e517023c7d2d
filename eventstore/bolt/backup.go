package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"waystation/eventstore"
)

// Backup writes a consistent copy of the data file to w while appends go
// on (one bbolt read transaction, Tx.WriteTo) and returns the bytes
// written. The signing key is not in the copy: keep audit.key with the
// backup to go on signing with the same key after a restore (tree heads
// signed before stay checkable either way).
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := s.check(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx: ctx, w: w})
		return err
	})
	if err != nil {
		return n, fmt.Errorf("eventstore/bolt: backup: %w", err)
	}
	return n, nil
}

// ctxWriter stops a long copy when its context is cancelled.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// Restore makes dir hold the data file from backupFile, ready for Open. It
// refuses a dir that already holds files unless force is set, and a dir
// whose store another process holds (eventstore.ErrLocked). The backup is
// checked to open as a store before it replaces anything; the data file
// is replaced atomically. An existing signing key in dir is kept.
func Restore(backupFile, dir string, force bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("eventstore/bolt: restore into %s: %w", dir, err)
	}
	if len(entries) > 0 && !force {
		return fmt.Errorf("eventstore/bolt: restore into %s: folder is not empty (use force to replace its store)", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("eventstore/bolt: restore into %s: %w", dir, err)
	}
	target := filepath.Join(dir, DataFile)
	if _, err := os.Stat(target); err == nil {
		held, err := bbolt.Open(target, 0o600, &bbolt.Options{Timeout: 200 * time.Millisecond})
		if errors.Is(err, berrors.ErrTimeout) {
			return fmt.Errorf("eventstore/bolt: restore into %s: %w", dir, eventstore.ErrLocked)
		}
		if err == nil {
			held.Close()
		}
	}
	tmp := target + ".restore"
	if err := copyFile(backupFile, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("eventstore/bolt: restore from %s: %w", backupFile, err)
	}
	if err := checkDataFile(tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("eventstore/bolt: restore from %s: not a Waystation store: %w", backupFile, err)
	}
	if err := os.Rename(tmp, target); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("eventstore/bolt: restore into %s: %w", dir, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// checkDataFile opens path read-only and checks that it has the store's
// buckets.
func checkDataFile(path string) error {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	if err != nil {
		return err
	}
	defer db.Close()
	return db.View(func(tx *bbolt.Tx) error {
		for _, b := range allBuckets {
			if tx.Bucket(b) == nil {
				return fmt.Errorf("bucket %s missing", b)
			}
		}
		return nil
	})
}
