package http

import (
	"slices"

	"waystation/projections"
)

// withActorNames returns a copy of events with the display name of each
// event's actor that is an account, as the access stream's accounts hold
// it now (ActorName). A name is never stored with the case's events: it is
// the staff member's, not the case's, and it reads as the account has it.
// The history's readers are those who may read the case.
func (s *Server) withActorNames(events []projections.HistoryEvent) []projections.HistoryEvent {
	ids := make([]string, len(events))
	for i, e := range events {
		ids[i] = e.Actor
	}
	names := s.people.names(ids)
	if len(names) == 0 {
		return events
	}
	out := slices.Clone(events)
	for i := range out {
		out[i].ActorName = names[out[i].Actor]
	}
	return out
}
