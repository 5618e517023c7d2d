package esdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"waystation/eventstore"
)

// Checkpoints is the eventstore.CheckpointStore of a replica running on
// the cluster: one small file per projection in a directory on the
// replica's own disk, replaced atomically (write, fsync, rename, fsync the
// directory) on every save, so it survives a restart of the replica.
//
// Why a local file and not a checkpoint stream on the cluster: a
// checkpoint says how far one set of read models has folded the log, and
// those read models live in one replica, not in the cluster. Replicas
// start, stop and rebuild independently, so a shared checkpoint would let
// one replica skip events that another one had folded; per-replica
// streams would only move local state to the cluster, add a write to the
// cluster per checkpoint batch of every replica, and still be wrong after
// a replica's disk is wiped (the read models are gone, the checkpoint not).
// Keeping the checkpoint beside the read models keeps the two consistent;
// a replica whose directory is lost rebuilds from the start of $all.
type Checkpoints struct {
	dir string
}

var _ eventstore.CheckpointStore = (*Checkpoints)(nil)

// OpenCheckpoints keeps checkpoints in dir, creating it if needed.
func OpenCheckpoints(dir string) (*Checkpoints, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("esdb: checkpoint directory: %w", err)
	}
	return &Checkpoints{dir: dir}, nil
}

// path returns the file of a projection. Names are the projections' own
// stable identifiers (letters, digits, '.', '-', '_'); anything else is
// refused rather than escaped, so that a name can never reach outside dir.
func (c *Checkpoints) path(name string) (string, error) {
	if name == "" || strings.Trim(name, ".") == "" {
		return "", fmt.Errorf("%w: empty projection name", eventstore.ErrInvalid)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return "", fmt.Errorf("%w: projection name %q: only letters, digits, '.', '-' and '_'", eventstore.ErrInvalid, name)
		}
	}
	return filepath.Join(c.dir, name+".checkpoint"), nil
}

// LoadCheckpoint implements eventstore.CheckpointStore.
func (c *Checkpoints) LoadCheckpoint(ctx context.Context, name string) (eventstore.Position, bool, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.Position{}, false, err
	}
	p, err := c.path(name)
	if err != nil {
		return eventstore.Position{}, false, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return eventstore.Start, false, nil
	}
	if err != nil {
		return eventstore.Position{}, false, fmt.Errorf("esdb: checkpoint %s: %w", name, err)
	}
	pos, err := eventstore.ParsePosition(strings.TrimSpace(string(b)))
	if err != nil {
		return eventstore.Position{}, false, fmt.Errorf("esdb: checkpoint %s is damaged: %w", name, err)
	}
	return pos, true, nil
}

// SaveCheckpoint implements eventstore.CheckpointStore; the position is
// on disk when it returns.
func (c *Checkpoints) SaveCheckpoint(ctx context.Context, name string, pos eventstore.Position) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := c.path(name)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.dir, name+".*.tmp")
	if err != nil {
		return fmt.Errorf("esdb: checkpoint %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	_, err = tmp.WriteString(pos.String() + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err == nil {
		err = syncDir(c.dir)
	}
	if err != nil {
		return fmt.Errorf("esdb: checkpoint %s: %w", name, err)
	}
	return nil
}

// DeleteCheckpoint implements eventstore.CheckpointStore; forgetting a
// checkpoint that was never saved is not an error.
func (c *Checkpoints) DeleteCheckpoint(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := c.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("esdb: checkpoint %s: %w", name, err)
	}
	return syncDir(c.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
