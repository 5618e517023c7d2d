package http

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"waystation/eventstore"
)

// Header values that every JSON answer carries, shared so that setting
// them allocates nothing. net/http copies or appends to header values and
// never writes into them, so sharing is safe; nothing else may modify them.
var (
	jsonContentType    = []string{"application/json"}
	problemContentType = []string{"application/problem+json"}
	noStore            = []string{"no-store"}
)

// writeJSON answers v as JSON with status.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		s.logger.DebugContext(r.Context(), "writing an answer failed", logAttrs(r)...)
	}
}

// etag is the entity tag of a case at version.
func etag(version uint64) string { return `"` + strconv.FormatUint(version, 10) + `"` }

// boundedWaiter is implemented by views that can wait for a position
// within a duration without a context of their own (one timer, armed only
// when they have to wait).
type boundedWaiter interface {
	// WaitWithin is WaitFor bounded by d as well as by ctx.
	WaitWithin(ctx context.Context, pos eventstore.Position, d time.Duration) error
}

// waitForViews waits, bounded by the read-your-writes timeout, until the
// views have folded the log up to pos, so that the client's next read sees
// its write. A view that is slow does not fail the write: it was recorded.
func (s *Server) waitForViews(r *http.Request, pos eventstore.Position) {
	if pos.IsZero() {
		return
	}
	var err error
	if bw, ok := s.cfg.Views.(boundedWaiter); ok {
		err = bw.WaitWithin(r.Context(), pos, s.wait)
	} else {
		ctx, cancel := context.WithTimeout(r.Context(), s.wait)
		err = s.cfg.Views.WaitFor(ctx, pos)
		cancel()
	}
	if err != nil {
		s.logger.WarnContext(r.Context(), "views did not reach a write in time",
			append(logAttrs(r), "position", pos.String(), "err", err)...)
	}
}
