package domain

import "time"

// zoneOrder is the order FittingZones tries the zones in: the zones of a
// person's age, condition and sex before the rooms that take others too
// (the mother-and-child room takes every adult woman, isolation and
// observation anyone).
var zoneOrder = []Zone{
	ZoneMinors, ZoneCare, ZoneAdultFemale, ZoneAdultMale, ZoneMotherChild, ZoneIsolation, ZoneObservation,
}

// FittingZones returns every zone that the placement rules let case c's
// person be given a bed in on at (the rules a bed step is refused by, rule
// zone_does_not_fit), the zone a station would place them in first: the
// minors' zone for a minor (or a person of unknown age), care for the
// elderly, disabled or seriously ill, else the zone of their sex; only
// isolation for a suspected infectious disease. A child under 6 linked to
// their mother's case also fits the mother-and-child room.
func FittingZones(c Case, at time.Time) []Zone {
	var out []Zone
	for _, z := range zoneOrder {
		if zoneFits(c, z, at) == nil {
			out = append(out, z)
		}
	}
	return out
}
