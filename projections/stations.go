package projections

import (
	"slices"
	"strings"
	"time"

	"waystation/domain"
)

// StationInfo is a registered station.
type StationInfo struct {
	Code         string             `json:"code" doc:"The station's code."`
	Name         string             `json:"name" doc:"The station's name."`
	Region       string             `json:"region" doc:"Code of its region."`
	Kind         domain.StationKind `json:"kind" doc:"What kind of institution it is."`
	Zones        []domain.ZoneBeds  `json:"zones" doc:"Its zones and beds."`
	RegisteredAt time.Time          `json:"registered_at" doc:"When it was registered."`
}

func stationInfo(s *stationEntry) StationInfo {
	return StationInfo{Code: s.st.Code, Name: s.st.Name, Region: s.st.Region, Kind: s.st.Kind,
		Zones: slices.Clone(s.st.Zones), RegisteredAt: s.registeredAt}
}

// Stations returns every registered station of the live views, ordered by
// code.
func (r *Runner) Stations() []StationInfo {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]StationInfo, 0, len(r.live.stations))
	for _, s := range r.live.stations {
		if s.st.Registered() {
			out = append(out, stationInfo(s))
		}
	}
	slices.SortFunc(out, func(a, b StationInfo) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// Station returns the registered station with code, and whether there is
// one.
func (r *Runner) Station(code string) (StationInfo, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s := r.live.stations[code]
	if s == nil || !s.st.Registered() {
		return StationInfo{}, false
	}
	return stationInfo(s), true
}
