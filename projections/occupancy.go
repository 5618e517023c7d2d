package projections

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
)

// ZoneOccupancy counts the beds of one zone: Beds includes the Seasonal
// (winter-warmth and summer-cooling) ones.
type ZoneOccupancy struct {
	Zone     domain.Zone `json:"zone" doc:"The zone."`
	Beds     int         `json:"beds" doc:"Number of beds, seasonal ones included."`
	Seasonal int         `json:"seasonal,omitempty" doc:"How many of them are seasonal beds."`
	Occupied int         `json:"occupied" doc:"Beds held by someone."`
	Free     int         `json:"free" doc:"Beds free."`
}

// Resident is a case in a bed.
type Resident struct {
	CaseID uuid.UUID   `json:"case_id" doc:"The case in the bed."`
	Zone   domain.Zone `json:"zone" doc:"The bed's zone."`
	Bed    string      `json:"bed" doc:"The bed."`
	Since  time.Time   `json:"since" doc:"Since when the case holds it."`
}

// Occupancy is a station's beds per zone, its residents with their beds,
// and the people of the station who are away in hospital or in transit
// (counted apart from beds).
type Occupancy struct {
	Station    string          `json:"station" doc:"The station's code."`
	At         time.Time       `json:"at" doc:"The moment shown."`
	Zones      []ZoneOccupancy `json:"zones" doc:"Beds per zone."`
	InHospital int             `json:"in_hospital" doc:"People of the station away in hospital, counted apart from beds."`
	InTransit  int             `json:"in_transit" doc:"People of the station in transit to another station."`
	Residents  []Resident      `json:"residents" doc:"Every case in a bed, by zone and bed."`
}

// Occupancy returns the occupancy of the station with code as of asOf. An
// unknown station is a domain not_found error.
func (r *Runner) Occupancy(code string, asOf AsOf) (Occupancy, error) {
	var out Occupancy
	err := r.view(context.Background(), asOf, func(m *model, at time.Time) error {
		s := m.stations[code]
		if s == nil || !s.st.Registered() {
			return domain.NotFound("no station %q", code)
		}
		out = occupancy(m, s, at)
		return nil
	})
	return out, err
}

func occupancy(m *model, s *stationEntry, at time.Time) Occupancy {
	o := Occupancy{Station: s.st.Code, At: at, Zones: []ZoneOccupancy{}, Residents: []Resident{}}
	for _, z := range s.st.Occupancy() {
		zb, _ := s.st.ZoneBeds(z.Zone)
		o.Zones = append(
			o.Zones, ZoneOccupancy{Zone: z.Zone, Beds: z.Beds, Seasonal: zb.Seasonal, Occupied: z.Occupied, Free: z.Free},
		)
	}
	placements := s.st.Placements()
	zoneIndex := func(z domain.Zone) int {
		return slices.IndexFunc(s.st.Zones, func(zb domain.ZoneBeds) bool { return zb.Zone == z })
	}
	// Placements come ordered by zone name and bed number; show them in the
	// station's zone order instead.
	slices.SortStableFunc(placements, func(a, b domain.Placement) int { return zoneIndex(a.Zone) - zoneIndex(b.Zone) })
	for _, p := range placements {
		o.Residents = append(o.Residents, Resident{CaseID: p.CaseID, Zone: p.Zone, Bed: p.Bed, Since: p.Since})
	}
	for _, ce := range m.order {
		if ce.c.Station != s.st.Code {
			continue
		}
		switch ce.c.Status {
		case domain.StatusInHospital:
			o.InHospital++
		case domain.StatusInTransit:
			o.InTransit++
		}
	}
	return o
}
