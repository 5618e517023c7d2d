package projections

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// transferRecord is one transfer of a case, from its request to its end
// and after: the domain's case keeps only the one in flight.
type transferRecord struct {
	From, To              string
	Reason, DeclineReason string
	State                 string // one of TransferStates
	RequestedAt           time.Time
	AcceptedAt            time.Time
	DepartedAt            time.Time
	EndedAt               time.Time
	// events are the IDs of the events that requested, accepted, sent off
	// (the escort's departure) and ended the transfer, for corrections.
	events [4]uuid.UUID
}

func (t *transferRecord) ended() bool { return !t.EndedAt.IsZero() }

// end ends t in state at at, by the event id.
func (t *transferRecord) end(state string, at time.Time, id uuid.UUID) {
	t.State, t.EndedAt, t.events[3] = state, at, id
}

// foldTransfer follows the case's transfers through env, which ce.c has
// just applied: a request opens one; the acceptance, the escort's
// departure, a decline and the handover move the open one on; any other
// event after which the case holds no transfer in flight (an exit, a
// refusal) ends it as case_exited. A correction of when a step of a
// transfer happened, or of its reasons, moves them; an erasure of the
// person's personal data clears the reasons.
func (ce *caseEntry) foldTransfer(env domain.Envelope) {
	at := env.Meta.OccurredAt
	var open *transferRecord
	if n := len(ce.transfers); n > 0 && !ce.transfers[n-1].ended() {
		open = &ce.transfers[n-1]
	}
	switch e := env.Event.(type) {
	case domain.TransferRequested:
		if open == nil {
			ce.transfers = append(ce.transfers, transferRecord{From: e.From, To: e.To, Reason: e.Reason,
				State: domain.TransferStateRequested, RequestedAt: at, events: [4]uuid.UUID{env.ID}})
		}
		return
	case domain.TransferAccepted:
		if open != nil {
			open.State, open.AcceptedAt, open.events[1] = domain.TransferStateAccepted, at, env.ID
		}
	case domain.EscortDeparted:
		if open != nil {
			open.State, open.DepartedAt, open.events[2] = domain.TransferStateDeparted, at, env.ID
		}
	case domain.TransferDeclined:
		if open != nil {
			open.end(TransferDeclined, at, env.ID)
			open.DeclineReason = e.Reason
		}
	case domain.HandedOver:
		if open != nil {
			open.end(TransferHandedOver, at, env.ID)
		}
	case domain.Corrected:
		ce.correctTransfer(e)
	case domain.PersonalDataErased:
		for i := range ce.transfers {
			ce.transfers[i].Reason, ce.transfers[i].DeclineReason = "", ""
		}
	}
	if open != nil && !open.ended() && ce.c.Transfer == nil {
		open.end(TransferCaseExited, at, env.ID)
	}
}

// correctTransfer applies correction e to the transfer whose event it
// corrects, if any: occurred_at moves that step's time, reason the
// request's or the decline's reason.
func (ce *caseEntry) correctTransfer(e domain.Corrected) {
	if e.EventID == (uuid.UUID{}) {
		return
	}
	for i := range ce.transfers {
		t := &ce.transfers[i]
		k := slices.Index(t.events[:], e.EventID)
		if k < 0 {
			continue
		}
		switch {
		case e.Field == domain.OccurredAtField:
			var at time.Time
			if json.Unmarshal(e.New, &at) == nil && !at.IsZero() {
				*[]*time.Time{&t.RequestedAt, &t.AcceptedAt, &t.DepartedAt, &t.EndedAt}[k] = at
			}
		case e.Field == "reason" && k == 0:
			_ = json.Unmarshal(e.New, &t.Reason)
		case e.Field == "reason" && k == 3 && t.State == TransferDeclined:
			_ = json.Unmarshal(e.New, &t.DeclineReason)
		}
		return
	}
}
