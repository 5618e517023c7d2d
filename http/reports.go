package http

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"waystation/domain"
	"waystation/projections"
	"waystation/reports"
)

// ReportViews is the optional part of Views that answers reports; the
// projections runner (RunnerViews) has it.
type ReportViews interface {
	// Report is the report of f over p, counted as of asOf (live when
	// zero); an unknown station or region is not_found, a period not
	// begun invalid.
	Report(ctx context.Context, f Filter, p projections.ReportPeriod, a AsOf) (projections.Report, error)
}

var _ ReportViews = RunnerViews{}

// Report answers the report of f over p as of a.
func (v RunnerViews) Report(ctx context.Context, f Filter, p projections.ReportPeriod, a AsOf) (projections.Report, error) {
	if err := v.caughtUpAt(ctx, a); err != nil {
		return projections.Report{}, err
	}
	return v.Runner.Report(ctx, filter(f), p, asOf(a))
}

// Report formats (format= values).
const (
	formatJSON = "json"
	formatCSV  = "csv"
	formatXLSX = "xlsx"
)

// reportFormat returns the format a report request asks for: format=
// when given, else the first of CSV and XLSX that Accept names, else JSON.
func reportFormat(r *http.Request) (string, error) {
	switch f := r.URL.Query().Get("format"); f {
	case formatJSON, formatCSV, formatXLSX:
		return f, nil
	case "":
	default:
		return "", errorf(domain.CodeInvalid, "format", "format must be json, csv or xlsx")
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case reports.MediaCSV:
			return formatCSV, nil
		case reports.MediaXLSX:
			return formatXLSX, nil
		case "application/json", "application/*", "*/*":
			return formatJSON, nil
		}
	}
	return formatJSON, nil
}

// reportLang returns the language of a report's headers: lang= when given,
// else the first language of Accept-Language, else Chinese.
func reportLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l != "" {
		return reports.Lang(l)
	}
	first, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	first, _, _ = strings.Cut(first, ";")
	return reports.Lang(strings.TrimSpace(first))
}

// report answers the monthly or quarterly report of a station, a region or
// everything: GET /v1/reports/{period}, as JSON, CSV or XLSX
// (docs/reports.md). as_of=TIME counts it as of that moment (with
// known=true: as it had been recorded by then).
func (s *Server) report(w http.ResponseWriter, r *http.Request) error {
	p, err := projections.ParseReportPeriod(mux.Vars(r)["period"])
	if err != nil {
		return err
	}
	format, err := reportFormat(r)
	if err != nil {
		return err
	}
	at, err := timeParam(r, "as_of")
	if err != nil {
		return err
	}
	if r.URL.Query().Get("as_of") != "" {
		if err := domain.CheckTimeBounds("as_of", at); err != nil {
			return err
		}
	}
	known, err := boolParam(r, "known")
	if err != nil {
		return err
	}
	if known && at.IsZero() {
		return errorf(domain.CodeInvalid, "known", "known=true needs as_of")
	}
	f, err := s.scopeParams(r)
	if err != nil {
		return err
	}
	views, ok := s.cfg.Views.(ReportViews)
	if !ok {
		return domain.NotFound("this server answers no reports")
	}
	rep, err := views.Report(r.Context(), f, p, AsOf{At: at, Known: known})
	if err != nil {
		return err
	}
	w.Header().Add("Vary", "Accept, Accept-Language")
	if format == formatJSON {
		s.writeJSON(w, r, http.StatusOK, rep)
		return nil
	}
	lang := reportLang(r)
	var buf bytes.Buffer
	media := reports.MediaCSV
	if format == formatCSV {
		err = reports.WriteCSV(&buf, rep, lang)
	} else {
		media = reports.MediaXLSX
		err = reports.WriteXLSX(&buf, rep, lang)
	}
	if err != nil {
		return domain.Internal(err, "writing the report failed")
	}
	name := "report-" + rep.Period + "-" + rep.Scope
	if code := rep.Station + rep.Region; code != "" {
		name += "-" + code
	}
	if rep.Basis != projections.BasisLive {
		name += "-as-of-" + rep.AsOf.Format("20060102T150405") + "-" + rep.Basis
	}
	if media == reports.MediaCSV {
		media += "; charset=utf-8"
	}
	w.Header().Set("Content-Type", media)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name + "." + format}))
	w.Header().Set("Content-Language", map[string]string{reports.Chinese: "zh-CN", reports.English: "en"}[lang])
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(buf.Bytes())
	return err
}
