package http

import (
	"errors"
	"io"
	"net/http"
	"os"

	"waystation/domain"
	"waystation/exchange"
)

// MaxImportBody bounds the export an import request may send.
const MaxImportBody = 1 << 30

// importExchange loads an exchange-format export, sent as the body
// (application/zip), through the domain's commands: POST /v1/imports
// (admins; dry_run=true writes nothing). The answer is the import's
// report, every refused row in it by file, line, column and reason; an
// archive that breaks the specification is invalid (400) and nothing is
// written.
func (s *Server) importExchange(w http.ResponseWriter, r *http.Request) error {
	dry, err := boolParam(r, "dry_run")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp("", "waystation-import-*.zip")
	if err != nil {
		return domain.Internal(err, "no room for the import")
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := io.Copy(tmp, http.MaxBytesReader(w, r.Body, MaxImportBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return errorf(CodePayloadTooLarge, "", "an import is at most 1 GiB")
		}
		return errorf(domain.CodeInvalid, "", "the body could not be read")
	}
	rep, err := exchange.Import(r.Context(), s.cfg.Service, s.cfg.Store, tmp, n, exchange.ImportOptions{DryRun: dry, Now: s.now})
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, rep)
	return nil
}
