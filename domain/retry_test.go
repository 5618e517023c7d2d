package domain_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// busyStore is the embedded store with another writer: before each of the
// next `times` appends it appends a relatives-contacted event of its own
// to the same stream, so the service's expected revision is stale.
type busyStore struct {
	eventstore.Store
	mu    sync.Mutex
	times int
}

func (s *busyStore) interfere(n int) { s.mu.Lock(); s.times = n; s.mu.Unlock() }

func (s *busyStore) Append(ctx context.Context, stream string, expected eventstore.ExpectedRevision, events ...eventstore.EventData) (eventstore.AppendResult, error) {
	s.mu.Lock()
	busy := s.times > 0
	if busy {
		s.times--
	}
	s.mu.Unlock()
	if busy {
		d, err := domain.Encode(uuid.New(), domain.RelativesContacted{Outcome: "other writer"}, domain.Metadata{OccurredAt: t0.Add(1), Actor: "other", Role: domain.RoleStaff})
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		if _, err := s.Store.Append(ctx, stream, eventstore.Any, d); err != nil {
			return eventstore.AppendResult{}, err
		}
	}
	return s.Store.Append(ctx, stream, expected, events...)
}

func TestServiceRetriesConcurrencyConflicts(t *testing.T) {
	f := newFixture(t)
	busy := &busyStore{Store: f.store}
	svc := domain.NewService(busy, f.clock.Now)
	id := f.admit(t, man, noFlags)

	busy.interfere(1)
	r := ok(t)(svc.Execute(f.ctx, staff1, id, &domain.RelativesContact{Outcome: "reached"}, domain.Options{}))
	if r.Version != 5 {
		t.Fatalf("after one conflict and a retry the case is at version %d, want 5", r.Version)
	}

	busy.interfere(1)
	v := r.Version
	_, err := svc.Execute(f.ctx, staff1, id, &domain.RelativesContact{}, domain.Options{IfMatch: domain.Versions(v)})
	if !errors.Is(err, domain.ErrPreconditionFailed) {
		t.Fatalf("a conflict under If-Match: %v", err)
	}

	svc.MaxAttempts = 2
	busy.interfere(5)
	_, err = svc.Execute(f.ctx, staff1, id, &domain.RelativesContact{}, domain.Options{})
	if !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("after the attempts run out: %v", err)
	}
	c, _ := svc.Case(f.ctx, id)
	// 5, then the other writer's event under If-Match, then two of its
	// events during the two attempts: 8, and none of ours.
	if c.Version != 8 {
		t.Fatalf("version %d: the refused attempts wrote something", c.Version)
	}
}

func TestServiceCoordinatorsAcrossRegions(t *testing.T) {
	f := newFixture(t)
	reg := &domain.RegisterStation{Code: "S09", Name: "far", Region: "R9", Kind: domain.KindRegionalCenter, Zones: station.Zones}
	ok(t)(f.svc.RegisterStation(f.ctx, admin, reg, domain.Options{}))
	coordR1 := domain.Actor{ID: "c1", Role: domain.RoleCoordinator, Region: "R1"}
	coordR9 := domain.Actor{ID: "c9", Role: domain.RoleCoordinator, Region: "R9"}
	id := f.admit(t, man, noFlags)
	_, err := f.svc.Execute(f.ctx, coordR9, id, &domain.TransferRequest{ToStation: "S09", Reason: "r"}, domain.Options{})
	if domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("another region's coordinator requested a transfer: %v", err)
	}
	ok(t)(f.svc.Execute(f.ctx, coordR1, id, &domain.TransferRequest{ToStation: "S09", Reason: "regional center"}, domain.Options{}))
	ok(t)(f.svc.Execute(f.ctx, coordR9, id, &domain.TransferAccept{}, domain.Options{}))
	_, err = f.svc.Execute(f.ctx, coordR9, id, &domain.EscortDeparture{Escorts: []string{"e"}}, domain.Options{})
	if domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("the receiving region's coordinator escorted: %v", err)
	}
	ok(t)(f.svc.Execute(f.ctx, coordR1, id, &domain.EscortDeparture{Escorts: []string{"e"}}, domain.Options{}))
	r := ok(t)(f.svc.Execute(f.ctx, coordR9, id, &domain.HandoverCmd{ReceivedBy: "r"}, domain.Options{}))
	if r.Status != domain.StatusInStation {
		t.Fatalf("after handover %+v", r)
	}
	c, _ := f.svc.Case(f.ctx, id)
	if c.Station != "S09" {
		t.Fatalf("the case is at %s", c.Station)
	}
}
