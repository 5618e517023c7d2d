package domain_test

import (
	"strings"
	"testing"
	"time"

	"waystation/domain"
)

func TestAnAccountIsCreatedActivatedAndItsSessionsReadBackFromTheTail(t *testing.T) {
	f := newFixture(t)
	// Given an admin creates a staff account for S01.
	res := ok(t)(f.svc.AccountCommand(f.ctx, admin, &domain.CreateAccount{ID: "acc_1", Username: "Li.Wei", Name: "李伟",
		Role: domain.RoleStaff, Station: "S01", ActivationDigest: "d1"}, domain.Options{}))
	if res.ID != "acc_1" {
		t.Fatalf("result ID %q; want acc_1", res.ID)
	}
	// When staff try to create one, they are refused.
	_, err := f.svc.AccountCommand(f.ctx, staff1, &domain.CreateAccount{ID: "acc_2", Username: "x.y", Name: "X",
		Role: domain.RoleAdmin}, domain.Options{})
	if domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("staff creating an account: %v; want forbidden", err)
	}
	// When the person activates with the code, the account is active.
	ok(t)(f.svc.AccountCommand(f.ctx, domain.Actor{}, &domain.ActivateAccount{Username: "li.wei", CodeDigest: "d1",
		PasswordHash: "$argon2id$h"}, domain.Options{}))
	a, err := f.svc.Accounts(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	acc, found := a.ByUsername("LI.WEI")
	if !found || acc.State != domain.AccountStateActive || acc.PasswordHash() != "$argon2id$h" || acc.Name != "李伟" {
		t.Fatalf("account %+v, found %v", acc, found)
	}
	// Given logins a day apart, only the recent ones are read back.
	person := acc.Actor()
	for i := range 3 {
		ok(t)(f.svc.RecordSessions(f.ctx, person, nil, domain.LoggedIn{Account: "acc_1", Session: "sess_" + string(rune('a'+i)),
			Digest: "d" + string(rune('a'+i)), ExpiresAt: f.clock.Now().Add(12 * time.Hour)}))
		f.clock.Advance(24 * time.Hour)
	}
	n, err := f.svc.SessionsSince(f.ctx, &a, f.clock.Now().Add(-36*time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("SessionsSince: %d events, %v; want the stream's 3", n, err)
	}
	if got := a.SessionsOf("acc_1"); len(got) != 1 || got[0] != "sess_c" {
		t.Fatalf("sessions folded from the last 36 hours: %v; want [sess_c]", got)
	}
	// An append that expects another length is a conflict.
	stale := uint64(2)
	_, err = f.svc.RecordSessions(f.ctx, person, &stale, domain.LoggedOut{Account: "acc_1", Session: "sess_c", Cause: domain.EndLogout})
	if domain.ErrorCode(err) != domain.CodeConflict {
		t.Fatalf("an append at a stale length: %v; want a conflict", err)
	}
}

func TestTokensAndAccountsShareTheAccessStreamsCommandPath(t *testing.T) {
	f := newFixture(t)
	issue := &domain.IssueToken{ID: "tok_1", Name: "front desk", Role: domain.RoleStaff, Station: "S01", Hash: strings.Repeat("a1", 32)}
	create := &domain.CreateAccount{ID: "acc_1", Username: "li.wei", Name: "李伟", Role: domain.RoleStaff, Station: "S01",
		ActivationDigest: "d1"}
	// Given a token and then an account, each appends after the other.
	tok := ok(t)(f.svc.IssueToken(f.ctx, admin, issue, domain.Options{IdempotencyKey: "k-token"}))
	acc := ok(t)(f.svc.AccountCommand(f.ctx, admin, create, domain.Options{IdempotencyKey: "k-account"}))
	if tok.ID != "tok_1" || acc.ID != "acc_1" || acc.Version != tok.Version+1 {
		t.Fatalf("token %+v, account %+v; want tok_1 then acc_1 at the next version", tok, acc)
	}
	// When each is sent again with its key, it answers what was written.
	again := ok(t)(f.svc.IssueToken(f.ctx, admin, issue, domain.Options{IdempotencyKey: "k-token"}))
	if !again.Replayed || again.ID != "tok_1" || again.Version != tok.Version {
		t.Fatalf("the token again: %+v; want the replay of %+v", again, tok)
	}
	if again := ok(t)(f.svc.AccountCommand(f.ctx, admin, create, domain.Options{IdempotencyKey: "k-account"})); !again.Replayed || again.Version != acc.Version {
		t.Fatalf("the account again: %+v; want the replay of %+v", again, acc)
	}
	// Then a staff credential for an unregistered station is refused alike.
	_, err := f.svc.IssueToken(f.ctx, admin, &domain.IssueToken{ID: "tok_2", Role: domain.RoleStaff, Station: "S99", Hash: strings.Repeat("b2", 32)}, domain.Options{})
	wantRule(t, err, domain.RuleUnknownStation)
	_, err = f.svc.AccountCommand(f.ctx, admin, &domain.CreateAccount{ID: "acc_2", Username: "wang.fang", Name: "王芳",
		Role: domain.RoleStaff, Station: "S99", ActivationDigest: "d2"}, domain.Options{})
	wantRule(t, err, domain.RuleUnknownStation)
}
