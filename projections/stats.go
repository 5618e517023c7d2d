package projections

import (
	"slices"
	"strings"
	"time"

	"waystation/domain"
)

// Length-of-stay bands (Stats.LengthOfStay keys) and age bands
// (Stats.IntakesByAgeBand keys). Shown to clients: never rename them.
const (
	StayUpTo10Days  = "up_to_10_days"
	StayTo1Month    = "10_days_to_1_month"
	StayTo3Months   = "1_to_3_months"
	StayOver3Months = "over_3_months"
)

// MaxStatsDays bounds the date range of one statistics request.
const MaxStatsDays = 3660

// DayCount is the census of one day: the cases belonging to the station(s)
// at the end of that day (UTC).
type DayCount struct {
	Date  string `json:"date"`
	Count int    `json:"count"`
}

// StationStats is one station's share of a statistics request.
type StationStats struct {
	Station   string `json:"station"`
	Region    string `json:"region"`
	Intakes   int    `json:"intakes"`
	Exits     int    `json:"exits"`
	BedNights int    `json:"bed_nights"`
}

// Stats are the figures the national system asks for, over the days from
// From (inclusive) to To (exclusive), UTC: the daily census, bed nights
// (the sum of the census: one per case per night), intakes by sex and age
// band (age at intake), exits by type and by length of stay (intake to
// exit). A case counts at the station it belonged to at the time: intakes
// where it arrived, exits where it left, nights where it spent them.
type Stats struct {
	From             time.Time      `json:"from"`
	To               time.Time      `json:"to"`
	Station          string         `json:"station,omitempty"`
	Region           string         `json:"region,omitempty"`
	Census           []DayCount     `json:"census"`
	BedNights        int            `json:"bed_nights"`
	Intakes          int            `json:"intakes"`
	IntakesBySex     map[string]int `json:"intakes_by_sex"`
	IntakesByAgeBand map[string]int `json:"intakes_by_age_band"`
	Exits            int            `json:"exits"`
	ExitsByType      map[string]int `json:"exits_by_type"`
	ExitsBySex       map[string]int `json:"exits_by_sex"`
	LengthOfStay     map[string]int `json:"length_of_stay"`
	Stations         []StationStats `json:"stations"`
}

// Stats returns the statistics of the stations f selects over [from, to),
// whole UTC days, from the live views. from must be before to, at most
// MaxStatsDays apart.
func (r *Runner) Stats(f Filter, from, to time.Time) (Stats, error) {
	from, to = dayStart(from), dayStart(to)
	if !from.Before(to) {
		return Stats{}, domain.Invalid("to", "to must be after from")
	}
	days := int(to.Sub(from) / Day)
	if days > MaxStatsDays {
		return Stats{}, domain.Invalid("to", "at most %d days at once", MaxStatsDays)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.live
	if err := m.checkFilter(f); err != nil {
		return Stats{}, err
	}
	s := Stats{From: from, To: to, Station: f.Station, Region: f.Region,
		IntakesBySex: map[string]int{}, IntakesByAgeBand: map[string]int{}, ExitsByType: map[string]int{},
		ExitsBySex: map[string]int{}, LengthOfStay: map[string]int{}}
	per := map[string]*StationStats{}
	station := func(code string) *StationStats {
		p := per[code]
		if p == nil {
			p = &StationStats{Station: code, Region: m.region(code)}
			per[code] = p
		}
		return p
	}
	diff := make([]int, days+1)
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(to) }
	for _, ce := range m.order {
		c := &ce.c
		if !ce.opened() {
			continue
		}
		if first := ce.stays[0].Station; in(c.OpenedAt) && m.selects(f, first) {
			s.Intakes++
			station(first).Intakes++
			s.IntakesBySex[string(c.Person.Sex)]++
			s.IntakesByAgeBand[ageBand(c.Person, c.OpenedAt)]++
		}
		if !c.ExitedAt.IsZero() && in(c.ExitedAt) && m.selects(f, c.Station) {
			s.Exits++
			station(c.Station).Exits++
			s.ExitsByType[string(c.ExitType)]++
			s.ExitsBySex[string(c.Person.Sex)]++
			s.LengthOfStay[stayBand(c.ExitedAt.Sub(c.OpenedAt))]++
		}
		for i, st := range ce.stays {
			if !m.selects(f, st.Station) {
				continue
			}
			end := st.To
			if end.IsZero() && i == len(ce.stays)-1 {
				end = c.ExitedAt
			}
			// Nights: the midnights after from that the stay covers.
			first := midnightIndex(from, st.From)
			last := days // exclusive
			if !end.IsZero() {
				last = min(last, midnightIndex(from, end.Add(-time.Nanosecond)))
			}
			first = max(first, 0)
			if first >= last {
				continue
			}
			diff[first]++
			diff[last]--
			station(st.Station).BedNights += last - first
		}
	}
	s.Census = make([]DayCount, days)
	n := 0
	for i := range days {
		n += diff[i]
		s.Census[i] = DayCount{Date: from.Add(time.Duration(i) * Day).Format(time.DateOnly), Count: n}
		s.BedNights += n
	}
	s.Stations = make([]StationStats, 0, len(per))
	for _, p := range per {
		s.Stations = append(s.Stations, *p)
	}
	slices.SortFunc(s.Stations, func(a, b StationStats) int { return strings.Compare(a.Station, b.Station) })
	return s, nil
}

// midnightIndex returns the index (from 0) of the first day after from
// whose ending midnight comes after t: the first census day t is present
// at the end of.
func midnightIndex(from, t time.Time) int {
	if t.Before(from) {
		return 0
	}
	return int(t.Sub(from) / Day)
}

func dayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func stayBand(d time.Duration) string {
	switch {
	case d <= 10*Day:
		return StayUpTo10Days
	case d <= 30*Day:
		return StayTo1Month
	case d <= 90*Day:
		return StayTo3Months
	}
	return StayOver3Months
}

// ageBand returns the person's age band at t, by the thresholds of the
// rules: 0-5, 6-13, 14-15, 16-17, 18-59, 60+, or unknown.
func ageBand(p domain.Person, t time.Time) string {
	age, ok := p.AgeOn(t)
	switch {
	case !ok:
		return "unknown"
	case age < domain.MotherChildMaxAge:
		return "0-5"
	case age < domain.SensitiveChildAge:
		return "6-13"
	case age < domain.VoluntaryLeaveAge:
		return "14-15"
	case age < domain.AdultAge:
		return "16-17"
	case age < domain.ElderlyAge:
		return "18-59"
	}
	return "60+"
}
