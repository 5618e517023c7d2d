package domain

import (
	"slices"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// Family-search notices for the public (寻亲公告): a station publishes one
// from a case whose person cannot state who they are, showing only the
// fields staff choose; the published event holds exactly what the public
// sees, so the case's history tells an inspector what was public when. A
// notice is withdrawn by staff, and by itself (an event in the same append)
// when the person is identified or leaves; erasure comes after the exit, so
// it finds no notice standing.

// Stored names of the notice, photo and lead events. Never rename or reuse
// them.
const (
	TypeNoticePublished = "case.public_notice_published"
	TypeNoticeWithdrawn = "case.public_notice_withdrawn"
	TypePhotoAttached   = "case.photo_attached"
	TypeLeadReceived    = "case.lead_received"
	TypePhotoStored     = "photo.stored"
)

// The notice steps. Never rename them.
const (
	StepPublicNotice   Step = "public-notice"
	StepWithdrawNotice Step = "public-notice-withdrawal"
	// StepAttachPhoto is attaching a photo to a case (an upload, not a
	// JSON step).
	StepAttachPhoto Step = "photo"
)

// Rules of the notices.
const (
	RuleNoticeNeedsUnstatedIdentity = "notice_needs_unstated_identity"
	RuleNoticeAlreadyPublished      = "notice_already_published"
	RuleNoNoticePublished           = "no_notice_published"
	RuleMinorPhotoNeedsBasis        = "minor_photo_needs_basis"
	RuleUnknownPhoto                = "unknown_photo"
)

// NoticeField is a field a public notice may show. Stored: never reorder,
// rename or reuse the values.
type NoticeField string

// The notice fields, the ones the national family-search platform carries.
const (
	NoticeSex        NoticeField = "sex"
	NoticeAge        NoticeField = "age"
	NoticeHeight     NoticeField = "height"
	NoticeHealth     NoticeField = "health"
	NoticeFeatures   NoticeField = "features"
	NoticeClothing   NoticeField = "clothing"
	NoticeFoundPlace NoticeField = "found_place"
	NoticeFoundDate  NoticeField = "found_date"
	NoticeContact    NoticeField = "contact"
	NoticePhoto      NoticeField = "photo"
)

// Values lists the notice fields in display order.
func (NoticeField) Values() []string {
	return []string{"sex", "age", "height", "health", "features", "clothing", "found_place", "found_date",
		"contact", "photo"}
}

// Valid reports whether f is a notice field.
func (f NoticeField) Valid() bool { return slices.Contains(f.Values(), string(f)) }

// WithdrawalReason says why a notice stopped being public. Stored: never
// reorder, rename or reuse the values.
type WithdrawalReason string

// The withdrawal reasons.
const (
	WithdrawnByStaff   WithdrawalReason = "staff"
	WithdrawnIdentity  WithdrawalReason = "identified"
	WithdrawnExit      WithdrawalReason = "exited"
	WithdrawnByErasure WithdrawalReason = "erased"
)

// Values lists the withdrawal reasons.
func (WithdrawalReason) Values() []string { return []string{"staff", "identified", "exited", "erased"} }

// Valid reports whether r is a withdrawal reason.
func (r WithdrawalReason) Valid() bool { return slices.Contains(r.Values(), string(r)) }

// NoticePublished is a public family-search notice as the public sees it:
// only the fields in Shows are set. Age is the age in whole years on the
// day of publication (estimated or from the birth date); FoundOn the date
// of arrival. The descriptions and the place are sealed with the case's
// key, so erasing the person's data erases the notice's text too.
type NoticePublished struct {
	NoticeID   uuid.UUID     `json:"notice_id" correctable:"false"`
	Shows      []NoticeField `json:"shows" correctable:"false"`
	Sex        Sex           `json:"sex,omitempty" correctable:"false"`
	Age        *int          `json:"age,omitempty" correctable:"false"`
	HeightCM   int           `json:"height_cm,omitempty" correctable:"false"`
	Health     string        `json:"health,omitempty" personal:"true" correctable:"false" text:"reason"`
	Features   string        `json:"features,omitempty" personal:"true" correctable:"false" text:"reason"`
	Clothing   string        `json:"clothing,omitempty" personal:"true" correctable:"false" text:"reason"`
	FoundPlace string        `json:"found_place,omitempty" personal:"true" correctable:"false" text:"line"`
	FoundOn    Date          `json:"found_on,omitzero" correctable:"false"`
	Contact    string        `json:"contact,omitempty" correctable:"false" text:"line"`
	PhotoID    uuid.UUID     `json:"photo_id,omitzero" personal:"true" correctable:"false"`
	PhotoBasis string        `json:"photo_basis,omitempty" personal:"true" correctable:"false" text:"reason"`
	Notes      string        `json:"notes,omitempty" personal:"true" text:"notes"`
}

// NoticeWithdrawn ends the public notice NoticeID.
type NoticeWithdrawn struct {
	NoticeID uuid.UUID        `json:"notice_id" correctable:"false"`
	Reason   WithdrawalReason `json:"reason" correctable:"false"`
	Notes    string           `json:"notes,omitempty" personal:"true" text:"notes"`
}

// PhotoAttached records a photo of the person attached to the case: its
// ID, its kind and size. The image itself is in the photo's own stream
// (PhotoStream), sealed with the case's key.
type PhotoAttached struct {
	PhotoID     uuid.UUID `json:"photo_id" correctable:"false" doc:"The photo's ID, to show it on a notice (photo_id)."`
	ContentType string    `json:"content_type" correctable:"false" text:"code" doc:"image/jpeg or image/png."`
	Width       int       `json:"width" correctable:"false" doc:"Width in pixels."`
	Height      int       `json:"height" correctable:"false" doc:"Height in pixels."`
	Bytes       int       `json:"bytes" correctable:"false" doc:"Size of the stored image in bytes."`
}

// PhotoStored holds one photo's image (base64 of the re-encoded JPEG or
// PNG), the only event of the photo's stream; Image is personal.
type PhotoStored struct {
	CaseID      uuid.UUID `json:"case_id" correctable:"false"`
	PhotoID     uuid.UUID `json:"photo_id" correctable:"false"`
	ContentType string    `json:"content_type" correctable:"false" text:"code"`
	Image       string    `json:"image" personal:"true" correctable:"false" text:"notes"`
}

// LeadReceived is what a member of the public sent about a notice: the
// sender's details and message, sealed, and the receipt number they were
// given.
type LeadReceived struct {
	LeadID       uuid.UUID `json:"lead_id" correctable:"false"`
	NoticeID     uuid.UUID `json:"notice_id" correctable:"false"`
	Receipt      string    `json:"receipt" correctable:"false" text:"ref"`
	Name         string    `json:"name,omitempty" personal:"true" correctable:"false" text:"name"`
	Phone        string    `json:"phone,omitempty" personal:"true" correctable:"false" text:"ref"`
	Relationship string    `json:"relationship,omitempty" personal:"true" correctable:"false" text:"line"`
	Message      string    `json:"message" personal:"true" correctable:"false" text:"notes"`
}

func (NoticePublished) EventType() string { return TypeNoticePublished }
func (NoticeWithdrawn) EventType() string { return TypeNoticeWithdrawn }
func (PhotoAttached) EventType() string   { return TypePhotoAttached }
func (PhotoStored) EventType() string     { return TypePhotoStored }
func (LeadReceived) EventType() string    { return TypeLeadReceived }

// PhotoStreamPrefix begins the name of a photo's stream:
// "photo-<case ID>-<photo ID>". Its data subject is the case.
const PhotoStreamPrefix = "photo-"

// PhotoStream returns the stream name of photo id of case caseID.
func PhotoStream(caseID, id uuid.UUID) string {
	return PhotoStreamPrefix + caseID.String() + "-" + id.String()
}

// photoStreamCase returns the case of a photo stream name and true, or
// false for any other stream.
func photoStreamCase(stream string) (uuid.UUID, bool) {
	const n = len(PhotoStreamPrefix)
	if len(stream) != n+36+1+36 || stream[:n] != PhotoStreamPrefix || stream[n+36] != '-' {
		return uuid.UUID{}, false
	}
	c, err := uuid.Parse(stream[n : n+36])
	if err != nil {
		return uuid.UUID{}, false
	}
	if _, err := uuid.Parse(stream[n+37:]); err != nil {
		return uuid.UUID{}, false
	}
	return c, true
}

// PublishNotice publishes a family-search notice for the public. Shows
// names the fields it shows; the sex, age, place found and date found come
// from the case, the others from this command (a shown description must be
// given, and one not shown must be left out). A photo is one attached to
// the case; for a minor it needs PhotoBasis, the legal basis of showing it.
type PublishNotice struct {
	Common
	Shows      []NoticeField `json:"shows" max:"10" doc:"The fields the notice shows: sex, age, height, health, features, clothing, found_place, found_date, contact, photo."`
	HeightCM   int           `json:"height_cm,omitempty" doc:"Height in centimetres (shown with height), 30 to 250."`
	Health     string        `json:"health,omitempty" text:"reason" doc:"Health and mental state as the public may read it (shown with health)."`
	Features   string        `json:"features,omitempty" text:"reason" doc:"Distinguishing features (shown with features)."`
	Clothing   string        `json:"clothing,omitempty" text:"reason" doc:"Clothing when found (shown with clothing)."`
	Contact    string        `json:"contact,omitempty" text:"line" doc:"The station's contact for the public, a phone number or office (shown with contact)."`
	PhotoID    uuid.UUID     `json:"photo_id,omitzero" doc:"The attached photo to show (with photo)."`
	PhotoBasis string        `json:"photo_basis,omitempty" text:"reason" doc:"For a minor: the legal basis of showing the photo; a minor's notice shows no photo without it."`
}

// Step returns StepPublicNotice.
func (*PublishNotice) Step() Step { return StepPublicNotice }

// Validate checks the fields and that the descriptions given are the
// ones shown.
func (c *PublishNotice) Validate() error {
	if err := c.Common.validate(); err != nil {
		return err
	}
	if len(c.Shows) == 0 {
		return Invalid("shows", "shows must name at least one field")
	}
	for _, f := range c.Shows {
		if err := oneOf("shows", f); err != nil {
			return err
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(c.Shows)))) != len(c.Shows) {
		return Invalid("shows", "shows names a field twice")
	}
	given := []struct {
		field string
		shown NoticeField
		set   bool
	}{
		{"height_cm", NoticeHeight, c.HeightCM != 0}, {"health", NoticeHealth, c.Health != ""},
		{"features", NoticeFeatures, c.Features != ""}, {"clothing", NoticeClothing, c.Clothing != ""},
		{"contact", NoticeContact, c.Contact != ""}, {"photo_id", NoticePhoto, c.PhotoID != uuid.Nil},
	}
	for _, g := range given {
		shown := slices.Contains(c.Shows, g.shown)
		if shown && !g.set {
			return Invalid(g.field, "%s is required when the notice shows %s", g.field, g.shown)
		}
		if !shown && g.set {
			return Invalid(g.field, "%s is given but the notice does not show %s", g.field, g.shown)
		}
	}
	if c.HeightCM != 0 && (c.HeightCM < 30 || c.HeightCM > 250) {
		return Invalid("height_cm", "height_cm must be 30 to 250")
	}
	if c.PhotoBasis != "" && c.PhotoID == uuid.Nil {
		return Invalid("photo_basis", "photo_basis is for a shown photo")
	}
	return nil
}

// WithdrawNotice withdraws the case's public notice.
type WithdrawNotice struct {
	Common
}

// Step returns StepWithdrawNotice.
func (*WithdrawNotice) Step() Step { return StepWithdrawNotice }

// Validate checks the common fields.
func (c *WithdrawNotice) Validate() error { return c.Common.validate() }

// Notice is a case's public notice as its events say: the published
// notice, and whether and why it was withdrawn.
type Notice struct {
	NoticePublished
	PublishedAt time.Time        `json:"published_at"`
	Withdrawn   bool             `json:"withdrawn"`
	WithdrawnAt time.Time        `json:"withdrawn_at,omitzero"`
	Reason      WithdrawalReason `json:"withdrawal_reason,omitempty"`
}

// publicState is what a case's events say of its public notices, the
// photos attached to it and the leads received: folded by foldPublic,
// never read from the events, so that a case that keeps no payloads
// (Case.WithoutPayloads) knows it too.
type publicState struct {
	notices []Notice
	photos  []PhotoAttached
	leads   []Lead
}

// foldPublic folds event ev, which happened at at, into the case's
// public state. The state is copied before it changes: a copy of the case
// taken before (a decider's) shares the old one.
func (c *Case) foldPublic(ev Event, at time.Time) {
	var p publicState
	if c.public != nil {
		p = *c.public
	}
	switch v := ev.(type) {
	case NoticePublished:
		p.notices = append(slices.Clip(p.notices), Notice{NoticePublished: v, PublishedAt: at})
	case NoticeWithdrawn:
		p.notices = slices.Clone(p.notices)
		for i := range p.notices {
			if p.notices[i].NoticeID == v.NoticeID && !p.notices[i].Withdrawn {
				p.notices[i].Withdrawn, p.notices[i].WithdrawnAt, p.notices[i].Reason = true, at, v.Reason
			}
		}
	case PhotoAttached:
		p.photos = append(slices.Clip(p.photos), v)
	case LeadReceived:
		p.leads = append(slices.Clip(p.leads), Lead{LeadReceived: v, At: at})
	default:
		return
	}
	c.public = &p
}

// Notices returns every public notice of the case, oldest first.
func (c Case) Notices() []Notice {
	if c.public == nil {
		return nil
	}
	return slices.Clone(c.public.notices)
}

// PublicNotice returns the case's notice that is public now, if any.
func (c Case) PublicNotice() (Notice, bool) {
	ns := c.Notices()
	if len(ns) > 0 && !ns[len(ns)-1].Withdrawn {
		return ns[len(ns)-1], true
	}
	return Notice{}, false
}

// Photos returns the photos attached to the case, oldest first.
func (c Case) Photos() []PhotoAttached {
	if c.public == nil {
		return nil
	}
	return slices.Clone(c.public.photos)
}

// Leads returns the leads received on the case's notices, oldest first,
// with when each came.
func (c Case) Leads() []Lead {
	if c.public == nil {
		return nil
	}
	return slices.Clone(c.public.leads)
}

// Lead is a received lead and when it came.
type Lead struct {
	LeadReceived
	At time.Time `json:"at"`
}

// identityUnstated reports whether the person cannot state their
// identity: recorded so at the intake, or screened as assisted first.
func (c Case) identityUnstated() bool {
	if p := c.Person.CanStateIdentity; p != nil {
		return !*p
	}
	return c.Eligibility.AssistFirst
}

// unstatedIdentity refuses a notice for a person who can state who they are.
func unstatedIdentity(c Case, _ time.Time) error {
	if !c.identityUnstated() {
		return Violation(RuleNoticeNeedsUnstatedIdentity,
			"a public notice is only for a person who cannot state their identity")
	}
	return nil
}

// noPublicNotice refuses a second notice while one is public.
func noPublicNotice(c Case, _ time.Time) error {
	if _, ok := c.PublicNotice(); ok {
		return Violation(RuleNoticeAlreadyPublished, "a notice is already public; withdraw it first")
	}
	return nil
}

// hasPublicNotice refuses a withdrawal when no notice is public.
func hasPublicNotice(c Case, _ time.Time) error {
	if _, ok := c.PublicNotice(); !ok {
		return Violation(RuleNoNoticePublished, "no notice is public")
	}
	return nil
}

func decidePublishNotice(c Case, v *PublishNotice, at time.Time) ([]Event, error) {
	e := NoticePublished{NoticeID: noticeID(c, at), Shows: slices.Clone(v.Shows), Notes: v.Notes}
	for _, f := range v.Shows {
		switch f {
		case NoticeSex:
			e.Sex = c.Person.Sex
		case NoticeAge:
			if age, ok := c.AgeOn(at); ok {
				e.Age = &age
			}
		case NoticeHeight:
			e.HeightCM = v.HeightCM
		case NoticeHealth:
			e.Health = v.Health
		case NoticeFeatures:
			e.Features = v.Features
		case NoticeClothing:
			e.Clothing = v.Clothing
		case NoticeFoundPlace:
			e.FoundPlace = c.Referral.FoundAt
		case NoticeFoundDate:
			e.FoundOn = CivilDate(c.OpenedAt)
		case NoticeContact:
			e.Contact = v.Contact
		case NoticePhoto:
			if !slices.ContainsFunc(c.Photos(), func(p PhotoAttached) bool { return p.PhotoID == v.PhotoID }) {
				return nil, Violation(RuleUnknownPhoto, "the photo is not one attached to this case")
			}
			if age, ok := c.AgeOn(at); (!ok || age < 18) && v.PhotoBasis == "" {
				return nil, Violation(RuleMinorPhotoNeedsBasis,
					"a minor's notice shows no photo unless the legal basis is recorded (photo_basis)")
			}
			e.PhotoID, e.PhotoBasis = v.PhotoID, v.PhotoBasis
		}
	}
	return one(e)
}

// noticeID derives a notice's ID from the case and the publication's
// position in it, so a decision made twice names the same notice.
func noticeID(c Case, at time.Time) uuid.UUID {
	return uuid.NewSHA1(c.ID, []byte("notice/"+at.UTC().Format(time.RFC3339Nano)+"/"+strconv.FormatUint(c.Version, 10)))
}

func decideWithdrawNotice(c Case, v *WithdrawNotice, _ time.Time) ([]Event, error) {
	n, _ := c.PublicNotice()
	return one(NoticeWithdrawn{NoticeID: n.NoticeID, Reason: WithdrawnByStaff, Notes: v.Notes})
}

// withNoticeWithdrawn returns evs, decided on c at at, followed by the
// withdrawal of c's public notice when they identify the person or end the
// case.
func withNoticeWithdrawn(c Case, evs []Event, at time.Time) []Event {
	n, ok := c.PublicNotice()
	if !ok || len(evs) == 0 {
		return evs
	}
	after := c
	for _, e := range evs {
		if _, ok := e.(NoticeWithdrawn); ok {
			return evs
		}
		after = Evolve(after, Envelope{Revision: after.Version, Meta: Metadata{OccurredAt: at}, Event: e})
	}
	var reason WithdrawalReason
	switch {
	case after.PersonalDataErased():
		reason = WithdrawnByErasure
	case after.Identity.Verified && !c.Identity.Verified:
		reason = WithdrawnIdentity
	case after.Status.Ended() && !c.Status.Ended():
		reason = WithdrawnExit
	default:
		return evs
	}
	return append(slices.Clip(evs), NoticeWithdrawn{NoticeID: n.NoticeID, Reason: reason})
}

// decideLead decides a lead sent by the public about notice noticeID of
// case c: refused unless that notice is public now.
func decideLead(c Case, noticeID uuid.UUID, l LeadReceived) ([]Event, error) {
	n, ok := c.PublicNotice()
	if !c.Exists() || !ok || n.NoticeID != noticeID {
		return nil, NotFound("no such notice")
	}
	l.NoticeID = noticeID
	return one(l)
}

func init() {
	caseSteps = append(caseSteps, StepPublicNotice, StepWithdrawNotice)
	commandFactories[StepPublicNotice] = func() Command { return &PublishNotice{} }
	commandFactories[StepWithdrawNotice] = func() Command { return &WithdrawNotice{} }
	caseStepRules[StepPublicNotice] = caseStep{
		when:   []guard{open, notIdentified, unstatedIdentity, noPublicNotice},
		decide: decider(decidePublishNotice),
	}
	caseStepRules[StepWithdrawNotice] = caseStep{
		when:   []guard{hasPublicNotice},
		decide: decider(decideWithdrawNotice),
	}
	for _, err := range []error{
		Register[NoticePublished](Events, 1),
		Register[NoticeWithdrawn](Events, 1),
		Register[PhotoAttached](Events, 1),
		Register[PhotoStored](Events, 1),
		Register[LeadReceived](Events, 1),
	} {
		if err != nil {
			panic(err)
		}
	}
}
