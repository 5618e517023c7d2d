package http

import (
	"io"
	"mime"
	"net/http"
	"os"
	"time"

	"waystation/domain"
	"waystation/exchange"
)

// exportPeriod reads from= and to=, civil dates in Beijing time, both
// required.
func exportPeriod(r *http.Request) (domain.Date, domain.Date, error) {
	var out [2]domain.Date
	for i, name := range []string{"from", "to"} {
		v := r.URL.Query().Get(name)
		if v == "" {
			return domain.Date{}, domain.Date{}, errorf(domain.CodeInvalid, name, name+" is required: a date such as 2026-11-01")
		}
		d, err := domain.ParseDate(v)
		if err != nil {
			return domain.Date{}, domain.Date{}, errorf(domain.CodeInvalid, name, name+" must be a date such as 2026-11-01 (Beijing time)")
		}
		out[i] = d
	}
	return out[0], out[1], nil
}

// exportExchange answers the exchange-format export (docs/exchange.md) of
// the cases open on a date of from..to at the stations the scope selects:
// GET /v1/exports. personal=true (admins only) includes personal values.
// Every case exported is recorded as read in the access log before the
// archive is sent.
func (s *Server) exportExchange(w http.ResponseWriter, r *http.Request) error {
	from, to, err := exportPeriod(r)
	if err != nil {
		return err
	}
	personal, err := boolParam(r, "personal")
	if err != nil {
		return err
	}
	if personal && actorOf(r).Role != domain.RoleAdmin {
		return domain.Forbidden("personal values are exported for admins only")
	}
	f, err := s.scopeParams(r)
	if err != nil {
		return err
	}
	if f.Station != "" {
		f.Region = "" // a station within the token's region
	}
	tmp, err := os.CreateTemp("", "waystation-export-*.zip")
	if err != nil {
		return domain.Internal(err, "no room for the export")
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	man, err := exchange.Export(r.Context(), s.cfg.Store, exchange.Options{From: from, To: to, Station: f.Station,
		Region: f.Region, Personal: personal, Now: s.now}, tmp)
	if err != nil {
		return err
	}
	if err := s.recordReads(r, man.Cases); err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return domain.Internal(err, "reading the export back")
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	name := "waystation-" + exchange.FormatVersion + "-" + from.String() + "-" + to.String() + ".zip"
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, tmp); err != nil {
		s.logger.ErrorContext(r.Context(), "sending an export failed", append(logAttrs(r), "err", err)...)
		panic(http.ErrAbortHandler)
	}
	return nil
}
