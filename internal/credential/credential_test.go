package credential_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"waystation/domain"
	"waystation/internal/credential"
)

// cheap keeps the tests fast; DefaultParams are measured by the benchmark.
var cheap = credential.Params{Time: 1, Memory: 64, Threads: 1}

func TestAPasswordVerifiesOnlyItself(t *testing.T) {
	h := credential.HashPassword("correct horse battery", cheap)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %q is not a PHC argon2id string", h)
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		got, err := credential.VerifyPassword(h, pw)
		if err != nil || got != want {
			t.Errorf("verify %q = %v, %v; want %v", pw, got, err, want)
		}
	}
	if h2 := credential.HashPassword("correct horse battery", cheap); h2 == h {
		t.Error("two hashes of one password are equal: the salt is not fresh")
	}
}

// TestAHashVerifiesUnderTheCostsItWasMadeWith: a hash keeps its own costs,
// so hashes made under other costs than DefaultParams (an earlier default
// among them) still verify after DefaultParams change.
func TestAHashVerifiesUnderTheCostsItWasMadeWith(t *testing.T) {
	for _, tc := range []struct {
		name string
		hash string
		want credential.Params
	}{
		// Made under m=64 MiB, t=3, p=1, the default before the current one.
		{"an earlier default", "$argon2id$v=19$m=65536,t=3,p=1$gKajT4+T90BoatCPWxfDBg$7X6C7OXHqC6LAPi5Jg3oB+8XR77O5+aNdsIz8LVaVNE",
			credential.Params{Time: 3, Memory: 64 * 1024, Threads: 1}},
		{"two lanes", credential.HashPassword("correct horse battery staple", credential.Params{Time: 2, Memory: 256, Threads: 2}),
			credential.Params{Time: 2, Memory: 256, Threads: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == credential.DefaultParams {
				t.Fatalf("the case's costs %+v are DefaultParams: it checks nothing", tc.want)
			}
			if got, err := credential.ParamsOf(tc.hash); err != nil || got != tc.want {
				t.Errorf("ParamsOf = %+v, %v; want %+v", got, err, tc.want)
			}
			for pw, want := range map[string]bool{"correct horse battery staple": true, "correct horse battery": false} {
				if got, err := credential.VerifyPassword(tc.hash, pw); err != nil || got != want {
					t.Errorf("verify %q = %v, %v; want %v", pw, got, err, want)
				}
			}
		})
	}
}

func TestAMalformedHashIsAnErrorNeverAMatch(t *testing.T) {
	for _, h := range []string{"", "$argon2id$", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5"} {
		ok, err := credential.VerifyPassword(h, "x")
		if ok || !errors.Is(err, credential.ErrMalformedHash) {
			t.Errorf("verify against %q = %v, %v; want false, ErrMalformedHash", h, ok, err)
		}
	}
}

func FuzzVerifyPassword(f *testing.F) {
	f.Add(credential.HashPassword("pw", cheap), "pw")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "")
	f.Fuzz(func(t *testing.T, hash, pw string) {
		p, err := credential.ParamsOf(hash)
		if err == nil && (p.Memory > 1<<16 || p.Time > 4) {
			return // a valid but costly hash: not what this fuzzes
		}
		ok, err := credential.VerifyPassword(hash, pw)
		if err != nil && ok {
			t.Fatal("an error and a match")
		}
	})
}

func TestPasswordRules(t *testing.T) {
	cases := []struct {
		name, password, username string
		refused                  bool
	}{
		{"nine characters are too few", "abcdefgh9", "li.wei", true},
		{"ten characters are enough", "tr0ut-lake", "li.wei", false},
		{"ten Chinese characters are enough", "我家门前有两棵枣树", "li.wei", true},
		{"eleven Chinese characters are enough", "我家门前有两棵枣树啊啊", "li.wei", false},
		{"a common password is refused", "1qaz2wsx3edc", "li.wei", true},
		{"a common password in other case is refused", "PassWord1234", "li.wei", true},
		{"a Chinese leak pattern is refused", "woaini1314", "li.wei", true},
		{"the service's own name is refused", "Waystation123", "li.wei", true},
		{"a password holding the username is refused", "li.wei-2026-spring", "li.wei", true},
		{"129 characters are too many", strings.Repeat("a", 129), "li.wei", true},
		{"128 characters are allowed", strings.Repeat("ab", 64), "li.wei", false},
		{"invalid UTF-8 is refused", "abcdefghij\xff", "li.wei", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := credential.CheckPassword(c.password, c.username)
			if (err != nil) != c.refused {
				t.Fatalf("CheckPassword = %v; want refused %v", err, c.refused)
			}
			var e *domain.Error
			if err != nil && (!errors.As(err, &e) || e.Field != "password" || strings.Contains(err.Error(), c.password)) {
				t.Fatalf("error %v: want an invalid-input error naming the field password, never the password", err)
			}
		})
	}
}

func TestATOTPCodeWorksOnceWithinOneStepOfSkew(t *testing.T) {
	e, err := credential.NewTOTP("Waystation", "li.wei")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.URL, "otpauth://totp/Waystation:li.wei?") || len(e.QRCode) < 100 || string(e.QRCode[1:4]) != "PNG" {
		t.Fatalf("enrolment %q with a %d-byte QR code", e.URL, len(e.QRCode))
	}
	now := time.Date(2026, 12, 2, 10, 0, 15, 0, time.UTC)
	code := func(at time.Time) string {
		c, err := totp.GenerateCode(e.Secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	step, ok := credential.CheckTOTP(e.Secret, code(now), now, 0)
	if !ok || step != credential.TOTPStep(now) {
		t.Fatalf("the current code: step %d, %v", step, ok)
	}
	if _, ok := credential.CheckTOTP(e.Secret, code(now), now.Add(10*time.Second), step); ok {
		t.Error("the same code was accepted twice")
	}
	if _, ok := credential.CheckTOTP(e.Secret, code(now.Add(-30*time.Second)), now, 0); !ok {
		t.Error("the previous step's code was refused (one step of skew is allowed)")
	}
	if _, ok := credential.CheckTOTP(e.Secret, code(now.Add(-90*time.Second)), now, 0); ok {
		t.Error("a code three steps old was accepted")
	}
	wrong := []byte(code(now))
	wrong[0] = '0' + (wrong[0]-'0'+1)%10
	for _, c := range []string{string(wrong), "", "12345", "1234567", "abcdef"} {
		if _, ok := credential.CheckTOTP(e.Secret, c, now, 0); ok {
			t.Errorf("code %q accepted", c)
		}
	}
}

func TestCodesAreTypedForgivingly(t *testing.T) {
	c := credential.NewCode()
	if len(c) != 19 || strings.Count(c, "-") != 3 {
		t.Fatalf("code %q is not four groups of four", c)
	}
	typed := strings.ToUpper(strings.ReplaceAll(c, "-", " "))
	typed = strings.NewReplacer("0", "O", "1", "l").Replace(typed)
	if !credential.SameDigest(credential.Digest(c), credential.NormalizeCode(typed)) {
		t.Fatalf("%q typed as %q does not match", c, typed)
	}
	s1, s2 := credential.NewSessionID(), credential.NewSessionID()
	if credential.NewCode() == c || s1 == s2 {
		t.Fatal("two fresh secrets are equal")
	}
	if n := len(credential.NewSessionID()); n != 43 {
		t.Fatalf("session ID of %d characters; want 43 (256 bits)", n)
	}
}

func TestTheThrottleLocksAfterFiveFailuresAndGrows(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	th := credential.NewThrottle(5, 15*time.Minute, func() time.Time { return now })
	fail := func() ([]string, time.Duration) { now = now.Add(time.Second); return th.Fail("u:li.wei", "a:10.0.0.7") }
	for i := 1; i <= 4; i++ {
		if locked, d := fail(); len(locked) != 0 || d != 0 {
			t.Fatalf("failure %d locked %v for %v", i, locked, d)
		}
	}
	locked, d := fail()
	if len(locked) != 2 || d != time.Minute {
		t.Fatalf("the fifth failure locked %v for %v; want both keys for 1m", locked, d)
	}
	if got := th.Locked("u:li.wei"); got <= 0 || got > time.Minute {
		t.Fatalf("Locked = %v during the lock", got)
	}
	if got := th.Locked("u:wang.fang", "a:10.0.0.8"); got != 0 {
		t.Fatalf("an unrelated key is locked for %v", got)
	}
	now = now.Add(time.Minute)
	if got := th.Locked("u:li.wei"); got != 0 {
		t.Fatalf("still locked %v after the lock", got)
	}
	if locked, d := fail(); len(locked) != 2 || d != 2*time.Minute {
		t.Fatalf("a failure right after the lock locked %v for %v; want 2m", locked, d)
	}
	now = now.Add(2 * time.Minute)
	if _, d := fail(); d != 4*time.Minute {
		t.Fatalf("the next lock is %v; want 4m", d)
	}
	now = now.Add(time.Hour)
	for i := 1; i <= 4; i++ {
		if _, d := fail(); d != 0 {
			t.Fatalf("after an hour without failures, failure %d locked for %v", i, d)
		}
	}
	if _, d := fail(); d != time.Minute {
		t.Fatalf("after an hour the lock starts over: %v; want 1m", d)
	}
}

func TestTheThrottleIsBoundedUnderAFloodOfKeys(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	th := credential.NewThrottle(5, 15*time.Minute, func() time.Time { return now })
	th.MaxKeys = 1000
	for i := range 50_000 {
		th.Fail("a:" + strings.Repeat("x", i%7) + string(rune(i)))
	}
	// Locks and counts stay usable: a fresh key still locks after five.
	for range 4 {
		th.Fail("u:li.wei")
	}
	if _, d := th.Fail("u:li.wei"); d != time.Minute {
		t.Fatalf("after the flood a username's fifth failure locks for %v", d)
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		credential.HashPassword("correct horse battery", credential.DefaultParams)
	}
}

func BenchmarkIsCommon(b *testing.B) {
	credential.IsCommon("warm up")
	for b.Loop() {
		credential.IsCommon("1qaz2wsx3edc")
	}
}
