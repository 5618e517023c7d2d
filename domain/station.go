package domain

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Placement is one case in one bed. MotherCaseID is set when a child under 6
// shares their mother's bed in the mother-and-child room.
type Placement struct {
	CaseID       uuid.UUID `json:"case_id"`
	Zone         Zone      `json:"zone"`
	Bed          string    `json:"bed"`
	Since        time.Time `json:"since"`
	AssignID     uuid.UUID `json:"assign_id"`
	MotherCaseID uuid.UUID `json:"mother_case_id,omitzero"`
}

// ZoneOccupancy counts the beds of one zone.
type ZoneOccupancy struct {
	Zone     Zone `json:"zone"`
	Beds     int  `json:"beds"`
	Occupied int  `json:"occupied"`
	Free     int  `json:"free"`
}

// Station is the state of a station folded from its stream: registration,
// zones, and the allocation of every bed. The zero Station is an
// unregistered one. Evolve mutates it; use Clone to keep an earlier state.
type Station struct {
	Code    string      `json:"code"`
	Name    string      `json:"name"`
	Region  string      `json:"region"`
	Kind    StationKind `json:"kind"`
	Zones   []ZoneBeds  `json:"zones"`
	Version uint64      `json:"version"`

	byCase map[uuid.UUID]Placement
	inBed  map[string][]uuid.UUID
}

// Registered reports whether the station exists.
func (s *Station) Registered() bool { return s.Version > 0 && s.Code != "" }

// Clone returns a deep copy of s.
func (s *Station) Clone() Station {
	c := *s
	c.Zones = slices.Clone(s.Zones)
	c.byCase = maps.Clone(s.byCase)
	c.inBed = make(map[string][]uuid.UUID, len(s.inBed))
	for k, v := range s.inBed {
		c.inBed[k] = slices.Clone(v)
	}
	return c
}

// Evolve applies env, an event of the station's stream, to s.
func (s *Station) Evolve(env Envelope) {
	s.Version = env.Revision + 1
	if s.byCase == nil {
		s.byCase = map[uuid.UUID]Placement{}
		s.inBed = map[string][]uuid.UUID{}
	}
	switch e := env.Event.(type) {
	case StationRegistered:
		s.Code, s.Name, s.Region, s.Kind = e.Code, e.Name, e.Region, e.Kind
		s.Zones = slices.Clone(e.Zones)
	case ZonesChanged:
		s.Zones = slices.Clone(e.Zones)
	case BedAssigned:
		if old, ok := s.byCase[e.CaseID]; ok {
			s.unplace(old)
		}
		s.byCase[e.CaseID] = Placement{CaseID: e.CaseID, Zone: e.Zone, Bed: e.Bed, Since: env.Meta.OccurredAt,
			AssignID: env.ID, MotherCaseID: e.MotherCaseID}
		s.inBed[e.Bed] = append(s.inBed[e.Bed], e.CaseID)
	case BedReleased:
		if old, ok := s.byCase[e.CaseID]; ok && old.Bed == e.Bed {
			s.unplace(old)
		}
	}
}

func (s *Station) unplace(p Placement) {
	delete(s.byCase, p.CaseID)
	ids := slices.DeleteFunc(slices.Clone(s.inBed[p.Bed]), func(id uuid.UUID) bool { return id == p.CaseID })
	if len(ids) == 0 {
		delete(s.inBed, p.Bed)
	} else {
		s.inBed[p.Bed] = ids
	}
}

// ZoneBeds returns the zone's bed counts and whether the station has it.
func (s *Station) ZoneBeds(z Zone) (ZoneBeds, bool) {
	for _, zb := range s.Zones {
		if zb.Zone == z {
			return zb, true
		}
	}
	return ZoneBeds{}, false
}

// BedNames returns the names of the zone's beds, permanent then seasonal.
func (s *Station) BedNames(z Zone) []string {
	zb, ok := s.ZoneBeds(z)
	if !ok {
		return nil
	}
	n := zb.Beds + zb.Seasonal
	out := make([]string, n)
	for i := range n {
		out[i] = BedName(z, i+1)
	}
	return out
}

// BedName returns the name of bed n (from 1) of zone z: "<zone>-<n>".
func BedName(z Zone, n int) string { return string(z) + "-" + strconv.Itoa(n) }

// HasBed reports whether bed is one of the zone's beds.
func (s *Station) HasBed(z Zone, bed string) bool {
	rest, ok := strings.CutPrefix(bed, string(z)+"-")
	if !ok {
		return false
	}
	n, err := strconv.Atoi(rest)
	if err != nil || strconv.Itoa(n) != rest {
		return false
	}
	zb, ok := s.ZoneBeds(z)
	return ok && n >= 1 && n <= zb.Beds+zb.Seasonal
}

// BedOf returns the placement of case id at this station, if any.
func (s *Station) BedOf(id uuid.UUID) (Placement, bool) {
	p, ok := s.byCase[id]
	return p, ok
}

// Occupants returns the cases in bed, the first one being the bed's holder.
func (s *Station) Occupants(bed string) []uuid.UUID { return slices.Clone(s.inBed[bed]) }

// FreeBeds returns the zone's empty beds in order.
func (s *Station) FreeBeds(z Zone) []string {
	var out []string
	for _, b := range s.BedNames(z) {
		if len(s.inBed[b]) == 0 {
			out = append(out, b)
		}
	}
	return out
}

// Placements returns every case in a bed, ordered by zone and bed name.
func (s *Station) Placements() []Placement {
	out := slices.Collect(maps.Values(s.byCase))
	slices.SortFunc(out, func(a, b Placement) int {
		if c := strings.Compare(string(a.Zone), string(b.Zone)); c != 0 {
			return c
		}
		if c := bedNumber(a.Bed) - bedNumber(b.Bed); c != 0 {
			return c
		}
		return strings.Compare(a.CaseID.String(), b.CaseID.String())
	})
	return out
}

func bedNumber(bed string) int {
	i := strings.LastIndexByte(bed, '-')
	n, _ := strconv.Atoi(bed[i+1:])
	return n
}

// Occupancy counts beds, occupied and free beds per zone, in the station's
// zone order. A bed shared by a mother and child counts once.
func (s *Station) Occupancy() []ZoneOccupancy {
	out := make([]ZoneOccupancy, 0, len(s.Zones))
	for _, zb := range s.Zones {
		o := ZoneOccupancy{Zone: zb.Zone, Beds: zb.Beds + zb.Seasonal}
		for _, b := range s.BedNames(zb.Zone) {
			if len(s.inBed[b]) > 0 {
				o.Occupied++
			}
		}
		o.Free = o.Beds - o.Occupied
		out = append(out, o)
	}
	return out
}

// Token is an access token as the access stream records it.
type Token struct {
	ID        string    `json:"id" doc:"The token's ID, for revoking it and in the access log."`
	Name      string    `json:"name,omitempty" doc:"Who or what the token is for."`
	Role      Role      `json:"role" doc:"The token's role."`
	Station   string    `json:"station,omitempty" doc:"The station a staff token is bound to."`
	Region    string    `json:"region,omitempty" doc:"The region a coordinator's or inspector's token is bound to; absent for an inspector of every region."`
	Hash      string    `json:"-"`
	IssuedAt  time.Time `json:"issued_at" doc:"When the token was issued."`
	Revoked   bool      `json:"revoked" doc:"Whether the token was revoked."`
	RevokedAt time.Time `json:"revoked_at,omitzero" doc:"When it was revoked."`
}

// Actor returns the actor that the token authenticates.
func (t Token) Actor() Actor {
	return Actor{ID: t.ID, Role: t.Role, Station: t.Station, Region: t.Region}
}

// Access is the state of the access stream: every token issued. Evolve
// mutates it.
type Access struct {
	Version uint64
	byID    map[string]Token
	byHash  map[string]string
}

// Evolve applies env, an event of the access stream, to a.
func (a *Access) Evolve(env Envelope) {
	a.Version = env.Revision + 1
	if a.byID == nil {
		a.byID = map[string]Token{}
		a.byHash = map[string]string{}
	}
	switch e := env.Event.(type) {
	case TokenIssued:
		a.byID[e.ID] = Token{ID: e.ID, Name: e.Name, Role: e.Role, Station: e.Station, Region: e.Region, Hash: e.Hash,
			IssuedAt: env.Meta.OccurredAt}
		a.byHash[e.Hash] = e.ID
	case TokenRevoked:
		if t, ok := a.byID[e.ID]; ok {
			t.Revoked = true
			t.RevokedAt = env.Meta.OccurredAt
			a.byID[e.ID] = t
		}
	}
}

// Token returns the token with id, revoked or not.
func (a *Access) Token(id string) (Token, bool) {
	t, ok := a.byID[id]
	return t, ok
}

// ByHash returns the unrevoked token whose SHA-256 hash (hex) is hash.
func (a *Access) ByHash(hash string) (Token, bool) {
	id, ok := a.byHash[hash]
	if !ok {
		return Token{}, false
	}
	t := a.byID[id]
	return t, !t.Revoked
}

// Tokens returns every token, ordered by ID.
func (a *Access) Tokens() []Token {
	out := slices.Collect(maps.Values(a.byID))
	slices.SortFunc(out, func(x, y Token) int { return strings.Compare(x.ID, y.ID) })
	return out
}
