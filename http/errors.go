package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"waystation/domain"
	"waystation/eventstore"
)

// Codes the HTTP layer adds to the domain's: they describe the request as a
// whole rather than a command. Shown to clients: never rename or reuse them.
const (
	CodePayloadTooLarge      domain.Code = "payload_too_large"
	CodeUnsupportedMediaType domain.Code = "unsupported_media_type"
	CodeMethodNotAllowed     domain.Code = "method_not_allowed"
	CodeUnavailable          domain.Code = "unavailable"
	CodeTooManyRequests      domain.Code = "too_many_requests"
)

// statusOf is the one table from error codes to HTTP statuses. A code that
// is missing here answers 500.
var statusOf = map[domain.Code]int{
	domain.CodeInvalid:            http.StatusBadRequest,
	domain.CodeUnauthorized:       http.StatusUnauthorized,
	domain.CodeForbidden:          http.StatusForbidden,
	domain.CodeNotFound:           http.StatusNotFound,
	CodeMethodNotAllowed:          http.StatusMethodNotAllowed,
	domain.CodeConflict:           http.StatusConflict,
	domain.CodePreconditionFailed: http.StatusPreconditionFailed,
	CodePayloadTooLarge:           http.StatusRequestEntityTooLarge,
	CodeUnsupportedMediaType:      http.StatusUnsupportedMediaType,
	domain.CodeRuleViolation:      http.StatusUnprocessableEntity,
	domain.CodeInternal:           http.StatusInternalServerError,
	CodeUnavailable:               http.StatusServiceUnavailable,
	CodeTooManyRequests:           http.StatusTooManyRequests,
}

// titleOf is the short, fixed title of each code's problem document.
var titleOf = map[domain.Code]string{
	domain.CodeInvalid:            "The request is malformed",
	domain.CodeUnauthorized:       "A valid bearer token is required",
	domain.CodeForbidden:          "The token's role or scope does not allow this",
	domain.CodeNotFound:           "Not found",
	CodeMethodNotAllowed:          "Method not allowed on this route",
	domain.CodeConflict:           "Conflict with the current state",
	domain.CodePreconditionFailed: "The case has moved on since the version given",
	CodePayloadTooLarge:           "The body is larger than 1 MiB",
	CodeUnsupportedMediaType:      "The body must be application/json",
	domain.CodeRuleViolation:      "A rule refuses this step",
	domain.CodeInternal:           "Internal error",
	CodeUnavailable:               "Not ready",
	CodeTooManyRequests:           "Too many requests",
}

// Problem is an application/problem+json document (RFC 9457) with docs/api.md's
// extensions: the error code, the broken rule, the offending fields and the
// request ID to quote to an operator.
type Problem struct {
	Type      string         `json:"type" doc:"A URN naming the kind of problem (urn:waystation:problem:CODE)."`
	Title     string         `json:"title" doc:"A short summary of the kind of problem."`
	Status    int            `json:"status" doc:"The HTTP status."`
	Code      domain.Code    `json:"code" doc:"The error code, for programs."`
	Rule      string         `json:"rule,omitempty" doc:"The rule the step breaks (with code rule_violation, and some conflicts)."`
	Detail    string         `json:"detail,omitempty" doc:"What is wrong, in words; never repeats personal data."`
	Errors    []FieldProblem `json:"errors,omitempty" doc:"The offending input fields."`
	RequestID string         `json:"request_id,omitempty" doc:"The request's ID, to quote to an operator."`
}

// FieldProblem names one offending input field by its dotted JSON path.
type FieldProblem struct {
	Field   string `json:"field" doc:"The field's dotted path in the request body (e.g. person.contacts.0.name), or the header or query parameter."`
	Message string `json:"message" doc:"What is wrong with it."`
}

// problemOf turns any error into the code, rule, field and safe detail that
// a client may see. Errors that are not *domain.Error, apart from the store's
// well-known ones, are internal and their text is never shown.
func problemOf(err error) *domain.Error {
	var de *domain.Error
	switch {
	case errors.As(err, &de):
		return de
	case errors.Is(err, eventstore.ErrWrongExpectedVersion):
		return &domain.Error{Code: domain.CodeConflict, Err: err,
			Message: "the case changed while the step was being recorded; retry"}
	case errors.Is(err, eventstore.ErrIdempotencyConflict):
		return &domain.Error{Code: domain.CodeRuleViolation, Rule: domain.RuleIdempotencyKeyReused, Err: err,
			Message: "the idempotency key was used for another request"}
	case errors.Is(err, eventstore.ErrStreamNotFound), errors.Is(err, eventstore.ErrStreamDeleted):
		return &domain.Error{Code: domain.CodeNotFound, Message: "not found", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &domain.Error{Code: CodeUnavailable, Message: "the request was cancelled or timed out", Err: err}
	case errors.Is(err, eventstore.ErrClosed):
		return &domain.Error{Code: CodeUnavailable, Message: "the store is closed", Err: err}
	}
	return &domain.Error{Code: domain.CodeInternal, Err: err}
}

// Error writes err as a problem document with the status of its code, counts
// it by route and code, and logs it when it is internal. It is the only way
// handlers answer an error. Internal causes are logged, never shown; messages
// never carry personal data.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	de := problemOf(err)
	status, ok := statusOf[de.Code]
	if !ok {
		status = http.StatusInternalServerError
	}
	p := Problem{
		Type:      "urn:waystation:problem:" + string(de.Code),
		Title:     titleOf[de.Code],
		Status:    status,
		Code:      de.Code,
		Rule:      de.Rule,
		Detail:    de.Message,
		RequestID: requestIDOf(r.Context()),
	}
	if status == http.StatusInternalServerError {
		p.Code, p.Title, p.Detail, p.Rule = domain.CodeInternal, titleOf[domain.CodeInternal], "", ""
		s.logger.ErrorContext(r.Context(), "internal error", "request_id", p.RequestID, "route", routeOf(r), "err", de.Err)
	}
	if de.Field != "" {
		msg := de.Message
		if !strings.Contains(msg, de.Field) {
			msg = de.Field + ": " + msg
		}
		p.Detail = msg
		p.Errors = []FieldProblem{{Field: de.Field, Message: msg}}
	}
	s.metrics.errors.WithLabelValues(routeOf(r), string(p.Code)).Inc()
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="waystation"`)
	case http.StatusServiceUnavailable:
		w.Header().Set("Retry-After", "1")
	}
	w.Header()["Content-Type"] = problemContentType
	w.Header()["Cache-Control"] = noStore
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(p); err != nil {
		s.logger.DebugContext(r.Context(), "writing a problem answer failed", "request_id", p.RequestID, "err", err)
	}
}

// errorf is a short way to build a domain error of the HTTP layer's own.
func errorf(code domain.Code, field, msg string) *domain.Error {
	return &domain.Error{Code: code, Field: field, Message: msg}
}

// logAttrs are the attributes every request log line carries.
func logAttrs(r *http.Request) []any {
	return []any{slog.String("request_id", requestIDOf(r.Context())), slog.String("route", routeOf(r))}
}
