package ops

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"waystation/eventstore"
	"waystation/eventstore/audit"
	"waystation/eventstore/esdb"
)

// verifyReplica checks the audit index of the replica whose data folder is
// dir against the cluster's global log at url: every indexed event must
// still be in $all, unchanged and in order, and every signed tree head kept
// must match (esdb.AuditIndex.Verify). It refuses a folder that holds no
// index rather than creating one, and a folder whose replica is running.
func verifyReplica(ctx context.Context, url, dir string, pinned ...string) (audit.VerifyReport, error) {
	if _, err := os.Stat(filepath.Join(dir, esdb.AuditIndexFile)); err != nil {
		return audit.VerifyReport{}, fmt.Errorf("data: no audit index of a Waystation replica in %s", dir)
	}
	s, err := esdb.Open(ctx, url, esdb.Options{})
	if err != nil {
		return audit.VerifyReport{}, err
	}
	defer s.Close()
	x, err := esdb.OpenAuditIndex(dir, s, esdb.AuditOptions{})
	if errors.Is(err, eventstore.ErrLocked) {
		return audit.VerifyReport{}, fmt.Errorf("%w; the replica is running: stop it, or verify another replica's folder", err)
	}
	if err != nil {
		return audit.VerifyReport{}, err
	}
	defer x.Close()
	return x.Verify(ctx, pinned...)
}
