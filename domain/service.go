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

// readStream decodes every event of stream into fn and reports whether the
// stream exists.
func (s *Service) readStream(ctx context.Context, stream string, fn func(Envelope)) (bool, error) {
	for rec, err := range s.store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{}) {
		if err != nil {
			if errors.Is(err, eventstore.ErrStreamNotFound) || errors.Is(err, eventstore.ErrStreamDeleted) {
				return false, nil
			}
			return false, storeErr(err)
		}
		env, err := Decode(rec)
		if err != nil {
			return false, Internal(err, "a stored event cannot be read")
		}
		fn(env)
	}
	return true, nil
}

// replay spots the events a keyed request already wrote.
type replay struct {
	ids   map[uuid.UUID]bool
	found bool
	hash  string
	last  Envelope
	cs    Case
}

func newReplay(actor Actor, key string) *replay {
	if key == "" {
		return nil
	}
	r := &replay{ids: map[uuid.UUID]bool{}}
	for i := range 8 {
		r.ids[KeyedEventID(actor.ID, key, i)] = true
	}
	return r
}

// see records env when it belongs to the request and reports whether it did.
func (r *replay) see(env Envelope) bool {
	if r == nil || !r.ids[env.ID] {
		return false
	}
	r.found = true
	r.hash = env.Meta.RequestHash
	r.last = env
	return true
}

// check returns errReused when the key's events came from another request.
func (r *replay) check(hash string) (bool, error) {
	if r == nil || !r.found {
		return false, nil
	}
	if r.hash != hash {
		return true, Violation(RuleIdempotencyKeyReused, "the idempotency key was used for another request")
	}
	return true, nil
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
		CausationID: opts.CausationID, LegalBasis: basis, RequestHash: hash,
	}
}

func (s *Service) append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, ids []uuid.UUID, events []Event, meta Metadata) (eventstore.AppendResult, error) {
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

// region returns a station's region and whether the station is registered.
func (s *Service) region(ctx context.Context, code string) (string, bool, error) {
	if code == "" {
		return "", false, nil
	}
	if r, ok := s.regions.Load(code); ok {
		return r.(string), true, nil
	}
	for rec, err := range s.store.ReadStream(ctx, StationStream(code), eventstore.ReadStreamOptions{Limit: 1}) {
		if err != nil {
			if errors.Is(err, eventstore.ErrStreamNotFound) || errors.Is(err, eventstore.ErrStreamDeleted) {
				return "", false, nil
			}
			return "", false, storeErr(err)
		}
		env, err := Decode(rec)
		if err != nil {
			return "", false, Internal(err, "a stored event cannot be read")
		}
		if reg, ok := env.Event.(StationRegistered); ok {
			s.regions.Store(code, reg.Region)
			return reg.Region, true, nil
		}
	}
	return "", false, nil
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

// loadCase folds case id's stream, feeding rp; found is false when the
// case does not exist. With rp (a keyed request) it reads the whole stream
// so that rp sees every event; otherwise it starts from the cached state
// and reads only the events written since. Case streams are append-only
// and never deleted by the domain; a stream found missing is dropped from
// the cache.
func (s *Service) loadCase(ctx context.Context, id uuid.UUID, rp *replay) (Case, bool, error) {
	var c Case
	if rp == nil {
		c, _ = s.cases.get(id)
	}
	envs, found, err := s.readCaseFrom(ctx, id, c.Version)
	if err != nil || !found {
		return Case{}, false, err
	}
	c.own() // a cached state is shared: Apply must not append into its slices
	for _, env := range envs {
		c.Apply(env)
		if rp.see(env) {
			rp.cs = c
		}
	}
	if !c.Exists() {
		return c, false, nil
	}
	s.cases.put(id, c, s.CachedCases)
	return c, true, nil
}

// correctedEvent reads event id of case c from its stream, for a
// correction to be checked against; nil when c has no such event.
func (s *Service) correctedEvent(ctx context.Context, c Case, id uuid.UUID) (*Envelope, error) {
	rev, ok := c.revisionOf(id)
	if !ok {
		return nil, nil
	}
	for rec, err := range s.store.ReadStream(ctx, CaseStream(c.ID), eventstore.ReadStreamOptions{From: rev, Limit: 1}) {
		if err != nil {
			return nil, storeErr(err)
		}
		env, err := Decode(rec)
		if err != nil {
			return nil, Internal(err, "a stored event cannot be read")
		}
		if env.ID != id {
			return nil, Internal(nil, "the case's stream does not hold the corrected event at its revision")
		}
		return &env, nil
	}
	return nil, Internal(nil, "the corrected event is missing from the case's stream")
}

// readCaseFrom decodes the events of case id's stream from revision from
// on, and reports whether the stream exists (dropping a missing one from
// the cache). It is apart from loadCase so that the folded state, which is
// large, does not move to the heap with the loop's body.
func (s *Service) readCaseFrom(ctx context.Context, id uuid.UUID, from uint64) ([]Envelope, bool, error) {
	var envs []Envelope
	for rec, err := range s.store.ReadStream(ctx, CaseStream(id), eventstore.ReadStreamOptions{From: from}) {
		if err != nil {
			if errors.Is(err, eventstore.ErrStreamNotFound) || errors.Is(err, eventstore.ErrStreamDeleted) {
				s.cases.drop(id)
				return nil, false, nil
			}
			return nil, false, storeErr(err)
		}
		env, err := Decode(rec)
		if err != nil {
			return nil, false, Internal(err, "a stored event cannot be read")
		}
		envs = append(envs, env)
	}
	return envs, true, nil
}

// loadStation folds a station stream. With rp (a keyed request) it reads
// the whole stream so that rp sees every event; otherwise it starts from
// the cached state and reads only the events written since.
func (s *Service) loadStation(ctx context.Context, code string, rp *replay) (Station, error) {
	v, _ := s.stations.LoadOrStore(code, &cachedStation{})
	cache := v.(*cachedStation)
	var st Station
	from := uint64(0)
	if rp == nil {
		cache.mu.Lock()
		st = cache.st.Clone()
		cache.mu.Unlock()
		from = st.Version
	}
	for rec, err := range s.store.ReadStream(ctx, StationStream(code), eventstore.ReadStreamOptions{From: from}) {
		if err != nil {
			if errors.Is(err, eventstore.ErrStreamNotFound) || errors.Is(err, eventstore.ErrStreamDeleted) {
				break
			}
			return Station{}, storeErr(err)
		}
		env, err := Decode(rec)
		if err != nil {
			return Station{}, Internal(err, "a stored event cannot be read")
		}
		st.Evolve(env)
		rp.see(env)
	}
	cache.mu.Lock()
	if st.Version > cache.st.Version {
		cache.st = st.Clone()
	}
	cache.mu.Unlock()
	return st, nil
}

// Case returns the current state of case id, with its bed filled in from
// its station's allocation.
func (s *Service) Case(ctx context.Context, id uuid.UUID) (Case, error) {
	c, found, err := s.loadCase(ctx, id, nil)
	if err != nil {
		return Case{}, err
	}
	if !found {
		return Case{}, NotFound("no such case")
	}
	st, err := s.loadStation(ctx, c.Station, nil)
	if err != nil {
		return Case{}, err
	}
	if p, ok := st.BedOf(id); ok {
		c.Bed = &Bed{Zone: p.Zone, Bed: p.Bed}
	}
	return c, nil
}

// Station returns the current state of the station with code.
func (s *Service) Station(ctx context.Context, code string) (Station, error) {
	st, err := s.loadStation(ctx, code, nil)
	if err != nil {
		return Station{}, err
	}
	if !st.Registered() {
		return Station{}, NotFound("no such station")
	}
	return st, nil
}

// Access returns the state of the access stream (every token issued).
func (s *Service) Access(ctx context.Context) (Access, error) {
	var a Access
	_, err := s.readStream(ctx, AccessStream, a.Evolve)
	return a, err
}

// Intake opens a case at cmd.Station for actor.
func (s *Service) Intake(ctx context.Context, actor Actor, cmd *Intake, opts Options) (Result, error) {
	if err := cmd.Validate(); err != nil {
		return Result{}, err
	}
	caseID := KeyedCaseID(actor.ID, opts.IdempotencyKey)
	if opts.IdempotencyKey == "" {
		caseID = s.eventIDs(actor, "", 1)[0]
	}
	hash := requestHash(StepIntake, "", cmd)
	return s.retry(ctx, false, func() (Result, error) {
		if opts.IdempotencyKey != "" {
			rp := newReplay(actor, opts.IdempotencyKey)
			_, found, err := s.loadCase(ctx, caseID, rp)
			if err != nil {
				return Result{}, err
			}
			if found {
				if ok, err := rp.check(hash); ok || err != nil {
					return Result{ID: caseID.String(), Version: rp.last.Revision + 1, Status: rp.cs.Status, Position: rp.last.Position, Replayed: true}, err
				}
				return Result{}, Violation(RuleIdempotencyKeyReused, "the idempotency key was used for another request")
			}
		}
		if err := s.authorize(ctx, actor, StepIntake, &Case{Station: cmd.Station}); err != nil {
			return Result{}, err
		}
		if _, ok, err := s.region(ctx, cmd.Station); err != nil || !ok {
			return Result{}, firstErr(err, Violation(RuleUnknownStation, "no station with that code"))
		}
		if cmd.MotherCaseID != (uuid.UUID{}) {
			m, found, err := s.loadCase(ctx, cmd.MotherCaseID, nil)
			if err != nil {
				return Result{}, err
			}
			if !found || m.Person.Sex != Female || m.Station != cmd.Station || !m.Active() {
				return Result{}, Violation(RuleMotherCaseInvalid, "the mother's case must be an open case of a woman at the same station")
			}
		}
		now := s.now()
		events, err := Decide(Case{ID: caseID}, cmd, now)
		if err != nil {
			return Result{}, err
		}
		ids := s.eventIDs(actor, opts.IdempotencyKey, len(events))
		meta := s.meta(actor, cmd, OccurredAt(cmd, now), now, opts, hash)
		stream := CaseStream(caseID)
		res, err := s.append(ctx, stream, eventstore.NoStream, ids, events, meta)
		if err != nil {
			return Result{}, err
		}
		c := Case{}
		for i, e := range events {
			c = Evolve(c, Envelope{Stream: stream, Revision: c.Version, ID: ids[i], Meta: meta, Event: e})
		}
		s.cases.put(caseID, c, s.CachedCases)
		return Result{ID: caseID.String(), Version: res.NextExpectedRevision + 1, Status: StatusReceived, Position: res.Position}, nil
	})
}

// Execute takes a step on an existing case: any case command, including
// the bed steps, which are decided and written on the station stream. A
// step that ends the case's claim to a bed (exit, hospital admission,
// handover) appends the case event and then frees the bed on the station
// stream with an event ID derived from the case event's ID.
func (s *Service) Execute(ctx context.Context, actor Actor, caseID uuid.UUID, cmd Command, opts Options) (Result, error) {
	switch v := cmd.(type) {
	case *Intake:
		return s.Intake(ctx, actor, v, opts)
	case *AssignBed, *ReleaseBed:
		return s.executeBed(ctx, actor, caseID, cmd, opts)
	case *RegisterStation, *ChangeZones, *IssueToken, *RevokeToken:
		return Result{}, Invalid("step", "not a case step")
	}
	if err := cmd.Validate(); err != nil {
		return Result{}, err
	}
	hash := requestHash(cmd.Step(), caseID.String(), cmd)
	tries := 0
	return s.retry(ctx, opts.IfMatch != nil, func() (Result, error) {
		tries++
		if tries == 1 && opts.IdempotencyKey == "" {
			// The cached state is used as it is: the append expects its
			// version, so a state that another writer has moved on fails
			// with a conflict, and the next try reads the stream. A refusal
			// is only given once the stored state agrees.
			if c, ok := s.cases.get(caseID); ok {
				r, err := s.step(ctx, actor, caseID, c, cmd, opts, hash)
				var de *Error
				if !errors.As(err, &de) || de.Code == CodeInternal {
					return r, err
				}
			}
		}
		rp := newReplay(actor, opts.IdempotencyKey)
		c, found, err := s.loadCase(ctx, caseID, rp)
		if err != nil {
			return Result{}, err
		}
		if !found {
			return Result{}, NotFound("no such case")
		}
		if ok, err := rp.check(hash); ok || err != nil {
			if err != nil {
				return Result{}, err
			}
			r := Result{ID: caseID.String(), Version: rp.last.Revision + 1, Status: rp.cs.Status, Position: rp.last.Position, Replayed: true}
			if rel := c.ReleaseDue; rel != nil {
				s.settleInto(ctx, &r, actor, c, rel.Station)
			}
			return r, nil
		}
		return s.step(ctx, actor, caseID, c, cmd, opts, hash)
	})
}

// step decides cmd on case state c and appends the outcome with c's
// version as the expected revision, then frees the case's bed when the
// step requires it. The case's state after the step is cached.
func (s *Service) step(ctx context.Context, actor Actor, caseID uuid.UUID, c Case, cmd Command, opts Options, hash string) (Result, error) {
	if err := s.authorize(ctx, actor, cmd.Step(), &c); err != nil {
		return Result{}, err
	}
	if !opts.IfMatch.Allows(c.Version) {
		return Result{}, &Error{Code: CodePreconditionFailed, Message: "the case has changed since the given version"}
	}
	if tr, ok := cmd.(*TransferRequest); ok {
		if _, known, err := s.region(ctx, tr.ToStation); err != nil || !known {
			return Result{}, firstErr(err, Violation(RuleUnknownStation, "no station with that code"))
		}
	}
	if v, ok := cmd.(*Correct); ok && v.Target == nil {
		target, err := s.correctedEvent(ctx, c, v.EventID)
		if err != nil {
			return Result{}, err
		}
		with := *v
		with.Target = target
		cmd = &with
	}
	now := s.now()
	events, err := Decide(c, cmd, now)
	if err != nil {
		return Result{}, err
	}
	ids := s.eventIDs(actor, opts.IdempotencyKey, len(events))
	meta := s.meta(actor, cmd, OccurredAt(cmd, now), now, opts, hash)
	id := caseID.String()
	stream := CaseStreamPrefix + id // CaseStream(caseID), with id kept for the result
	res, err := s.append(ctx, stream, expectedFor(c.Version), ids, events, meta)
	if err != nil {
		return Result{}, err
	}
	for i, e := range events {
		c = Evolve(c, Envelope{Stream: stream, Revision: c.Version, ID: ids[i], Meta: meta, Event: e})
	}
	s.cases.put(caseID, c, s.CachedCases)
	r := Result{ID: id, Version: c.Version, Status: c.Status, Position: res.Position}
	if rel := c.ReleaseDue; rel != nil && containsID(ids, rel.Cause) {
		s.settleInto(ctx, &r, actor, c, rel.Station)
	}
	return r, nil
}

func containsID(ids []uuid.UUID, id uuid.UUID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// settleBed frees case c's bed at the station with code when ReleaseNeeded
// says so. The release's event ID is derived from the placement and the
// causing event, so repeating it (here, on a replayed request, or in
// Reconcile) writes nothing new.
func (s *Service) settleBed(ctx context.Context, actor Actor, c Case, code string) (eventstore.Position, error) {
	r, err := s.retry(ctx, false, func() (Result, error) {
		now := s.now()
		rel, need := ReleaseNeeded(c, code, s.HospitalBedHold, now)
		if !need {
			return Result{}, nil
		}
		st, err := s.loadStation(ctx, code, nil)
		if err != nil {
			return Result{}, err
		}
		events := DecideRelease(&st, c.ID, rel)
		if len(events) == 0 {
			return Result{}, nil
		}
		p, _ := st.BedOf(c.ID)
		id := DerivedEventID(p.AssignID, "bed-release:"+rel.Cause.String())
		at := rel.At
		if at.IsZero() || at.Before(p.Since) {
			at = now
		}
		meta := Metadata{OccurredAt: at.UTC(), RecordedAt: now.UTC(), Actor: actor.ID, Role: actor.Role,
			Station: actor.Station, Region: actor.Region, LegalBasis: BasisStatutoryDuty}
		if rel.Cause != (uuid.UUID{}) {
			meta.CausationID = rel.Cause.String()
		}
		res, err := s.append(ctx, StationStream(code), expectedFor(st.Version), []uuid.UUID{id}, events, meta)
		return Result{Position: res.Position}, err
	})
	return r.Position, err
}

// settleInto frees the bed as settleBed does and records the outcome in r:
// a later log position when a release was written, or BedReleasePending.
func (s *Service) settleInto(ctx context.Context, r *Result, actor Actor, c Case, code string) {
	pos, err := s.settleBed(ctx, actor, c, code)
	if err != nil {
		r.BedReleasePending = true
		return
	}
	if r.Position.Before(pos) {
		r.Position = pos
	}
}

// executeBed runs AssignBed and ReleaseBed on the case's station stream.
func (s *Service) executeBed(ctx context.Context, actor Actor, caseID uuid.UUID, cmd Command, opts Options) (Result, error) {
	if err := cmd.Validate(); err != nil {
		return Result{}, err
	}
	hash := requestHash(cmd.Step(), caseID.String(), cmd)
	reconciled := false
	return s.retry(ctx, false, func() (Result, error) {
		c, found, err := s.loadCase(ctx, caseID, nil)
		if err != nil {
			return Result{}, err
		}
		if !found {
			return Result{}, NotFound("no such case")
		}
		if err := s.authorize(ctx, actor, cmd.Step(), &c); err != nil {
			return Result{}, err
		}
		if !opts.IfMatch.Allows(c.Version) {
			return Result{}, &Error{Code: CodePreconditionFailed, Message: "the case has changed since the given version"}
		}
		rp := newReplay(actor, opts.IdempotencyKey)
		st, err := s.loadStation(ctx, c.Station, rp)
		if err != nil {
			return Result{}, err
		}
		if ok, err := rp.check(hash); ok || err != nil {
			return Result{ID: caseID.String(), Version: c.Version, Status: c.Status, Position: rp.last.Position, Replayed: true}, err
		}
		now := s.now()
		events, err := DecideBed(&st, c, cmd, now)
		if rule := RuleOf(err); (rule == RuleZoneFull || rule == RuleBedTaken) && !reconciled {
			reconciled = true
			if n, rerr := s.reconcile(ctx, actor, &st, cmd.(*AssignBed).Zone); rerr == nil && n > 0 {
				return Result{}, errRetry
			}
		}
		if err != nil {
			return Result{}, err
		}
		if len(events) == 0 {
			return Result{ID: caseID.String(), Version: c.Version, Status: c.Status}, nil
		}
		ids := s.eventIDs(actor, opts.IdempotencyKey, len(events))
		meta := s.meta(actor, cmd, OccurredAt(cmd, now), now, opts, hash)
		res, err := s.append(ctx, StationStream(st.Code), expectedFor(st.Version), ids, events, meta)
		if err != nil {
			return Result{}, err
		}
		r := Result{ID: caseID.String(), Version: c.Version, Status: c.Status, Position: res.Position}
		if _, assign := cmd.(*AssignBed); assign {
			// The case may have exited while the bed was being assigned:
			// look again, and free the bed if it may no longer be held.
			again, _, err := s.loadCase(ctx, caseID, nil)
			if err == nil {
				if _, need := ReleaseNeeded(again, st.Code, s.HospitalBedHold, s.now()); need {
					s.settleInto(ctx, &r, actor, again, st.Code)
				}
				r.Version, r.Status = again.Version, again.Status
			}
		}
		return r, nil
	})
}

// Reconcile completes half-done bed pairs at the station with code: every
// bed held by a case that may no longer hold it (exited, moved away by a
// handover, in hospital past the hold) is freed, with the same event IDs
// the interrupted step would have used. Ops calls it at start; the Service
// also calls it for a zone it finds full. It returns how many beds it freed.
func (s *Service) Reconcile(ctx context.Context, code string) (int, error) {
	st, err := s.loadStation(ctx, code, nil)
	if err != nil {
		return 0, err
	}
	if !st.Registered() {
		return 0, NotFound("no such station")
	}
	return s.reconcile(ctx, Actor{ID: "waystation", Role: RoleAdmin}, &st, "")
}

func (s *Service) reconcile(ctx context.Context, actor Actor, st *Station, zone Zone) (int, error) {
	freed := 0
	for _, p := range st.Placements() {
		if zone != "" && p.Zone != zone {
			continue
		}
		c, found, err := s.loadCase(ctx, p.CaseID, nil)
		if err != nil {
			return freed, err
		}
		if !found {
			continue
		}
		if _, need := ReleaseNeeded(c, st.Code, s.HospitalBedHold, s.now()); !need {
			continue
		}
		if _, err := s.settleBed(ctx, actor, c, st.Code); err != nil {
			return freed, err
		}
		freed++
	}
	return freed, nil
}

// RegisterStation registers a station (admins only).
func (s *Service) RegisterStation(ctx context.Context, actor Actor, cmd *RegisterStation, opts Options) (Result, error) {
	if err := cmd.Validate(); err != nil {
		return Result{}, err
	}
	return s.stationCommand(ctx, actor, cmd.Code, cmd, opts)
}

// ChangeZones replaces the zones of the station with code (admins only).
func (s *Service) ChangeZones(ctx context.Context, actor Actor, code string, cmd *ChangeZones, opts Options) (Result, error) {
	if err := cmd.Validate(); err != nil {
		return Result{}, err
	}
	return s.stationCommand(ctx, actor, code, cmd, opts)
}

func (s *Service) stationCommand(ctx context.Context, actor Actor, code string, cmd Command, opts Options) (Result, error) {
	if err := Authorize(actor, cmd.Step(), nil, nil); err != nil {
		return Result{}, err
	}
	hash := requestHash(cmd.Step(), code, cmd)
	return s.retry(ctx, opts.IfMatch != nil, func() (Result, error) {
		rp := newReplay(actor, opts.IdempotencyKey)
		st, err := s.loadStation(ctx, code, rp)
		if err != nil {
			return Result{}, err
		}
		if ok, err := rp.check(hash); ok || err != nil {
			return Result{ID: code, Version: rp.last.Revision + 1, Position: rp.last.Position, Replayed: true}, err
		}
		if !opts.IfMatch.Allows(st.Version) {
			return Result{}, &Error{Code: CodePreconditionFailed, Message: "the station has changed since the given version"}
		}
		now := s.now()
		events, err := DecideStation(&st, cmd, now)
		if err != nil {
			return Result{}, err
		}
		ids := s.eventIDs(actor, opts.IdempotencyKey, len(events))
		meta := s.meta(actor, cmd, OccurredAt(cmd, now), now, opts, hash)
		res, err := s.append(ctx, StationStream(code), expectedFor(st.Version), ids, events, meta)
		if err != nil {
			return Result{}, err
		}
		return Result{ID: code, Version: res.NextExpectedRevision + 1, Position: res.Position}, nil
	})
}

// IssueToken records a token (admins only).
func (s *Service) IssueToken(ctx context.Context, actor Actor, cmd *IssueToken, opts Options) (Result, error) {
	return s.accessCommand(ctx, actor, cmd.ID, cmd, opts)
}

// RevokeToken revokes a token (admins only).
func (s *Service) RevokeToken(ctx context.Context, actor Actor, cmd *RevokeToken, opts Options) (Result, error) {
	return s.accessCommand(ctx, actor, cmd.ID, cmd, opts)
}

func (s *Service) accessCommand(ctx context.Context, actor Actor, id string, cmd Command, opts Options) (Result, error) {
	if err := cmd.Validate(); err != nil {
		return Result{}, err
	}
	if err := Authorize(actor, cmd.Step(), nil, nil); err != nil {
		return Result{}, err
	}
	hash := requestHash(cmd.Step(), id, cmd)
	return s.retry(ctx, false, func() (Result, error) {
		rp := newReplay(actor, opts.IdempotencyKey)
		var a Access
		if _, err := s.readStream(ctx, AccessStream, func(env Envelope) { a.Evolve(env); rp.see(env) }); err != nil {
			return Result{}, err
		}
		if ok, err := rp.check(hash); ok || err != nil {
			return Result{ID: id, Version: rp.last.Revision + 1, Position: rp.last.Position, Replayed: true}, err
		}
		known := false
		if it, ok := cmd.(*IssueToken); ok && it.Role == RoleStaff {
			var err error
			if _, known, err = s.region(ctx, it.Station); err != nil {
				return Result{}, err
			}
		}
		now := s.now()
		events, err := DecideAccess(&a, cmd, known, now)
		if err != nil {
			return Result{}, err
		}
		ids := s.eventIDs(actor, opts.IdempotencyKey, len(events))
		meta := s.meta(actor, cmd, OccurredAt(cmd, now), now, opts, hash)
		res, err := s.append(ctx, AccessStream, expectedFor(a.Version), ids, events, meta)
		if err != nil {
			return Result{}, err
		}
		return Result{ID: id, Version: res.NextExpectedRevision + 1, Position: res.Position}, nil
	})
}
