package domain

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// Options are the request-level settings of a command.
type Options struct {
	// IdempotencyKey, when set, derives the written event IDs (and an
	// intake's case ID) from the actor and the key, so the same request
	// again writes nothing and returns the first result; the same key with
	// another request is refused (rule idempotency_key_reused).
	IdempotencyKey string
	// IfMatch, when set, holds the versions the caller accepts the target
	// stream to be at (HTTP If-Match); any other version is
	// precondition_failed and nothing is retried. An empty set matches no
	// version.
	IfMatch *VersionSet
	// CorrelationID and CausationID are copied into the metadata.
	CorrelationID string
	CausationID   string
	// Imported, when set, is copied into the metadata: the event is an
	// import of the source record it names.
	Imported *Imported
}

// VersionSet is a precondition on a stream's version: the versions a
// caller accepts. A nil *VersionSet is no precondition; an empty one
// accepts no version.
type VersionSet struct {
	versions []uint64
}

// Versions is the set of the given versions.
func Versions(v ...uint64) *VersionSet { return &VersionSet{versions: slices.Clone(v)} }

// Allows reports whether version satisfies the precondition: always for a
// nil set, else when version is one of the set's.
func (s *VersionSet) Allows(version uint64) bool {
	return s == nil || slices.Contains(s.versions, version)
}

// Result says where a command landed: the case ID (or station code, or
// token ID), the stream's version after it, the case's status, and the
// global position of the last event written, which read models must reach
// before the caller reads its own write (it includes a bed release the step
// caused). Replayed is true when the request
// had already been applied and nothing was written. BedReleasePending is
// true when the step needed a bed freed and that second write failed; it is
// completed by Reconcile or by repeating the request.
type Result struct {
	ID                string
	Version           uint64
	Status            Status
	Position          eventstore.Position
	Replayed          bool
	BedReleasePending bool
	// CaseNumber is an intake's case number; NumberPending is true when
	// numbering it failed after the intake was written (Reconcile numbers
	// it later).
	CaseNumber    string
	NumberPending bool
}

// Service runs commands against an event store: it loads the target
// stream, folds it, authorizes the actor, decides, and appends with the
// stream's revision as the expected revision, retrying a bounded number of
// times on a concurrency conflict. Its exported fields are set before first
// use. It is safe for concurrent use.
type Service struct {
	store eventstore.Store
	now   func() time.Time

	// MaxAttempts bounds the tries of one command under concurrency
	// conflicts (default 25). A step's first try may decide on a cached
	// state of the case that another writer has since moved on; its
	// conflict counts as a try.
	MaxAttempts int
	// HospitalBedHold keeps a hospitalized person's bed for this long after
	// admission (default 0: the bed is freed at admission). Expired holds
	// are freed by Reconcile and when a zone is found full.
	HospitalBedHold time.Duration
	// CachedCases bounds how many folded cases the service keeps, so that
	// a command on a recently used case reads only the events written
	// since (default 4096).
	CachedCases int

	regions  sync.Map // station code → region; registrations never change region
	stations sync.Map // station code → *cachedStation
	cases    caseCache

	numbers    registers  // the case number registers read
	unnumbered unnumbered // the intakes NumberCases found without a number
}

// cachedStation is a station folded up to some version. Station streams are
// append-only and never deleted, so later loads only read newer events.
type cachedStation struct {
	mu sync.Mutex
	st Station // guarded by mu
}

// NewService returns a service over store that reads the time from now
// (time.Now when nil).
func NewService(store eventstore.Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now, MaxAttempts: 25}
}

// errRetry asks the retry loop for another attempt.
var errRetry = errors.New("domain: retry")

// retry runs try until it succeeds, fails with something other than a
// concurrency conflict, or MaxAttempts is reached. With ifMatch a conflict
// is precondition_failed at once.
func (s *Service) retry(ctx context.Context, ifMatch bool, try func() (Result, error)) (Result, error) {
	n := s.MaxAttempts
	if n < 1 {
		n = 1
	}
	for attempt := 0; attempt < n; attempt++ {
		r, err := try()
		conflict := errors.Is(err, eventstore.ErrWrongExpectedVersion)
		if !conflict && !errors.Is(err, errRetry) {
			return r, storeErr(err)
		}
		if conflict && ifMatch {
			return Result{}, &Error{Code: CodePreconditionFailed, Message: "the target has changed since the given version"}
		}
		if attempt > 1 {
			d := time.Duration(rand.Int64N(int64(min(attempt, 10)) * int64(time.Millisecond)))
			select {
			case <-ctx.Done():
				return Result{}, storeErr(ctx.Err())
			case <-time.After(d):
			}
		}
	}
	return Result{}, &Error{Code: CodeConflict, Message: "the target kept changing; try again"}
}

// storeErr turns store failures into domain errors; domain errors pass.
func storeErr(err error) error {
	if err == nil {
		return nil
	}
	var de *Error
	switch {
	case errors.As(err, &de):
		return err
	case errors.Is(err, eventstore.ErrIdempotencyConflict):
		return Violation(RuleIdempotencyKeyReused, "the idempotency key was used for another request")
	case errors.Is(err, eventstore.ErrStreamNotFound), errors.Is(err, eventstore.ErrStreamDeleted):
		return NotFound("not found")
	}
	return Internal(err, "the event store failed")
}

func (s *Service) eventIDs(actor Actor, key string, n int) []uuid.UUID {
	ids := make([]uuid.UUID, n)
	for i := range ids {
		if key != "" {
			ids[i] = KeyedEventID(actor.ID, key, i)
		} else if id, err := uuid.NewV7(); err == nil {
			ids[i] = id
		} else {
			ids[i] = uuid.New()
		}
	}
	return ids
}

func (s *Service) meta(actor Actor, cmd Command, at, now time.Time, opts Options, hash string) Metadata {
	basis := cmd.common().LegalBasis
	if basis == "" {
		basis = BasisStatutoryDuty
	}
	return Metadata{
		OccurredAt: at.UTC(), RecordedAt: now.UTC(), Actor: actor.ID, Role: actor.Role,
		Station: actor.Station, Region: actor.Region, CorrelationID: opts.CorrelationID,
		CausationID: opts.CausationID, LegalBasis: basis, RequestHash: hash, Imported: opts.Imported,
	}
}

func (s *Service) append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, ids []uuid.UUID,
	events []Event, meta Metadata) (eventstore.AppendResult, error) {
	data := make([]eventstore.EventData, len(events))
	for i, e := range events {
		d, err := Encode(ids[i], e, meta)
		if err != nil {
			return eventstore.AppendResult{}, Internal(err, "an event cannot be encoded")
		}
		data[i] = d
	}
	return s.store.Append(ctx, stream, expected, data...)
}

func expectedFor(version uint64) eventstore.ExpectedRevision {
	if version == 0 {
		return eventstore.NoStream
	}
	return eventstore.Exact(version - 1)
}

// authorize resolves the regions Authorize needs and applies it.
func (s *Service) authorize(ctx context.Context, actor Actor, step Step, c *Case) error {
	regions := map[string]string{}
	if c != nil && (actor.Role == RoleCoordinator || actor.Role == RoleInspector) {
		codes := []string{c.Station}
		if c.Transfer != nil {
			codes = append(codes, c.Transfer.To)
		}
		for _, code := range codes {
			r, ok, err := s.region(ctx, code)
			if err != nil {
				return err
			}
			if ok {
				regions[code] = r
			}
		}
	}
	return Authorize(actor, step, c, func(code string) (string, bool) {
		r, ok := regions[code]
		return r, ok
	})
}
