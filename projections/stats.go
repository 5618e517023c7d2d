package projections

import (
	"math"
	"slices"
	"strings"
	"time"

	"waystation/domain"
)

// Length-of-stay bands (Breakdown.LengthOfStay keys). Shown to clients:
// never rename them.
const (
	StayUpTo10Days  = "up_to_10_days"
	StayTo1Month    = "10_days_to_1_month"
	StayTo3Months   = "1_to_3_months"
	StayOver3Months = "over_3_months"
)

// MaxStatsDays bounds the civil dates one statistics request counts.
const MaxStatsDays = 3660

// Earliest is the earliest moment a statistics period may start at and a
// transfer board's Since may name: 1900-01-01 00:00 in domain.CivilZone.
var Earliest = time.Date(1900, 1, 1, 0, 0, 0, 0, domain.CivilZone)

// Period is the interval a statistics request counts: from From
// (inclusive) to To, inclusive when ToInclusive, else exclusive.
type Period struct {
	From, To    time.Time
	ToInclusive bool
}

// DatesPeriod returns the period of the civil dates (domain.CivilZone)
// from to to, both included: from 00:00 on from to 00:00 on the day after
// to, exclusive.
func DatesPeriod(from, to domain.Date) Period {
	return Period{From: from.Time(), To: to.Time().AddDate(0, 0, 1)}
}

// end returns the instant p ends at, exclusive.
func (p Period) end() time.Time {
	if p.ToInclusive {
		return p.To.Add(time.Nanosecond)
	}
	return p.To
}

// DayCount is the census of one civil date (China Standard Time,
// domain.CivilZone): the people holding a bed at a selected station at the
// census moment of that date's night, the midnight (00:00 CivilZone) that
// ends it; see Stats for who counts.
type DayCount struct {
	Date  string `json:"date" doc:"The civil date (YYYY-MM-DD, Beijing time)."`
	Count int    `json:"count" doc:"People holding a bed at midnight at the end of that date."`
}

// Breakdown is one set of the figures, for the whole selection, one
// station or one region. Age bands are the ones of AgeBands: at intake for
// intakes, at the exit for exits; sexes are "male", "female" or "" when
// not recorded; exit types are domain.ExitType values.
type Breakdown struct {
	BedNights        int            `json:"bed_nights" doc:"Bed nights: the sum of the nightly census."`
	Intakes          int            `json:"intakes" doc:"Intakes."`
	IntakesBySex     map[string]int `json:"intakes_by_sex" doc:"Intakes by sex (male, female, or an empty key when not recorded)."`
	IntakesByAgeBand map[string]int `json:"intakes_by_age_band" doc:"Intakes by age band at intake."`
	Exits            int            `json:"exits" doc:"Exits."`
	ExitsByType      map[string]int `json:"exits_by_type" doc:"Exits by how the person left."`
	ExitsBySex       map[string]int `json:"exits_by_sex" doc:"Exits by sex."`
	ExitsByAgeBand   map[string]int `json:"exits_by_age_band" doc:"Exits by age band at the exit."`
	LengthOfStay     map[string]int `json:"length_of_stay" doc:"Exits by length of stay from intake to exit."`
}

func newBreakdown() Breakdown {
	return Breakdown{IntakesBySex: map[string]int{}, IntakesByAgeBand: map[string]int{}, ExitsByType: map[string]int{},
		ExitsBySex: map[string]int{}, ExitsByAgeBand: map[string]int{}, LengthOfStay: map[string]int{}}
}

// StationStats is one station's share of a statistics request.
type StationStats struct {
	Station string `json:"station" doc:"The station's code."`
	Region  string `json:"region" doc:"Code of its region."`
	Breakdown
}

// RegionStats is one region's share of a statistics request: the sum of
// its stations' rows.
type RegionStats struct {
	Region string `json:"region" doc:"The region's code."`
	Breakdown
}

// Stats are the figures the national system asks for, over a Period:
// the census of each civil date's night (China Standard Time,
// domain.CivilZone), bed nights, intakes by sex and age band (age at
// intake), exits by type, by sex, by age band (age at the exit) and by
// length of stay (intake to exit), for the whole selection (the
// Breakdown's fields at the top level), for each selected station, and
// for each region when the selection is a region or everywhere (Regions
// is empty for one station).
//
// From, To and ToInclusive say exactly which interval was counted, in
// CivilZone; FromDate and ToDate are the civil dates of its first and its
// last instant. An intake or exit counts when it happened in the
// interval (a period that ends ahead counts what has happened so far).
//
// A bed night is one person holding a bed at a station at the census
// moment of a night, 00:00 CivilZone at the end of the date: a bed
// assigned and not yet released, to someone whose case has not exited and
// who is not away in hospital or in transit (from the hospital admission
// to the return, from the escort's departure to the handover) at that
// moment. People with no bed do not count. The census of a date belongs
// to that date: it is in the interval when the date's last instant is (the
// interval reaches the date's end), and it is taken once its moment has
// passed. Census lists those dates, from FromDate on; a date whose
// end the interval does not reach (a To before midnight) or whose census
// moment is still ahead (tonight's) has no entry. Bed nights are the sum
// of the census.
//
// A case counts at the station where it was at the time: intakes where it
// arrived, exits where it left, bed nights where it held the bed.
type Stats struct {
	From        time.Time  `json:"from" doc:"The first instant counted (+08:00)."`
	To          time.Time  `json:"to" doc:"The last instant counted when to_inclusive, else the instant the count stops before (+08:00)."`
	ToInclusive bool       `json:"to_inclusive" doc:"Whether the instant in to is itself counted."`
	FromDate    string     `json:"from_date" doc:"The civil date in Beijing time of the first instant counted."`
	ToDate      string     `json:"to_date" doc:"The civil date in Beijing time of the last instant counted."`
	Station     string     `json:"station,omitempty" doc:"The station selected, if one was."`
	Region      string     `json:"region,omitempty" doc:"The region selected, if one was."`
	Census      []DayCount `json:"census" doc:"The census of each completed night."`
	Breakdown
	Stations []StationStats `json:"stations" doc:"The figures of each selected station."`
	Regions  []RegionStats  `json:"regions" doc:"The figures of each region, when the selection is a region or everywhere."`
}

// Stats returns the statistics of the stations f selects over p, from the
// live views, with the live clock deciding which nights are complete. p
// must not be empty (From after its last instant is invalid, field from),
// must start between Earliest and now (from), and may span at most MaxStatsDays civil dates
// (to).
func (r *Runner) Stats(f Filter, p Period) (Stats, error) {
	from, end := p.From.In(domain.CivilZone), p.end().In(domain.CivilZone)
	if !from.Before(end) {
		return Stats{}, domain.Invalid("from", "from must not be after to")
	}
	if from.Before(Earliest) {
		return Stats{}, domain.Invalid("from", "from must be %s or later", Earliest.Format(time.DateOnly))
	}
	last := end.Add(-time.Nanosecond)
	firstDate, lastDate := dayStart(from), dayStart(last)
	if days := int(lastDate.Sub(firstDate)/Day) + 1; days > MaxStatsDays {
		return Stats{}, domain.Invalid(
			"to", "from %s to %s is %d days: at most %d at once", firstDate.Format(time.DateOnly),
			lastDate.Format(time.DateOnly), days, MaxStatsDays,
		)
	}
	now := r.opts.Now().In(domain.CivilZone)
	if from.After(now) {
		return Stats{}, domain.Invalid("from", "from is after now (%s): nothing has happened yet", now.Format(time.RFC3339))
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	m := r.live
	if err := m.checkFilter(f); err != nil {
		return Stats{}, err
	}
	s := Stats{From: from, To: p.To.In(domain.CivilZone), ToInclusive: p.ToInclusive,
		FromDate: firstDate.Format(time.DateOnly), ToDate: lastDate.Format(time.DateOnly),
		Station: f.Station, Region: f.Region, Breakdown: newBreakdown()}
	stations := map[string]*StationStats{}
	regions := map[string]*RegionStats{}
	// rows returns the breakdowns that a figure of station code adds to:
	// the selection's, the station's and, unless one station was asked
	// for, its region's.
	rows := func(code string) [3]*Breakdown {
		st := stations[code]
		if st == nil {
			st = &StationStats{Station: code, Region: m.region(code), Breakdown: newBreakdown()}
			stations[code] = st
		}
		out := [3]*Breakdown{&s.Breakdown, &st.Breakdown}
		if f.Station == "" {
			rg := regions[st.Region]
			if rg == nil {
				rg = &RegionStats{Region: st.Region, Breakdown: newBreakdown()}
				regions[st.Region] = rg
			}
			out[2] = &rg.Breakdown
		}
		return out
	}
	for code, st := range m.stations {
		if st.st.Registered() && m.selects(f, code) {
			rows(code)
		}
	}
	// The census moment of the i'th date from FromDate is the midnight
	// that ends it; nights counts those within the interval (up to its
	// end, inclusive: the end of the last whole date) that have passed.
	first := firstDate.Add(Day).UnixNano()
	nights := moments(first, min(end.UnixNano(), now.UnixNano())+1, MaxStatsDays+1)
	diff := make([]int, nights+1)
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(end) }
	for _, ce := range m.order {
		c := &ce.c
		if !ce.opened() {
			continue
		}
		if arrived := ce.stays[0].Station; in(c.OpenedAt) && m.selects(f, arrived) {
			sex, band := string(c.Person.Sex), ageBand(c.Person, c.OpenedAt)
			for _, b := range rows(arrived) {
				if b != nil {
					b.Intakes++
					b.IntakesBySex[sex]++
					b.IntakesByAgeBand[band]++
				}
			}
		}
		if !c.ExitedAt.IsZero() && in(c.ExitedAt) && m.selects(f, c.Station) {
			typ, sex, band, stay := string(c.ExitType), string(c.Person.Sex), ageBand(c.Person, c.ExitedAt), stayBand(
				c.ExitedAt.Sub(c.OpenedAt),
			)
			for _, b := range rows(c.Station) {
				if b != nil {
					b.Exits++
					b.ExitsByType[typ]++
					b.ExitsBySex[sex]++
					b.ExitsByAgeBand[band]++
					b.LengthOfStay[stay]++
				}
			}
		}
		exit := int64(math.MaxInt64)
		if !c.ExitedAt.IsZero() {
			exit = c.ExitedAt.UnixNano()
		}
		for _, h := range ce.holds {
			if !m.selects(f, h.station) {
				continue
			}
			present(span{h.from, min(h.end(), exit)}, ce.away, func(p span) {
				i, j := moments(first, p.from, nights), moments(first, p.to, nights)
				if i >= j {
					return
				}
				diff[i]++
				diff[j]--
				for _, b := range rows(h.station) {
					if b != nil {
						b.BedNights += j - i
					}
				}
			})
		}
	}
	s.Census = make([]DayCount, nights)
	n := 0
	for i := range nights {
		n += diff[i]
		s.Census[i] = DayCount{Date: firstDate.AddDate(0, 0, i).Format(time.DateOnly), Count: n}
	}
	s.Stations = make([]StationStats, 0, len(stations))
	for _, st := range stations {
		s.Stations = append(s.Stations, *st)
	}
	slices.SortFunc(s.Stations, func(a, b StationStats) int { return strings.Compare(a.Station, b.Station) })
	s.Regions = make([]RegionStats, 0, len(regions))
	for _, rg := range regions {
		s.Regions = append(s.Regions, *rg)
	}
	slices.SortFunc(s.Regions, func(a, b RegionStats) int { return strings.Compare(a.Region, b.Region) })
	return s, nil
}

// moments returns how many of the census moments first, first+Day, ...
// (n of them, Unix nanoseconds) come before t.
func moments(first, t int64, n int) int {
	if t <= first {
		return 0
	}
	k := (t - first + int64(Day) - 1) / int64(Day)
	return int(min(k, int64(n)))
}

// present calls fn with each part of in that no span of away (ordered by
// start) covers.
func present(in span, away []span, fn func(span)) {
	cur := in.from
	for _, a := range away {
		if cur >= in.to {
			return
		}
		if a.end() <= cur || a.from >= in.to {
			continue
		}
		if a.from > cur {
			fn(span{cur, a.from})
		}
		cur = max(cur, a.end())
	}
	if cur < in.to {
		fn(span{cur, in.to})
	}
}

// dayStart returns the start (00:00 in domain.CivilZone) of t's civil date.
func dayStart(t time.Time) time.Time {
	y, m, d := t.In(domain.CivilZone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, domain.CivilZone)
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

// AgeBands are the age bands of the statistics (Breakdown's by-age-band
// keys), by the thresholds of the rules. Shown to clients: never rename
// them.
var AgeBands = []string{"0-5", "6-13", "14-15", "16-17", "18-59", "60+", "unknown"}

// ageBand returns the person's age band on the civil date of t in
// domain.CivilZone: 0-5, 6-13, 14-15, 16-17, 18-59, 60+, or unknown.
func ageBand(p domain.Person, t time.Time) string {
	age, ok := p.AgeOn(t.In(domain.CivilZone))
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
