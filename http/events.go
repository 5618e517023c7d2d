package http

import (
	"encoding/json"
	"net/http"
	"time"

	"waystation/domain"
	"waystation/eventstore"
)

// logEvent is one event of the global log as clients see it.
type logEvent struct {
	Position   string          `json:"position" doc:"The event's position in the global log; pass it as after to read on from it."`
	Stream     string          `json:"stream" doc:"The stream the event belongs to (case-ID, station-CODE, access)."`
	Revision   uint64          `json:"revision" doc:"The event's revision in its stream, from 0."`
	ID         string          `json:"id" doc:"The event's ID."`
	Type       string          `json:"type" doc:"The event's stored type (e.g. case.intake_registered)."`
	RecordedAt time.Time       `json:"recorded_at" doc:"When the event was recorded."`
	Data       json.RawMessage `json:"data" doc:"The event's data as it reads now (erased personal values read as absent); null when it cannot be read."`
	Metadata   json.RawMessage `json:"metadata" doc:"Who recorded it, in which role and station, when the step happened and on what legal basis."`
}

func logEventOf(e eventstore.RecordedEvent) logEvent {
	raw := func(b []byte) json.RawMessage {
		if len(b) == 0 || !json.Valid(b) {
			return json.RawMessage("null")
		}
		return b
	}
	return logEvent{Position: e.Position.String(), Stream: e.Stream, Revision: e.Revision, ID: e.ID.String(),
		Type: e.Type, RecordedAt: e.RecordedAt, Data: raw(e.Data), Metadata: raw(e.Metadata)}
}

// requireEveryRegion refuses an inspector bound to one region: the global
// log spans all regions and carries personal data, so only inspectors of
// every region (and admins, as the route's roles say) may read it whole.
func requireEveryRegion(r *http.Request) error {
	if a := actorOf(r); a.Role == domain.RoleInspector && a.Region != "" {
		return domain.Forbidden("the global log spans every region; it is for inspectors of all regions")
	}
	return nil
}

// eventPage is the answer of GET /v1/events.
type eventPage struct {
	Items []logEvent `json:"items" doc:"The events of this page, in log order."`
	Next  string     `json:"next_after,omitempty" doc:"Pass it as after for the next page; absent on the last page."`
}

// listEvents pages through the global log: GET /v1/events (admins,
// inspectors of every region). The page is a read of every case whose
// events it shows, logged in the access log before it is sent.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	if err := requireEveryRegion(r); err != nil {
		return err
	}
	after, err := positionParam(r, "after")
	if err != nil {
		return err
	}
	limit, err := limitParam(r, 100, 1000)
	if err != nil {
		return err
	}
	out := eventPage{Items: []logEvent{}}
	var read caseReads
	for e, err := range s.cfg.Store.ReadAll(r.Context(), eventstore.ReadAllOptions{From: after, Limit: int(limit)}) {
		if err != nil {
			return err
		}
		read.add(e.Stream)
		out.Items = append(out.Items, logEventOf(e))
	}
	if uint64(len(out.Items)) == limit {
		out.Next = out.Items[len(out.Items)-1].Position
	}
	// The page shows the cases' events, personal values opened: it is a
	// read of each of those cases.
	if err := s.recordReads(r, read.take()); err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}
