package domain_test

import (
	"reflect"
	"testing"

	"github.com/google/uuid"

	"waystation/domain"
)

// unregisteredEvent is an event type that the Events registry does not know.
type unregisteredEvent struct{}

func (unregisteredEvent) EventType() string { return "case.test_only_unregistered" }

func TestApplyReachesTheStateEvolveReturns(t *testing.T) {
	envs := envelopes(domain.CaseStream(caseID), with(inStation(man, noFlags),
		domain.BelongingsDeposited{Items: []domain.Item{{Item: "phone", Qty: 1}}},
		domain.PoliceReportFiled{Reason: "lost"},
		domain.Absconded{}, domain.CaseClosed{}))
	var applied, evolved domain.Case
	for i, env := range envs {
		applied.Apply(env)
		evolved = domain.Evolve(evolved, env)
		if !reflect.DeepEqual(applied, evolved) {
			t.Fatalf("after event %d (%s): Apply gave %+v, Evolve %+v", i, env.Event.EventType(), applied, evolved)
		}
	}
}

func TestEvolveLeavesAnEarlierStateValid(t *testing.T) {
	envs := envelopes(domain.CaseStream(caseID), with(inStation(man, noFlags), domain.IdentityQueried{}, domain.Absconded{}))
	n := len(envs)
	// given a state that was advanced in place and then copied
	var owner domain.Case
	for _, env := range envs[:n-2] {
		owner.Apply(env)
	}
	copied := owner
	// when the owner goes on in place and the copy is evolved with another event
	owner.Apply(envs[n-2])
	other := envs[n-1]
	other.Revision = envs[n-2].Revision
	other.ID = uuid.MustParse("01940000-0000-7000-8000-000000009999")
	forked := domain.Evolve(copied, other)
	// then each state knows its own events and not the other's
	if typ, ok := owner.EventType(envs[n-2].ID); !ok || typ != domain.TypeIdentityQueried {
		t.Errorf("owner: event %v has type %q, %v; want %s", envs[n-2].ID, typ, ok, domain.TypeIdentityQueried)
	}
	if _, ok := owner.EventType(other.ID); ok {
		t.Errorf("owner sees the forked state's event")
	}
	if typ, ok := forked.EventType(other.ID); !ok || typ != domain.TypeAbsconded {
		t.Errorf("forked: event %v has type %q, %v; want %s", other.ID, typ, ok, domain.TypeAbsconded)
	}
	if _, ok := forked.EventType(envs[n-2].ID); ok {
		t.Errorf("forked state sees the owner's later event")
	}
	if _, ok := copied.EventType(envs[n-2].ID); ok {
		t.Errorf("the copy sees an event applied after it was taken")
	}
	if owner.Status == domain.StatusExited || forked.Status != domain.StatusExited {
		t.Errorf("statuses: owner %s, forked %s", owner.Status, forked.Status)
	}
}

func TestEventTypeOfEveryEventOfTheCase(t *testing.T) {
	given := with(inStation(man, noFlags), domain.IdentityVerified{Method: "id card"}, unregisteredEvent{}, domain.PersonalDataErased{})
	c := foldCase(given)
	envs := envelopes(domain.CaseStream(caseID), given)
	for _, env := range envs {
		typ, ok := c.EventType(env.ID)
		if !ok || typ != env.Event.EventType() {
			t.Errorf("event %v: type %q, %v; want %s", env.ID, typ, ok, env.Event.EventType())
		}
	}
	if typ, ok := c.EventType(caseID); ok {
		t.Errorf("the case ID is taken for an event of type %q", typ)
	}
	if !c.PersonalDataErased() {
		t.Error("the erasure event is not seen")
	}
	if foldCase(given[:len(given)-1]).PersonalDataErased() {
		t.Error("a case never erased reports erasure")
	}
}
