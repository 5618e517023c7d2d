package http

import (
	"context"
	"net/http"
	"sync"

	"waystation/domain"
	"waystation/eventstore"
)

// scope narrows a requested station/region filter to the actor's scope:
// staff see their station, coordinators and bound inspectors their region,
// admins and unbound inspectors what they ask for. A request outside the
// scope is forbidden.
func (s *Server) scope(r *http.Request, want Filter) (Filter, error) {
	a := actorOf(r)
	ctx := r.Context()
	switch {
	case a.Role == domain.RoleAdmin, a.Role == domain.RoleInspector && a.Region == "":
		return want, nil
	case a.Role == domain.RoleStaff:
		if (want.Station != "" && want.Station != a.Station) || want.Region != "" {
			return Filter{}, domain.Forbidden("staff see their own station only")
		}
		return Filter{Station: a.Station}, nil
	case a.Role == domain.RoleCoordinator, a.Role == domain.RoleInspector:
		if want.Region != "" && want.Region != a.Region {
			return Filter{}, domain.Forbidden("the region is outside the token's scope")
		}
		if want.Station != "" {
			reg, ok := s.regions.regionOf(ctx, want.Station)
			if !ok || reg != a.Region {
				return Filter{}, domain.Forbidden("the station is outside the token's region")
			}
			return Filter{Station: want.Station, Region: a.Region}, nil
		}
		return Filter{Region: a.Region}, nil
	}
	return Filter{}, domain.Forbidden("unknown role")
}

// scopeParams returns the filter that the query's station= or region=
// (not both) asks for, narrowed to the token's scope as scope decides.
func (s *Server) scopeParams(r *http.Request) (Filter, error) {
	q := r.URL.Query()
	if q.Get("station") != "" && q.Get("region") != "" {
		return Filter{}, errorf(domain.CodeInvalid, "station", "give station or region, not both")
	}
	return s.scope(r, Filter{Station: q.Get("station"), Region: q.Get("region")})
}

// regions caches each station's region (it never changes once registered),
// read from the first event of the station's stream.
type regions struct {
	store  eventstore.Store
	mu     sync.RWMutex
	byCode map[string]string // guarded by mu
}

func (g *regions) regionOf(ctx context.Context, code string) (string, bool) {
	g.mu.RLock()
	r, ok := g.byCode[code]
	g.mu.RUnlock()
	if ok {
		return r, true
	}
	for rec, err := range g.store.ReadStream(ctx, domain.StationStream(code), eventstore.ReadStreamOptions{Limit: 1}) {
		if err != nil {
			return "", false
		}
		env, err := domain.Decode(rec)
		if err != nil {
			return "", false
		}
		if reg, ok := env.Event.(domain.StationRegistered); ok {
			g.mu.Lock()
			g.byCode[code] = reg.Region
			g.mu.Unlock()
			return reg.Region, true
		}
	}
	return "", false
}
