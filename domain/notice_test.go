package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

var (
	lostMan = domain.Person{Sex: domain.Male, EstimatedAge: ptr(60), AgeEstimatedOn: date("2026-01-10"),
		CanStateIdentity: ptr(false)}
	lostBoy = domain.Person{Sex: domain.Male, EstimatedAge: ptr(9), AgeEstimatedOn: date("2026-01-10"),
		CanStateIdentity: ptr(false)}
	photoID   = uuid.MustParse("01940000-0000-7000-8000-0000000000a1")
	photo     = domain.PhotoAttached{PhotoID: photoID, ContentType: "image/jpeg", Width: 10, Height: 10, Bytes: 100}
	noticeID  = uuid.MustParse("01940000-0000-7000-8000-0000000000b1")
	published = domain.NoticePublished{NoticeID: noticeID, Shows: []domain.NoticeField{domain.NoticeSex}, Sex: domain.Male}
)

func foundAt(p domain.Person, place string) domain.IntakeRegistered {
	in := intake(p, noFlags)
	in.Referral.FoundAt = place
	return in
}

// TestPublishNotice: given a case, when staff publish a notice, then the
// event holds exactly the fields chosen, or the rule that refuses it.
func TestPublishNotice(t *testing.T) {
	now := t0.Add(24 * time.Hour)
	all := []domain.NoticeField{domain.NoticeSex, domain.NoticeAge, domain.NoticeHeight, domain.NoticeClothing,
		domain.NoticeFoundPlace, domain.NoticeFoundDate, domain.NoticeContact}
	for _, tc := range []struct {
		name  string
		given []any
		when  *domain.PublishNotice
		want  func(t *testing.T, e domain.NoticePublished)
		rule  string
	}{
		{
			name:  "shows the chosen fields from the case and the command, nothing else",
			given: []any{foundAt(lostMan, "north bridge"), eligible, checkedM},
			when:  &domain.PublishNotice{Shows: all, HeightCM: 170, Clothing: "blue coat", Contact: "0311-1234"},
			want: func(t *testing.T, e domain.NoticePublished) {
				if e.Sex != domain.Male || e.Age == nil || *e.Age != 60 || e.HeightCM != 170 || e.Clothing != "blue coat" ||
					e.FoundPlace != "north bridge" || e.FoundOn != date("2026-01-10") || e.Contact != "0311-1234" {
					t.Errorf("notice %+v", e)
				}
				if e.Health != "" || e.Features != "" || e.PhotoID != uuid.Nil {
					t.Errorf("notice shows what was not chosen: %+v", e)
				}
			},
		},
		{
			name:  "leaves out the place found when not chosen",
			given: []any{foundAt(lostMan, "north bridge")},
			when:  &domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeSex}},
			want: func(t *testing.T, e domain.NoticePublished) {
				if e.FoundPlace != "" || e.Age != nil {
					t.Errorf("notice %+v", e)
				}
			},
		},
		{
			name:  "an adult's photo is shown without a basis",
			given: []any{intake(lostMan, noFlags), photo},
			when:  &domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticePhoto}, PhotoID: photoID},
			want: func(t *testing.T, e domain.NoticePublished) {
				if e.PhotoID != photoID {
					t.Errorf("photo %s, want %s", e.PhotoID, photoID)
				}
			},
		},
		{
			name:  "a minor's photo is shown with its legal basis recorded",
			given: []any{intake(lostBoy, noFlags), photo},
			when: &domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticePhoto}, PhotoID: photoID,
				PhotoBasis: "guardianship, Minors Protection Law art. 92"},
			want: func(t *testing.T, e domain.NoticePublished) {
				if e.PhotoID != photoID || e.PhotoBasis == "" {
					t.Errorf("notice %+v", e)
				}
			},
		},
		{
			name:  "a minor's photo without a basis is refused",
			given: []any{intake(lostBoy, noFlags), photo},
			when:  &domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticePhoto}, PhotoID: photoID},
			rule:  domain.RuleMinorPhotoNeedsBasis,
		},
		{
			name:  "a photo of another case is refused",
			given: []any{intake(lostMan, noFlags)},
			when:  &domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticePhoto}, PhotoID: photoID},
			rule:  domain.RuleUnknownPhoto,
		},
		{
			name:  "a person who can state their identity has no notice",
			given: []any{intake(man, noFlags)},
			when:  &domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeSex}},
			rule:  domain.RuleNoticeNeedsUnstatedIdentity,
		},
		{
			name: "a person helped first because they cannot state their details may have one",
			given: []any{intake(domain.Person{Sex: domain.Female, EstimatedAge: ptr(80)}, noFlags),
				domain.EligibilityDecided{AssistFirst: true}},
			when: &domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeSex}},
		},
		{
			name:  "a second notice while one is public is refused",
			given: []any{intake(lostMan, noFlags), published},
			when:  &domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeSex}},
			rule:  domain.RuleNoticeAlreadyPublished,
		},
		{
			name: "a new notice after a withdrawal is published",
			given: []any{intake(lostMan, noFlags), published,
				domain.NoticeWithdrawn{NoticeID: noticeID, Reason: domain.WithdrawnByStaff}},
			when: &domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeSex}},
			want: func(t *testing.T, e domain.NoticePublished) {
				if e.NoticeID == noticeID {
					t.Error("the new notice has the old one's ID")
				}
			},
		},
		{
			name:  "an identified person has no notice",
			given: []any{intake(lostMan, noFlags), domain.IdentityVerified{Method: domain.VerifiedByPolice}},
			when:  &domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeSex}},
			rule:  domain.RuleAlreadyIdentified,
		},
		{
			name:  "a case that has exited has no notice",
			given: []any{intake(lostMan, noFlags), domain.Absconded{}},
			when:  &domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeSex}},
			rule:  domain.RuleCaseExited,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.when.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			c := foldCase(tc.given)
			got, err := domain.Decide(c, tc.when, now)
			if tc.rule != "" {
				if domain.RuleOf(err) != tc.rule {
					t.Fatalf("got %v, %v; want rule %s", got, err, tc.rule)
				}
				return
			}
			if err != nil || len(got) != 1 {
				t.Fatalf("got %v, %v; want one notice", got, err)
			}
			e, ok := got[0].(domain.NoticePublished)
			if !ok {
				t.Fatalf("got %T", got[0])
			}
			if e.NoticeID == uuid.Nil {
				t.Error("the notice has no ID")
			}
			if tc.want != nil {
				tc.want(t, e)
			}
		})
	}
}

// TestPublishNoticeValidates: a request that is wrong in itself is invalid,
// naming the field.
func TestPublishNoticeValidates(t *testing.T) {
	for _, tc := range []struct {
		cmd   domain.PublishNotice
		field string
	}{
		{domain.PublishNotice{}, "shows"},
		{domain.PublishNotice{Shows: []domain.NoticeField{"name"}}, "shows"},
		{domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeSex, domain.NoticeSex}}, "shows"},
		{domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeHeight}}, "height_cm"},
		{domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeSex}, Clothing: "coat"}, "clothing"},
		{domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeHeight}, HeightCM: 900}, "height_cm"},
		{domain.PublishNotice{Shows: []domain.NoticeField{domain.NoticeSex}, PhotoBasis: "b"}, "photo_basis"},
	} {
		err := tc.cmd.Validate()
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeInvalid || de.Field != tc.field {
			t.Errorf("%+v: %v; want invalid %s", tc.cmd, err, tc.field)
		}
	}
}

// TestNoticeIsWithdrawn: given a public notice, when staff withdraw it, or
// a step identifies the person or ends the case, then the step's events
// end with the notice's withdrawal, giving the reason.
func TestNoticeIsWithdrawn(t *testing.T) {
	base := []any{intake(lostMan, noFlags), eligible, checkedM, published}
	for _, tc := range []struct {
		name   string
		when   domain.Command
		reason domain.WithdrawalReason
	}{
		{"by staff", &domain.WithdrawNotice{}, domain.WithdrawnByStaff},
		{"when identified", &domain.IdentityVerification{Method: domain.VerifiedByPolice}, domain.WithdrawnIdentity},
		{"when picked up", &domain.Pickup{Collector: domain.Collector{Name: "n", IDType: domain.IDPassport, IDNumber: "p",
			Relationship: "son"}}, domain.WithdrawnExit},
		{"when absconded", &domain.Absconding{}, domain.WithdrawnExit},
		{"when died", &domain.DeathCmd{Place: "p"}, domain.WithdrawnExit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := domain.Decide(foldCase(base), tc.when, t0.Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			last, ok := got[len(got)-1].(domain.NoticeWithdrawn)
			if !ok || last.NoticeID != noticeID || last.Reason != tc.reason {
				t.Fatalf("events %+v; want them to end with the withdrawal of %s (%s)", got, noticeID, tc.reason)
			}
			if n := countWithdrawals(got); n != 1 {
				t.Errorf("%d withdrawals", n)
			}
			c := foldCase(append(base, asAny(got)...))
			if _, public := c.PublicNotice(); public {
				t.Error("the notice is still public")
			}
			if ns := c.Notices(); len(ns) != 1 || !ns[0].Withdrawn || ns[0].Reason != tc.reason {
				t.Errorf("notices %+v", ns)
			}
		})
	}
	t.Run("a step that neither identifies nor ends leaves it public", func(t *testing.T) {
		got, err := domain.Decide(foldCase(base), &domain.DNARequest{}, t0.Add(24*time.Hour))
		if err != nil || countWithdrawals(got) != 0 {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	t.Run("withdrawing with no notice public is refused", func(t *testing.T) {
		c := foldCase(with(base, domain.NoticeWithdrawn{NoticeID: noticeID, Reason: domain.WithdrawnByStaff}))
		_, err := domain.Decide(c, &domain.WithdrawNotice{}, t0.Add(24*time.Hour))
		if domain.RuleOf(err) != domain.RuleNoNoticePublished {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("an exit with no notice public writes no withdrawal", func(t *testing.T) {
		got, err := domain.Decide(foldCase(base[:3]), &domain.Absconding{}, t0.Add(24*time.Hour))
		if err != nil || countWithdrawals(got) != 0 {
			t.Fatalf("got %v, %v", got, err)
		}
	})
}

// TestNoticeHistoryTellsWhatWasPublicWhen: the case's notices keep when
// each was published and withdrawn.
func TestNoticeHistoryTellsWhatWasPublicWhen(t *testing.T) {
	second := published
	second.NoticeID = photoID
	c := foldCase([]any{intake(lostMan, noFlags), after{time.Hour, published},
		after{2 * time.Hour, domain.NoticeWithdrawn{NoticeID: noticeID, Reason: domain.WithdrawnByStaff}},
		after{3 * time.Hour, second}})
	ns := c.Notices()
	if len(ns) != 2 || !ns[0].PublishedAt.Equal(t0.Add(time.Hour)) || !ns[0].WithdrawnAt.Equal(t0.Add(2*time.Hour)) ||
		ns[1].Withdrawn || !ns[1].PublishedAt.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("notices %+v", ns)
	}
	if n, ok := c.PublicNotice(); !ok || n.NoticeID != photoID {
		t.Fatalf("public notice %+v, %v", n, ok)
	}
}

func countWithdrawals(evs []domain.Event) int {
	n := 0
	for _, e := range evs {
		if _, ok := e.(domain.NoticeWithdrawn); ok {
			n++
		}
	}
	return n
}

func asAny(evs []domain.Event) []any {
	out := make([]any, len(evs))
	for i, e := range evs {
		out[i] = e
	}
	return out
}
