package ops

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/eventstore/sealed"
	wshttp "waystation/http"
)

// sealStore wraps the store so that personal values are sealed at rest,
// with the configured master key. On the embedded store the keys live in
// the key file of the data folder (a master key is generated there,
// loudly, when none is given). On EventStoreDB they live in the cluster
// itself (sealed.StreamKeys), shared by every replica, so each replica
// must be given the same master key: none is ever generated there, and
// starting without one is refused.
func (m *Main) sealStore(ctx context.Context) error {
	if m.Config.Store != "" {
		if m.Config.MasterKey == "" && m.Config.MasterKeyFile == "" {
			return errors.New("on EventStoreDB every replica needs the same master key for personal data: " +
				"set WAYSTATION_MASTER_KEY or --master-key-file (a key generated per replica could not open the other replicas' keys)")
		}
		key, _, err := sealed.LoadMasterKey(m.Config.MasterKey, m.Config.MasterKeyFile, "")
		if err != nil {
			return err
		}
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		ks, err := sealed.OpenStreamKeys(octx, m.Store, key)
		cancel()
		clear(key)
		if err != nil {
			return err
		}
		m.Sealed = sealed.New(m.Store, ks, domain.PersonalPaths, domain.DataSubject)
		m.Store = m.Sealed
		return nil
	}
	key, generated, err := sealed.LoadMasterKey(m.Config.MasterKey, m.Config.MasterKeyFile, m.Config.Data)
	if err != nil {
		return err
	}
	if generated {
		m.Logger.Warn("WARNING: no master key was given (WAYSTATION_MASTER_KEY or --master-key-file); one was generated in the data folder, " +
			"next to the personal data it protects. Move " + sealed.MasterKeyFile + " off this disk and pass it in, or anyone who copies the data folder can read personal data.")
	}
	ks, err := sealed.OpenKeyStore(m.Config.Data, key)
	clear(key)
	if err != nil {
		return err
	}
	m.Sealed = sealed.New(m.Store, ks, domain.PersonalPaths, domain.DataSubject)
	m.Store = m.Sealed
	return nil
}

// retentionActor is the actor of automatic erasures.
var retentionActor = domain.Actor{ID: domain.RetentionActor, Role: domain.RoleAdmin}

// RetentionReport is what one pass of the retention job did.
type RetentionReport struct {
	Due    int `json:"due"`
	Erased int `json:"erased"`
	// Completed is how many erasures interrupted before their key was
	// destroyed were completed.
	Completed int `json:"completed"`
}

// RetentionPass runs the retention job once at now: it completes any
// erasure whose key survived (the event was written, the process stopped
// before the key was destroyed), lists the cases due for erasure and, when
// Config.RetentionErase is set, erases them, each with an erasure event
// whose actor is system:retention. It logs counts only.
func (m *Main) RetentionPass(ctx context.Context, now time.Time) (RetentionReport, error) {
	var rep RetentionReport
	if m.Sealed == nil {
		rep.Due = len(m.Views.DueForErasure(m.Config.Retention, now))
		return rep, nil
	}
	// A case whose erasure event is folded but whose subject the key store
	// has not marked destroyed was interrupted. Asking Has instead would
	// miss a key whose assignment line a crash lost (the line is written
	// without an fsync): the case's events still name that key and open
	// with it, and Erase finds it in them.
	var leftover []string
	for _, id := range m.Views.ErasedCases() {
		if !m.Sealed.Keys().Erased(domain.CaseStream(id)) {
			leftover = append(leftover, domain.CaseStream(id))
		}
	}
	if len(leftover) > 0 {
		if err := m.Sealed.Erase(ctx, leftover...); err != nil {
			return rep, err
		}
		rep.Completed = len(leftover)
	}
	due := m.Views.DueForErasure(m.Config.Retention, now)
	rep.Due = len(due)
	if m.Config.RetentionErase && len(due) > 0 {
		var subjects []string
		collect := func(_ context.Context, subject string) error {
			subjects = append(subjects, subject)
			return nil
		}
		req := domain.Erasure{Reason: domain.ErasureRetentionEnded, Trigger: domain.ErasureRetention}
		var firstErr error
		for _, d := range due {
			if _, err := m.Service.ErasePersonalData(ctx, retentionActor, d.CaseID, req, collect); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		if len(subjects) > 0 {
			if err := m.Sealed.Erase(ctx, subjects...); err != nil {
				return rep, err
			}
		}
		rep.Erased = len(subjects)
		if firstErr != nil {
			return rep, firstErr
		}
	}
	return rep, nil
}

// runRetention runs RetentionPass once the views are ready and then every
// Config.RetentionEvery, until ctx ends.
func (m *Main) runRetention(ctx context.Context) {
	if m.Views.WaitReady(ctx, 0) != nil {
		return
	}
	for {
		rep, err := m.RetentionPass(ctx, m.Now())
		switch {
		case err != nil && ctx.Err() == nil:
			m.Logger.Error("retention job", "err", err, "due", rep.Due, "erased", rep.Erased)
		case rep.Due > 0 || rep.Erased > 0 || rep.Completed > 0:
			m.Logger.Info("retention job", "due", rep.Due, "erased", rep.Erased, "completed", rep.Completed, "erasing", m.Config.RetentionErase)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(m.Config.RetentionEvery):
		}
	}
}

// privacy implements wshttp.Privacy for Main.
type privacy struct{ m *Main }

var _ wshttp.Privacy = privacy{}

// ErasePerson erases case id and every case linked to it, once the
// domain allows it (Service.CheckPersonErasure), then destroys their keys
// in one call of the key store (one rewrite of the key file; on
// EventStoreDB, tombstones of the key streams and one erasure event for
// the other replicas).
func (p privacy) ErasePerson(ctx context.Context, actor domain.Actor, id uuid.UUID, req domain.Erasure) (wshttp.Erasure, error) {
	m := p.m
	if m.Sealed == nil {
		return wshttp.Erasure{}, domain.NotFound("personal values are not sealed here, so they cannot be erased")
	}
	ids, ok := m.Views.PersonCases(id)
	if !ok {
		ids = []uuid.UUID{id} // not in the views yet: the service decides
	}
	if err := m.Service.CheckPersonErasure(ctx, actor, ids, req); err != nil {
		return wshttp.Erasure{}, err
	}
	var subjects []string
	collect := func(_ context.Context, subject string) error {
		subjects = append(subjects, subject)
		return nil
	}
	out := wshttp.Erasure{Cases: []wshttp.ErasedCase{}}
	var last domain.Result
	var firstErr error
	for _, cid := range ids {
		r, err := m.Service.ErasePersonalData(ctx, actor, cid, req, collect)
		if err != nil {
			firstErr = err
			break
		}
		last = r
		out.Cases = append(out.Cases, wshttp.ErasedCase{ID: cid.String(), Version: r.Version, Already: r.Replayed})
	}
	if len(subjects) > 0 {
		if err := m.Sealed.Erase(ctx, subjects...); err != nil {
			return out, domain.Internal(err, "the data keys could not be destroyed")
		}
	}
	if firstErr != nil {
		return out, firstErr
	}
	if !last.Position.IsZero() {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := m.Views.WaitFor(wctx, last.Position); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return out, err
		}
	}
	return out, nil
}

// DueForErasure lists the cases due under the configured retention.
func (p privacy) DueForErasure(_ context.Context, now time.Time) (wshttp.DueList, error) {
	out := wshttp.DueList{Erases: p.m.Config.RetentionErase, Items: p.m.Views.DueForErasure(p.m.Config.Retention, now)}
	if p.m.Config.Retention > 0 {
		out.Retention = p.m.Config.Retention.String()
	}
	return out, nil
}

// Export builds the inspector's bundle of case id.
func (p privacy) Export(ctx context.Context, id uuid.UUID) (any, error) {
	return p.m.Export(ctx, id)
}

// ExportType describes the bundle Export returns in /openapi.json.
func (privacy) ExportType() reflect.Type { return reflect.TypeFor[Export]() }

var _ wshttp.ExportDescriber = privacy{}

// keys returns the key file of the embedded store, which backups copy, or
// nil when personal values are not sealed or their keys live in the
// cluster.
func (m *Main) keys() *sealed.KeyStore {
	if m.Sealed == nil {
		return nil
	}
	ks, _ := m.Sealed.Keys().(*sealed.KeyStore)
	return ks
}

// rawStore returns the store as it holds events (personal values sealed).
func (m *Main) rawStore() eventstore.Store {
	if m.Sealed == nil {
		return m.Store
	}
	return m.Sealed.Inner()
}

// openForDisplay opens rec's sealed values, when there is a key store.
func (m *Main) openForDisplay(rec eventstore.RecordedEvent) (eventstore.RecordedEvent, error) {
	if m.Sealed == nil {
		return rec, nil
	}
	return m.Sealed.Open(rec)
}

// openedSource returns the embedded store s of data folder dir as a store
// that reads personal values opened (null when erased), for migrate to seal
// them again under the cluster's keys (docs/privacy.md). A folder without a
// key store reads as it is. The master key comes from value, else the file
// at path, else the folder's generated master.key; none is generated.
func openedSource(s *bolt.Store, dir, value, path string) (eventstore.Store, error) {
	if _, err := os.Stat(filepath.Join(dir, sealed.KeyFile)); errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if value == "" && path == "" {
		if _, err := os.Stat(filepath.Join(dir, sealed.MasterKeyFile)); err != nil {
			return nil, fmt.Errorf("the data folder's personal values are sealed: give its master key (WAYSTATION_MASTER_KEY or --master-key-file)")
		}
	}
	key, _, err := sealed.LoadMasterKey(value, path, dir)
	if err != nil {
		return nil, err
	}
	ks, err := sealed.OpenKeyStore(dir, key)
	clear(key)
	if err != nil {
		return nil, err
	}
	return sealed.New(s, ks, domain.PersonalPaths, domain.DataSubject), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
