package http

import (
	"net/http"
	"slices"
	"strings"

	"waystation/domain"
)

// handlerFunc is a route's handler. It either answers the request and
// returns nil, or returns an error before it has written anything, which
// serve answers through Error. An error returned after the answer has begun
// (its status written, as a stream's is) cannot be answered: serve logs it
// and writes nothing more.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// serve returns the router's handler of rt. Unless rt is public it
// authenticates the request and refuses, with 403, a principal whose role
// rt.Roles leaves out; then it runs rt's handler and answers the error it
// returns. Checks that depend on the data (a token's station or region
// against the case or board asked for) are the handler's.
func (s *Server) serve(rt route) http.HandlerFunc {
	refused := refusal(rt.Roles)
	return func(w http.ResponseWriter, r *http.Request) {
		rec, ok := w.(*recorder)
		if !ok { // served by the router alone, without the outer middleware
			rec = &recorder{ResponseWriter: w}
		}
		err := s.run(&rt, refused, rec, r)
		switch {
		case err == nil:
		case rec.status == 0:
			s.Error(rec, r, err)
		default:
			s.afterAnswer(r, err)
		}
	}
}

// run authenticates r and checks its role as rt asks, then runs rt's
// handler.
func (s *Server) run(rt *route, refused string, w http.ResponseWriter, r *http.Request) error {
	if err := crossOrigin.Check(r); err != nil {
		return domain.Forbidden("a request that changes state must come from this server's own pages")
	}
	if !rt.Public {
		var err error
		if r, err = s.authenticate(r); err != nil {
			return err
		}
		if !slices.Contains(rt.Roles, actorOf(r).Role) {
			return domain.Forbidden("%s", refused)
		}
		if err := s.enrolmentFirst(r, rt); err != nil {
			return err
		}
	}
	return rt.handle(w, r)
}

// crossOrigin refuses unsafe requests that a browser marks as sent from
// another origin (Sec-Fetch-Site, Origin); requests without those headers,
// as API clients send them, pass.
var crossOrigin = http.NewCrossOriginProtection()

// enrolmentFirst refuses every route but the session's own to a session
// whose account must use two-factor and has not enrolled yet.
func (s *Server) enrolmentFirst(r *http.Request, rt *route) error {
	in := infoOf(r)
	if in == nil || in.session == "" || strings.HasPrefix(rt.Path, "/v1/session") {
		return nil
	}
	acc, ok := s.people.account(in.actor.ID)
	if ok && !acc.TOTP && s.totpRequired(acc) {
		return &domain.Error{Code: domain.CodeForbidden, Rule: RuleTOTPEnrolmentRequired,
			Message: "this account must use two-factor: enrol an authenticator at POST /v1/session/totp first"}
	}
	return nil
}

// afterAnswer logs err, which a handler returned once its answer had
// begun, with its code and the request's ID and route.
func (s *Server) afterAnswer(r *http.Request, err error) {
	de := problemOf(err)
	s.logger.ErrorContext(r.Context(), "error after the answer began", append(logAttrs(r),
		"code", string(de.Code), "err", err)...)
}

// refusalOrder is the order a refusal names roles in.
var refusalOrder = []domain.Role{domain.RoleStaff, domain.RoleCoordinator, domain.RoleAdmin, domain.RoleInspector}

// refusal is the detail of the 403 answered to a principal whose role
// roles leaves out: "this route is for staff or admin tokens".
func refusal(roles []domain.Role) string {
	names := make([]string, 0, len(roles))
	for _, r := range refusalOrder {
		if slices.Contains(roles, r) {
			names = append(names, string(r))
		}
	}
	return "this route is for " + strings.Join(names, " or ") + " tokens"
}
