package domain

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// AttachPhoto attaches a photo to a case: raw is checked and encoded again
// by CleanPhoto, stored sealed in the photo's own stream (PhotoStream,
// whose data subject is the case, so erasing the case erases it), then
// recorded on the case (case.photo_attached). The caller must be allowed
// to act on the case; a case that exited or whose personal data was
// erased takes no photo.
func (s *Service) AttachPhoto(ctx context.Context, actor Actor, caseID uuid.UUID, raw []byte) (PhotoAttached, error) {
	img, ctype, w, h, err := CleanPhoto(raw)
	if err != nil {
		return PhotoAttached{}, err
	}
	c, err := s.Case(ctx, caseID)
	if err != nil {
		return PhotoAttached{}, err
	}
	if err := s.authorize(ctx, actor, StepAttachPhoto, &c); err != nil {
		return PhotoAttached{}, err
	}
	if err := check(c, s.now(), open, unerased(erasedMessage)); err != nil {
		return PhotoAttached{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return PhotoAttached{}, Internal(err, "no photo ID")
	}
	now := s.now()
	meta := s.meta(actor, &WithdrawNotice{}, now, now, Options{}, "")
	stored := PhotoStored{CaseID: caseID, PhotoID: id, ContentType: ctype, Image: base64.StdEncoding.EncodeToString(img)}
	if _, err := s.append(ctx, PhotoStream(caseID, id), eventstore.NoStream, s.eventIDs(actor, "", 1),
		[]Event{stored}, meta); err != nil {
		return PhotoAttached{}, storeErr(err)
	}
	att := PhotoAttached{PhotoID: id, ContentType: ctype, Width: w, Height: h, Bytes: len(img)}
	_, err = s.retry(ctx, false, func() (Result, error) {
		c, found, err := s.loadCase(ctx, caseID, nil)
		if err != nil || !found {
			return Result{}, firstErr(err, NotFound("no such case"))
		}
		_, err = s.append(ctx, CaseStream(caseID), expectedFor(c.Version), s.eventIDs(actor, "", 1), []Event{att}, meta)
		s.cases.drop(caseID)
		return Result{}, err
	})
	return att, err
}

// Photo returns the image and content type of photo id of case caseID, as
// stored; not_found when there is none, or when it was erased.
func (s *Service) Photo(ctx context.Context, caseID, id uuid.UUID) ([]byte, string, error) {
	var p PhotoStored
	found, err := s.readStream(ctx, PhotoStream(caseID, id), func(env Envelope) {
		if v, ok := env.Event.(PhotoStored); ok {
			p = v
		}
	})
	if err != nil {
		return nil, "", err
	}
	if !found || p.Image == "" || p.CaseID != caseID {
		return nil, "", NotFound("no such photo")
	}
	img, err := base64.StdEncoding.DecodeString(p.Image)
	if err != nil {
		return nil, "", Internal(err, "a stored photo cannot be read")
	}
	return img, p.ContentType, nil
}

// PublicActor is the actor of what the public sends (leads).
var PublicActor = Actor{ID: "public"}

// LeadInput is what a member of the public sends about a notice.
type LeadInput struct {
	Name         string `json:"name" text:"name" doc:"Your name."`
	Phone        string `json:"phone" text:"ref" doc:"A phone number the station can call you back on."`
	Relationship string `json:"relationship,omitempty" text:"line" doc:"How you know the person (son, neighbour...)."`
	Message      string `json:"message" text:"notes" doc:"What you know: up to 2000 characters."`
}

// MaxLeadMessage is the most characters a lead's message may hold.
const MaxLeadMessage = 2000

// Validate checks a lead: a name, a phone number of digits (with + - and
// spaces) and a message are required; text is cleaned by its kind.
func (l *LeadInput) Validate() error {
	for _, f := range []struct {
		name, kind string
		v          *string
	}{{"name", "name", &l.Name}, {"phone", "ref", &l.Phone}, {"relationship", "line", &l.Relationship},
		{"message", "notes", &l.Message}} {
		k, _ := TextKindOf(f.kind)
		clean, err := k.Clean(f.name, *f.v)
		if err != nil {
			return err
		}
		*f.v = clean
	}
	if err := required("name", l.Name); err != nil {
		return err
	}
	if err := required("message", l.Message); err != nil {
		return err
	}
	if n := len([]rune(l.Message)); n > MaxLeadMessage {
		return Invalid("message", "message is at most %d characters", MaxLeadMessage)
	}
	digits := 0
	for _, r := range l.Phone {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' || r == '-' || r == ' ':
		default:
			return Invalid("phone", "phone must be a phone number")
		}
	}
	if digits < 5 || digits > 20 {
		return Invalid("phone", "phone must be a phone number")
	}
	return nil
}

// ReceiveLead records a lead sent by the public about notice noticeID of
// case caseID, which must be public now (else not_found, so that nothing
// tells an unpublished notice from a missing one), and returns the lead
// with its receipt number. The sender's details are sealed with the case.
func (s *Service) ReceiveLead(ctx context.Context, caseID, noticeID uuid.UUID, in LeadInput) (LeadReceived, error) {
	if err := in.Validate(); err != nil {
		return LeadReceived{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return LeadReceived{}, Internal(err, "no lead ID")
	}
	receipt, err := newReceipt(s.now())
	if err != nil {
		return LeadReceived{}, Internal(err, "no receipt number")
	}
	lead := LeadReceived{LeadID: id, Receipt: receipt, Name: in.Name, Phone: in.Phone, Relationship: in.Relationship,
		Message: in.Message}
	_, err = s.retry(ctx, false, func() (Result, error) {
		c, found, err := s.loadCase(ctx, caseID, nil)
		if err != nil {
			return Result{}, err
		}
		if !found {
			return Result{}, NotFound("no such notice")
		}
		evs, err := decideLead(c, noticeID, lead)
		if err != nil {
			return Result{}, err
		}
		now := s.now()
		meta := Metadata{OccurredAt: now.UTC(), RecordedAt: now.UTC(), Actor: PublicActor.ID, Station: c.Station,
			LegalBasis: BasisConsent}
		r, err := s.append(ctx, CaseStream(caseID), expectedFor(c.Version), []uuid.UUID{id}, evs, meta)
		s.cases.drop(caseID)
		return Result{Position: r.Position}, err
	})
	if err != nil {
		var de *Error
		if errors.As(err, &de) {
			return LeadReceived{}, err
		}
		return LeadReceived{}, storeErr(err)
	}
	lead.NoticeID = noticeID
	return lead, nil
}

// newReceipt returns a receipt number: the date in Beijing time and eight
// random characters of an alphabet without look-alikes.
func newReceipt(now time.Time) (string, error) {
	const alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, 8)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		b[i] = alphabet[n.Int64()]
	}
	return fmt.Sprintf("XL-%s-%s", now.In(CivilZone).Format("20060102"), b), nil
}
