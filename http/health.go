package http

import (
	"net/http"

	"waystation/domain"
)

// health is the answer of GET /healthz ("ok") and GET /readyz ("ready").
type health struct {
	Status string `json:"status" doc:"ok when the process is alive; ready when it can answer."`
}

// healthz answers 200 while the process is alive: GET /healthz.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	s.writeJSON(w, r, http.StatusOK, health{Status: "ok"})
	return nil
}

// readyz answers 200 when the store is open and the projections have
// caught up, else 503: GET /readyz.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(); err != nil {
			return &domain.Error{Code: CodeUnavailable, Message: "not ready", Err: err}
		}
	}
	if _, err := s.cfg.Store.Head(r.Context()); err != nil {
		return &domain.Error{Code: CodeUnavailable, Message: "the store is not open", Err: err}
	}
	s.writeJSON(w, r, http.StatusOK, health{Status: "ready"})
	return nil
}
