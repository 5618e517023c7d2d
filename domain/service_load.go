package domain

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"waystation/eventstore"
)

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
// its station's allocation and its number from its register.
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
	if c.CaseNumber, err = s.CaseNumber(ctx, c); err != nil {
		return Case{}, err
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
