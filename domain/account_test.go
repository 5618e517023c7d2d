package domain_test

import (
	"testing"
	"time"

	"waystation/domain"
)

func foldAccounts(given []any) *domain.Accounts {
	var a domain.Accounts
	for _, env := range envelopes(domain.AccessStream, given) {
		a.Evolve(env)
	}
	return &a
}

var (
	liWei = domain.AccountCreated{ID: "acc_1", Username: "li.wei", Name: "李伟", Role: domain.RoleStaff, Station: "S01",
		ActivationDigest: "d1", ActivationExpires: t0.Add(domain.ActivationValidity)}
	liWeiActive = domain.AccountActivated{ID: "acc_1", PasswordHash: "$argon2id$h"}
)

func TestAccountDecisions(t *testing.T) {
	now := t0.Add(time.Hour)
	cases := []struct {
		name  string
		given []any
		when  domain.Command
		known bool
		then  []domain.Event
		rule  string
		code  domain.Code
	}{
		{name: "an admin creates a staff account with a code valid 72 hours",
			when:  &domain.CreateAccount{ID: "acc_1", Username: " Li.Wei ", Name: "李伟", Role: domain.RoleStaff, Station: "S01", ActivationDigest: "d1"},
			known: true,
			then: []domain.Event{domain.AccountCreated{ID: "acc_1", Username: "li.wei", Name: "李伟", Role: domain.RoleStaff, Station: "S01",
				ActivationDigest: "d1", ActivationExpires: now.Add(72 * time.Hour)}}},
		{name: "a staff account needs a registered station",
			when: &domain.CreateAccount{ID: "acc_1", Username: "li.wei", Name: "李伟", Role: domain.RoleStaff, Station: "S09"},
			rule: domain.RuleUnknownStation},
		{name: "a username is taken whatever its case",
			given: []any{liWei},
			when:  &domain.CreateAccount{ID: "acc_2", Username: "LI.WEI", Name: "另一个李伟", Role: domain.RoleAdmin},
			rule:  domain.RuleAccountExists},
		{name: "a username with a space is refused naming the field",
			when: &domain.CreateAccount{ID: "acc_2", Username: "li wei", Name: "李伟", Role: domain.RoleAdmin},
			code: domain.CodeInvalid},
		{name: "an admin account keeps no station",
			when: &domain.CreateAccount{ID: "acc_2", Username: "admin", Name: "管理员", Role: domain.RoleAdmin, Station: "S01", Region: "R1"},
			then: []domain.Event{domain.AccountCreated{ID: "acc_2", Username: "admin", Name: "管理员", Role: domain.RoleAdmin,
				ActivationExpires: now.Add(72 * time.Hour)}}},
		{name: "the right code within 72 hours sets the password",
			given: []any{liWei},
			when:  &domain.ActivateAccount{Username: "LI.WEI", CodeDigest: "d1", PasswordHash: "$argon2id$h"},
			then:  []domain.Event{liWeiActive}},
		{name: "a wrong code is refused",
			given: []any{liWei},
			when:  &domain.ActivateAccount{Username: "li.wei", CodeDigest: "d2", PasswordHash: "$argon2id$h"},
			rule:  domain.RuleActivationInvalid},
		{name: "an unknown username is refused as a wrong code is",
			given: []any{liWei},
			when:  &domain.ActivateAccount{Username: "wang.fang", CodeDigest: "d1", PasswordHash: "$argon2id$h"},
			rule:  domain.RuleActivationInvalid},
		{name: "a code is used once",
			given: []any{liWei, liWeiActive},
			when:  &domain.ActivateAccount{Username: "li.wei", CodeDigest: "d1", PasswordHash: "$argon2id$h2"},
			rule:  domain.RuleActivationInvalid},
		{name: "a reset gives a new code and the old one stops working",
			given: []any{liWei, liWeiActive, domain.AccountReset{ID: "acc_1", ActivationDigest: "d2", ActivationExpires: t0.Add(100 * time.Hour)}},
			when:  &domain.ActivateAccount{Username: "li.wei", CodeDigest: "d1", PasswordHash: "$argon2id$h2"},
			rule:  domain.RuleActivationInvalid},
		{name: "a disabled account cannot be reset",
			given: []any{liWei, domain.AccountDisabled{ID: "acc_1"}},
			when:  &domain.ResetAccount{ID: "acc_1", ActivationDigest: "d3"},
			rule:  domain.RuleAccountDisabled},
		{name: "a disabled account cannot be activated",
			given: []any{liWei, domain.AccountDisabled{ID: "acc_1"}},
			when:  &domain.ActivateAccount{Username: "li.wei", CodeDigest: "d1", PasswordHash: "$argon2id$h"},
			rule:  domain.RuleActivationInvalid},
		{name: "disabling an unknown account is not found",
			when: &domain.DisableAccount{ID: "acc_9"},
			code: domain.CodeNotFound},
		{name: "two-factor needs a password first",
			given: []any{liWei},
			when:  &domain.EnrolTOTP{ID: "acc_1", Secret: "JBSWY3DPEHPK3PXP"},
			rule:  domain.RuleAccountNotActive},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := domain.DecideAccount(foldAccounts(c.given), c.when, c.known, now)
			wantOutcome(t, got, err, c.then, c.rule, c.code)
		})
	}
}

func TestAnActivationCodeExpiresAfter72Hours(t *testing.T) {
	a := foldAccounts([]any{liWei})
	cmd := func() *domain.ActivateAccount {
		return &domain.ActivateAccount{Username: "li.wei", CodeDigest: "d1", PasswordHash: "$argon2id$h"}
	}
	if _, err := domain.DecideAccount(a, cmd(), false, t0.Add(72*time.Hour-time.Second)); err != nil {
		t.Fatalf("a second before 72 hours: %v", err)
	}
	_, err := domain.DecideAccount(a, cmd(), false, t0.Add(72*time.Hour))
	if domain.RuleOf(err) != domain.RuleActivationInvalid {
		t.Fatalf("at 72 hours: %v; want %s", err, domain.RuleActivationInvalid)
	}
}

func TestSessionsEndByIdleTimeAbsoluteTimeLogoutDisableAndReset(t *testing.T) {
	login := func(session, digest string, at time.Duration) any {
		return after{at, domain.LoggedIn{Account: "acc_1", Session: session, Digest: digest, ExpiresAt: t0.Add(at + 12*time.Hour)}}
	}
	p := domain.DefaultSessionPolicy
	live := func(a *domain.Accounts, digest string, lastUse, now time.Time) bool {
		_, _, ok := a.Authenticate(digest, p, lastUse, now)
		return ok
	}
	a := foldAccounts([]any{liWei, liWeiActive, login("sess_a", "da", time.Minute)})
	start := t0.Add(time.Minute)
	if !live(a, "da", time.Time{}, start.Add(29*time.Minute)) || live(a, "da", time.Time{}, start.Add(30*time.Minute)) {
		t.Fatal("an unused session must live 30 minutes, and no longer")
	}
	if !live(a, "da", start.Add(11*time.Hour), start.Add(11*time.Hour+20*time.Minute)) {
		t.Fatal("a session used 20 minutes ago must live")
	}
	if live(a, "da", start.Add(12*time.Hour-time.Minute), start.Add(12*time.Hour)) {
		t.Fatal("a session must end 12 hours after the login, however busy")
	}
	seen := foldAccounts([]any{liWei, liWeiActive, login("sess_a", "da", time.Minute),
		after{25 * time.Minute, domain.SessionsSeen{Sessions: []domain.SessionSeen{{Session: "sess_a", At: t0.Add(25 * time.Minute)}}}}})
	if !live(seen, "da", time.Time{}, t0.Add(50*time.Minute)) {
		t.Fatal("a recorded use must carry the session past its first 30 minutes (a restart keeps it)")
	}
	for name, end := range map[string]any{
		"logout":  after{2 * time.Minute, domain.LoggedOut{Account: "acc_1", Session: "sess_a", Cause: domain.EndLogout}},
		"disable": after{2 * time.Minute, domain.AccountDisabled{ID: "acc_1"}},
		"reset":   after{2 * time.Minute, domain.AccountReset{ID: "acc_1", ActivationDigest: "d2"}},
	} {
		a := foldAccounts([]any{liWei, liWeiActive, login("sess_a", "da", time.Minute), end})
		if live(a, "da", time.Time{}, t0.Add(3*time.Minute)) {
			t.Errorf("the session lives after a %s", name)
		}
	}
	// The sessions stream may be folded before the access stream: a session
	// that began before the account was disabled still does not live.
	var a2 domain.Accounts
	access := envelopes(domain.AccessStream, []any{liWei, liWeiActive, after{2 * time.Minute, domain.AccountDisabled{ID: "acc_1"}}})
	sessions := envelopes(domain.SessionsStream, []any{login("sess_a", "da", time.Minute)})
	for _, env := range append(sessions, access...) {
		a2.Evolve(env)
	}
	if live(&a2, "da", time.Time{}, t0.Add(3*time.Minute)) {
		t.Error("a session folded before its account's disabling lives")
	}
	// A login after a reset and a new activation lives.
	a3 := foldAccounts([]any{liWei, liWeiActive, after{2 * time.Minute, domain.AccountReset{ID: "acc_1", ActivationDigest: "d2"}},
		after{3 * time.Minute, liWeiActive}, login("sess_b", "db", 4*time.Minute)})
	if !live(a3, "db", time.Time{}, t0.Add(5*time.Minute)) {
		t.Error("a login after a reset and a new password does not live")
	}
}

func TestOldSessionsAreForgottenAtTheNextLogin(t *testing.T) {
	given := []any{liWei, liWeiActive}
	for i := range 100 {
		d := time.Duration(i) * 13 * time.Hour
		given = append(given, after{d, domain.LoggedIn{Account: "acc_1", Session: "sess_" + string(rune('a'+i%26)) + string(rune('0'+i/26)),
			Digest: "d" + string(rune(i)), ExpiresAt: t0.Add(d + 12*time.Hour)}})
	}
	if n := len(foldAccounts(given).OpenSessions()); n != 1 {
		t.Fatalf("after 100 logins 13 hours apart %d sessions are kept; want 1", n)
	}
}

func TestRecoveryCodesAndOneTimeStepsAreUsedOnce(t *testing.T) {
	a := foldAccounts([]any{liWei, liWeiActive,
		domain.TOTPEnrolled{ID: "acc_1", Secret: "JBSWY3DPEHPK3PXP", RecoveryDigests: []string{"r1", "r2"}, Step: 100},
		domain.LoggedIn{Account: "acc_1", Session: "sess_a", Digest: "da", ExpiresAt: t0.Add(time.Hour), TOTPStep: 120},
		domain.RecoveryCodeUsed{ID: "acc_1", Digest: "r1"},
	})
	acc, _ := a.Account("acc_1")
	if secret, last := acc.TOTPSecret(); secret != "JBSWY3DPEHPK3PXP" || last != 120 {
		t.Fatalf("TOTP secret %q, last step %d; want the secret and 120", secret, last)
	}
	if _, ok := acc.RecoveryCode("r1"); ok {
		t.Fatal("a used recovery code is still accepted")
	}
	if _, ok := acc.RecoveryCode("r2"); !ok {
		t.Fatal("an unused recovery code is refused")
	}
}
