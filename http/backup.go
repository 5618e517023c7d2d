package http

import (
	"net/http"
	"time"

	"waystation/domain"
)

// backup streams a consistent backup as Config.Backup writes it (the
// service writes a tar archive of the events store, the key store and the
// signing key): POST /v1/admin/backup (admins).
func (s *Server) backup(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Backup == nil {
		return domain.NotFound("this store is backed up elsewhere")
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="waystation-backup.tar"`)
	if n, err := s.cfg.Backup(r.Context(), w); err != nil {
		if n == 0 {
			w.Header().Del("Content-Disposition")
			return err
		}
		s.logger.ErrorContext(r.Context(), "backup failed", append(logAttrs(r), "err", err)...)
		// The 200 is out: break the connection so that the client sees a
		// broken stream, not a whole backup.
		panic(http.ErrAbortHandler)
	}
	return nil
}
