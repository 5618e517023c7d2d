package projections

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// Transfer states a board shows beside the domain's TransferState* ones
// of a transfer in flight: how a transfer ended. Shown to clients: never
// rename them.
const (
	TransferHandedOver = "handed_over" // the receiving station took the person in
	TransferDeclined   = "declined"    // the receiving station declined
	TransferCaseExited = "case_exited" // the case ended (absconding, death...) before the handover
)

// TransferStates lists every state of TransferEntry.State, those of a
// transfer in flight first.
var TransferStates = []string{domain.TransferStateRequested, domain.TransferStateAccepted, domain.TransferStateDeparted,
	TransferHandedOver, TransferDeclined, TransferCaseExited}

// TransferKept is how long an ended transfer stays on a board when
// TransferQuery.Since is not set: until this long after it ended.
const TransferKept = 30 * Day

// TransferEntry is one transfer on a transfer board: the two stations, its
// state, what the stations need to decide on it (the person's sex and age
// band, the reason, the zones the person fits), its times, and its age
// against the 48-hour mark for an answer and the 72-hour mark for the
// handover. It names no one: the name and ID number are on the case,
// whose reads are logged.
//
// Age is how long the transfer has been open: from the request to the
// board's moment while it is in flight, to its end once it ended, in
// whole seconds (AgeSeconds, exact) and in hours (AgeHours, rounded to one
// decimal).
type TransferEntry struct {
	CaseID     uuid.UUID `json:"case_id" doc:"The case being transferred."`
	From       string    `json:"from" doc:"Code of the sending station."`
	To         string    `json:"to" doc:"Code of the receiving station."`
	FromRegion string    `json:"from_region" doc:"Region of the sending station."`
	ToRegion   string    `json:"to_region" doc:"Region of the receiving station."`
	// Direction is "incoming" (to the board's station) or "outgoing" (from
	// it) on a board of one station, empty otherwise.
	Direction string `json:"direction,omitempty" doc:"On a board of one station: incoming (to it) or outgoing (from it)."`
	// State is one of TransferStates.
	State  string `json:"state" doc:"Where the transfer stands: requested, accepted, departed, or how it ended: handed_over, declined, case_exited."`
	Reason string `json:"reason" doc:"Why the sending station asks for the transfer."`
	// DeclineReason is the receiving station's reason for declining.
	DeclineReason string     `json:"decline_reason,omitempty" doc:"The receiving station's reason for declining."`
	Sex           domain.Sex `json:"sex" doc:"The person's sex."`
	// AgeBand is the person's age band at the board's moment, one of
	// AgeBands.
	AgeBand string `json:"age_band" doc:"The person's age band at the board's moment (never the birth date)."`
	// ZoneNeeded is the zone the placement rules put the person in first
	// at the board's moment (domain.FittingZones); ZonesFitting is every
	// zone they fit, ZoneNeeded first.
	ZoneNeeded   domain.Zone   `json:"zone_needed" doc:"The zone the placement rules put the person in first."`
	ZonesFitting []domain.Zone `json:"zones_fitting" doc:"Every zone the person fits, zone_needed first."`
	RequestedAt  time.Time     `json:"requested_at" doc:"When the transfer was requested."`
	AcceptedAt   time.Time     `json:"accepted_at,omitzero" doc:"When the receiving station accepted it."`
	DepartedAt   time.Time     `json:"departed_at,omitzero" doc:"When the escort left."`
	EndedAt      time.Time     `json:"ended_at,omitzero" doc:"When the transfer ended (handover, decline or the exit of the case)."`
	AgeSeconds   int64         `json:"age_seconds" doc:"How long the transfer has been open, in whole seconds: to the board's moment, or to its end."`
	AgeHours     Hours         `json:"age_hours" doc:"The same age in hours, with one decimal."`
	// AnswerDue is 48 hours after the request while it is unanswered;
	// HandoverDue is 72 hours after the escort left while the person is
	// in transit.
	AnswerDue   time.Time `json:"answer_due,omitzero" doc:"While unanswered: 48 hours after the request."`
	HandoverDue time.Time `json:"handover_due,omitzero" doc:"While in transit: 72 hours after the escort left."`
	// requested and unanswered past 48 h
	Unanswered bool `json:"unanswered" doc:"Requested and not answered for more than 48 hours."`
	// departed and not handed over past 72 h
	HandoverOverdue bool `json:"handover_overdue" doc:"Escort departed and no handover for more than 72 hours."`
}

// TransferQuery selects the transfers of a board.
type TransferQuery struct {
	// Region, when set, keeps the transfers from or to a station of the
	// region; Station, when set, those from or to the station.
	Region, Station string
	// States, when not empty, keeps the transfers in these states (of
	// TransferStates).
	States []string
	// Since, when set, keeps the transfers that ended at or after it,
	// beside those in flight, else those that ended TransferKept before
	// the board's moment or later. It may not be before Earliest.
	Since *time.Time
}

// TransferBoard lists the transfers that q selects at At: those in flight,
// the oldest request first, then those that ended since Since, the latest
// end first.
type TransferBoard struct {
	Region    string          `json:"region,omitempty" doc:"The region of the board."`
	Station   string          `json:"station,omitempty" doc:"The station the board is narrowed to, if any."`
	At        time.Time       `json:"at" doc:"The moment the board shows."`
	Known     bool            `json:"known,omitempty" doc:"Whether the board shows only what had been recorded by then."`
	Since     time.Time       `json:"since" doc:"Ended transfers are shown when they ended at or after this."`
	Transfers []TransferEntry `json:"transfers" doc:"The transfers in flight, oldest request first, then those ended since since, latest end first."`
}

// Transfers returns the transfer board that q selects as of asOf. An
// unknown station or region is not_found; an unknown state, or a Since
// before Earliest, is invalid.
func (r *Runner) Transfers(q TransferQuery, asOf AsOf) (TransferBoard, error) {
	for _, s := range q.States {
		if !slices.Contains(TransferStates, s) {
			return TransferBoard{}, domain.Invalid("state", "state must be one of %s", strings.Join(TransferStates, ", "))
		}
	}
	if q.Since != nil && q.Since.Before(Earliest) {
		return TransferBoard{}, domain.Invalid("since", "since must be %s or later", Earliest.Format(time.DateOnly))
	}
	var out TransferBoard
	err := r.view(context.Background(), asOf, func(m *model, at time.Time) error {
		if err := m.checkFilter(Filter{Station: q.Station, Region: q.Region}); err != nil {
			return err
		}
		since := at.Add(-TransferKept)
		if q.Since != nil {
			since = *q.Since
		}
		out = TransferBoard{
			Region:    q.Region,
			Station:   q.Station,
			At:        at,
			Known:     asOf.Known && !asOf.At.IsZero(),
			Since:     since,
			Transfers: []TransferEntry{},
		}
		for _, ce := range m.order {
			for i := range ce.transfers {
				t := &ce.transfers[i]
				if t.RequestedAt.After(at) || t.ended() && t.EndedAt.Before(since) || !m.touches(q, t) ||
					len(q.States) > 0 && !slices.Contains(q.States, t.State) {
					continue
				}
				out.Transfers = append(out.Transfers, m.transferEntry(ce, t, q.Station, at))
			}
		}
		slices.SortFunc(out.Transfers, func(a, b TransferEntry) int {
			ea, eb := !a.EndedAt.IsZero(), !b.EndedAt.IsZero()
			switch {
			case ea != eb && ea:
				return 1
			case ea != eb:
				return -1
			case ea:
				if c := b.EndedAt.Compare(a.EndedAt); c != 0 {
					return c
				}
			}
			if c := a.RequestedAt.Compare(b.RequestedAt); c != 0 {
				return c
			}
			return strings.Compare(a.CaseID.String(), b.CaseID.String())
		})
		return nil
	})
	return out, err
}

// touches reports whether transfer t goes from or to the region and the
// station q names.
func (m *model) touches(q TransferQuery, t *transferRecord) bool {
	return (q.Region == "" || m.region(t.From) == q.Region || m.region(t.To) == q.Region) &&
		(q.Station == "" || t.From == q.Station || t.To == q.Station)
}

// transferEntry shows transfer t of case ce at at, on the board of station
// (or of no station, when empty).
func (m *model) transferEntry(ce *caseEntry, t *transferRecord, station string, at time.Time) TransferEntry {
	e := TransferEntry{
		CaseID: ce.c.ID, From: t.From, To: t.To, FromRegion: m.region(t.From), ToRegion: m.region(t.To),
		State: t.State, Reason: t.Reason, DeclineReason: t.DeclineReason,
		Sex: ce.c.Person.Sex, AgeBand: ageBand(ce.c.Person, at), ZonesFitting: domain.FittingZones(ce.c, at),
		RequestedAt: t.RequestedAt, AcceptedAt: t.AcceptedAt, DepartedAt: t.DepartedAt, EndedAt: t.EndedAt,
	}
	if e.ZonesFitting == nil {
		e.ZonesFitting = []domain.Zone{}
	} else {
		e.ZoneNeeded = e.ZonesFitting[0]
	}
	switch station {
	case "":
	case t.To:
		e.Direction = "incoming"
	default:
		e.Direction = "outgoing"
	}
	end := at
	if t.ended() {
		end = t.EndedAt
	}
	age := max(end.Sub(t.RequestedAt), 0)
	e.AgeSeconds, e.AgeHours = int64(age/time.Second), HoursOf(age)
	switch t.State {
	case domain.TransferStateRequested:
		e.AnswerDue = t.RequestedAt.Add(TransferAnswerDue)
		e.Unanswered = at.After(e.AnswerDue)
	case domain.TransferStateDeparted:
		e.HandoverDue = t.DepartedAt.Add(HandoverDue)
		e.HandoverOverdue = at.After(e.HandoverDue)
	}
	return e
}
