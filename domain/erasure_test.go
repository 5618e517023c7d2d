package domain_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

func TestErasePersonalData(t *testing.T) {
	f := newFixture(t)
	reason := domain.Erasure{Reason: domain.ErasureSubjectRequest, Trigger: domain.ErasureOnRequest}
	var destroyed []string
	destroy := func(_ context.Context, subject string) error {
		destroyed = append(destroyed, subject)
		return nil
	}
	id := f.admit(t, man, noFlags)

	t.Run("an open case is refused and nothing is destroyed", func(t *testing.T) {
		_, err := f.svc.ErasePersonalData(f.ctx, admin, id, reason, destroy)
		wantRule(t, err, domain.RuleErasureOfOpenCase)
		if len(destroyed) != 0 {
			t.Errorf("destroyed %v for a refused erasure", destroyed)
		}
	})
	t.Run("staff may not erase, and a reason is required", func(t *testing.T) {
		if _, err := f.svc.ErasePersonalData(f.ctx, staff1, id, reason, destroy); domain.ErrorCode(err) != domain.CodeForbidden {
			t.Errorf("staff erased: %v", err)
		}
		if _, err := f.svc.ErasePersonalData(f.ctx, admin, id, domain.Erasure{Trigger: domain.ErasureOnRequest}, destroy); domain.ErrorCode(err) != domain.CodeInvalid {
			t.Errorf("no reason: %v", err)
		}
	})

	ok(t)(f.svc.Execute(f.ctx, staff1, id, &domain.Absconding{}, domain.Options{}))
	before, err := f.svc.Case(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	ageBefore, _ := before.AgeOn(before.OpenedAt)
	f.clock.Advance(time.Hour)

	t.Run("an exited case is erased: event first, then the key", func(t *testing.T) {
		r := ok(t)(f.svc.ErasePersonalData(f.ctx, admin, id, reason, destroy))
		if r.Replayed || r.Version != before.Version+1 {
			t.Errorf("result %+v, want a new version %d", r, before.Version+1)
		}
		if len(destroyed) != 1 || destroyed[0] != domain.CaseStream(id) {
			t.Errorf("destroyed %v, want the case's stream", destroyed)
		}
		c, err := f.svc.Case(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if !c.PersonalDataErased() || c.Person.Name != "" || !c.Person.BirthDate.IsZero() {
			t.Errorf("case after erasure: erased=%v person=%+v", c.PersonalDataErased(), c.Person)
		}
		if age, ok := c.AgeOn(c.OpenedAt); !ok || age != ageBefore || c.Person.Sex != man.Sex {
			t.Errorf("age at intake %d (%v), sex %s; want %d, %s", age, ok, c.Person.Sex, ageBefore, man.Sex)
		}
		if c.Status != before.Status || c.ExitType != before.ExitType {
			t.Errorf("status %s/%s, want %s/%s", c.Status, c.ExitType, before.Status, before.ExitType)
		}
	})
	t.Run("erasing again writes nothing and destroys again", func(t *testing.T) {
		r := ok(t)(f.svc.ErasePersonalData(f.ctx, admin, id, reason, destroy))
		if !r.Replayed || r.Version != before.Version+1 {
			t.Errorf("result %+v, want a replay at version %d", r, before.Version+1)
		}
		if len(destroyed) != 2 {
			t.Errorf("destroy called %d times, want 2", len(destroyed))
		}
	})
}

// TestCheckPersonErasure: given a person with an exited case and an open
// one, when an erasure of the person is checked, then a non-admin is
// forbidden before the request is validated, a request without a reason
// is invalid, the open case refuses it with the person-wide message, a
// missing case is not found, and the exited case alone is allowed.
func TestCheckPersonErasure(t *testing.T) {
	f := newFixture(t)
	reason := domain.Erasure{Reason: domain.ErasureSubjectRequest, Trigger: domain.ErasureOnRequest}
	exited := f.admit(t, man, noFlags)
	ok(t)(f.svc.Execute(f.ctx, staff1, exited, &domain.Absconding{}, domain.Options{}))
	open := f.admit(t, man, noFlags)
	both := []uuid.UUID{exited, open}
	tests := []struct {
		name  string
		actor domain.Actor
		ids   []uuid.UUID
		req   domain.Erasure
		code  domain.Code
		msg   string
	}{
		{"staff are forbidden, whatever the request", staff1, both, domain.Erasure{},
			domain.CodeForbidden, "only admins erase personal data"},
		{"a reason is required", admin, both, domain.Erasure{Trigger: domain.ErasureOnRequest}, domain.CodeInvalid, ""},
		{"an open case of the person refuses it", admin, both, reason, domain.CodeRuleViolation,
			"one of the person's cases is still open; erase after it has exited"},
		{"a missing case is not found", admin, []uuid.UUID{exited, uuid.New()}, reason, domain.CodeNotFound, ""},
		{"the exited case alone may be erased", admin, []uuid.UUID{exited}, reason, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := f.svc.CheckPersonErasure(f.ctx, tt.actor, tt.ids, tt.req)
			if got := domain.ErrorCode(err); got != tt.code {
				t.Fatalf("got %v (code %q), want code %q", err, got, tt.code)
			}
			var de *domain.Error
			if tt.msg != "" && (!errors.As(err, &de) || de.Message != tt.msg) {
				t.Errorf("got %v, want the message %q", err, tt.msg)
			}
			if tt.code == domain.CodeRuleViolation && domain.RuleOf(err) != domain.RuleErasureOfOpenCase {
				t.Errorf("got rule %s, want %s", domain.RuleOf(err), domain.RuleErasureOfOpenCase)
			}
		})
	}
}

func TestDueForErasure(t *testing.T) {
	given := []any{intake(man, noFlags), domain.Absconded{}, domain.CaseClosed{}}
	c := foldCase(given)
	closed := c.ClosedAt
	tests := []struct {
		name      string
		retention time.Duration
		now       time.Time
		want      bool
	}{
		{"retention off", 0, closed.Add(1000 * 24 * time.Hour), false},
		{"before the period ends", 30 * 24 * time.Hour, closed.Add(29 * 24 * time.Hour), false},
		{"when the period ends", 30 * 24 * time.Hour, closed.Add(30 * 24 * time.Hour), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := domain.DueForErasure(c, tt.retention, tt.now); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	open := foldCase([]any{intake(man, noFlags)})
	if domain.DueForErasure(open, time.Hour, closed.Add(1000*time.Hour)) {
		t.Errorf("an open case is due for erasure")
	}
}
