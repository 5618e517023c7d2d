package projections

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"waystation/domain"
)

// Report kinds (ReportPeriod.Kind). Shown to clients: never rename them.
const (
	ReportMonthly   = "month"
	ReportQuarterly = "quarter"
)

// Report bases (Report.Basis): which log a report was counted from.
// Shown to clients: never rename them.
const (
	// BasisLive is the log as it stands now, late paperwork included.
	BasisLive = "live"
	// BasisOccurred is what had happened by the report's as_of moment, with
	// everything recorded since ("what was true then").
	BasisOccurred = "occurred"
	// BasisKnown is what had been recorded by the as_of moment ("what
	// staff could have known then"): the report as it stood that day.
	BasisKnown = "known"
)

// The exit types of a report (ReportFigures.ExitsByType keys), in the
// order a report lists them: the domain's exit types that end an
// assistance (domain.ExitType values) and ExitTransferred. Shown to
// clients: never rename them.
const ExitTransferred = "transferred"

// ReportExitTypes lists the keys of ReportFigures.ExitsByType, in order.
var ReportExitTypes = []string{
	string(domain.ExitEscortedReturn), string(domain.ExitPickup), string(domain.ExitVoluntaryLeave), ExitTransferred,
	string(domain.ExitSettlement), string(domain.ExitAbsconding), string(domain.ExitDeath),
	string(domain.ExitTermination),
}

// refusal reports whether t ends a case by refusing assistance.
func refusal(t domain.ExitType) bool {
	return t == domain.ExitNotEligible || t == domain.ExitSecurityCheckRefused
}

// ReportAlertRules are the safety rules whose alerts a report counts
// (docs/reports.md, alerts): those whose raising and clearing the log
// dates exactly.
var ReportAlertRules = []string{
	RuleNoFamilySearchNotice, RuleDNANotRequested, RuleUnaccompaniedMinor, RuleTransferUnanswered,
	RuleHandoverOverdue, RuleAbsconded,
}

// ReportPeriod is a calendar month or quarter of civil dates in Beijing
// time (domain.CivilZone): from 00:00 on its first date to 00:00 on the
// date after its last, exclusive.
type ReportPeriod struct {
	Name string    // "2026-11" or "2026-Q4"
	Kind string    // ReportMonthly or ReportQuarterly
	From time.Time // the first instant, 00:00 CivilZone
	To   time.Time // the instant after the last, exclusive
}

// ParseReportPeriod parses "YYYY-MM" (a month) or "YYYY-QN" (a quarter,
// N from 1 to 4), years 1900 to 9999. A bad name is an invalid error on
// field period.
func ParseReportPeriod(s string) (ReportPeriod, error) {
	bad := domain.Invalid("period", "period must be a month (2026-11) or a quarter (2026-Q4), got %q", s)
	y, rest, ok := strings.Cut(s, "-")
	if !ok || len(y) != 4 {
		return ReportPeriod{}, bad
	}
	year, err := strconv.Atoi(y)
	if err != nil || year < 1900 {
		return ReportPeriod{}, bad
	}
	var first time.Month
	months, kind := 1, ReportMonthly
	switch {
	case len(rest) == 2 && (rest[0] == 'Q' || rest[0] == 'q'):
		q := int(rest[1] - '0')
		if q < 1 || q > 4 {
			return ReportPeriod{}, bad
		}
		first, months, kind = time.Month(3*q-2), 3, ReportQuarterly
		s = fmt.Sprintf("%04d-Q%d", year, q)
	case len(rest) == 2:
		m, err := strconv.Atoi(rest)
		if err != nil || m < 1 || m > 12 {
			return ReportPeriod{}, bad
		}
		first = time.Month(m)
	default:
		return ReportPeriod{}, bad
	}
	from := time.Date(year, first, 1, 0, 0, 0, 0, domain.CivilZone)
	return ReportPeriod{Name: s, Kind: kind, From: from, To: from.AddDate(0, months, 0)}, nil
}

// ReportFigures are the figures of one report row: the whole selection,
// a station or a region. docs/reports.md defines each one; a figure with
// nothing to average over is null.
type ReportFigures struct {
	Assisted           int            `json:"assisted" doc:"People assisted (person-times): intakes in the period, refusals left out."`
	AssistedMinors     int            `json:"assisted_minors" doc:"Of them, minors (under 18 on the intake's date)."`
	AssistedElderly    int            `json:"assisted_elderly" doc:"Of them, elderly (60 or over on the intake's date)."`
	AssistedDisabled   int            `json:"assisted_disabled" doc:"Of them, people with a disability or a suspected mental disorder."`
	Refused            int            `json:"refused" doc:"Assistance refused: cases refused at eligibility or at the security check in the period."`
	InStationAtEnd     int            `json:"in_station_at_end" doc:"People on the station's books (not exited) at the period's end."`
	Beds               int            `json:"beds" doc:"Beds (permanent and seasonal, every zone) at the period's end."`
	BedNights          int            `json:"bed_nights" doc:"Bed nights: people holding a bed at each census midnight of the period."`
	BedNightsAvailable int            `json:"bed_nights_available" doc:"Bed nights available: the beds at each census midnight of the period."`
	OccupancyRate      *float64       `json:"occupancy_rate" doc:"Bed nights over bed nights available (0 to 1, four decimals); null with none available."`
	Exits              int            `json:"exits" doc:"Exits in the period: the sum of exits_by_type."`
	ExitsByType        map[string]int `json:"exits_by_type" doc:"Exits by type: escorted_return, pickup, voluntary_leave, transferred, settlement (referred to care), absconding, death, termination."`
	StayExits          int            `json:"stay_exits" doc:"Exits that ended the case (every exit but transferred): the stays averaged."`
	AverageStayDays    *float64       `json:"average_stay_days" doc:"Average length of stay in days of the stay exits (two decimals); null with none."`
	MedianStayDays     *float64       `json:"median_stay_days" doc:"Median length of stay in days of the stay exits; null with none."`
	// ReturnsAcrossProvinces stays null until stations record their
	// province (docs/reports.md).
	ReturnsAcrossProvinces *int           `json:"returns_across_provinces" doc:"Escorted returns to another province; null: stations do not record their province yet."`
	RepeatVisitors         int            `json:"repeat_visitors" doc:"People assisted in the period with an earlier case of the same person."`
	AlertsRaised           int            `json:"alerts_raised" doc:"Safety alerts raised in the period (the rules of docs/reports.md)."`
	AlertsByRule           map[string]int `json:"alerts_by_rule" doc:"Alerts raised in the period by rule."`
	AlertsCleared          int            `json:"alerts_cleared" doc:"Of them, cleared by the report's moment."`
	AlertClearHoursAverage *float64       `json:"alert_clear_hours_average" doc:"Average hours from raising to clearing of the cleared alerts; null with none."`
	AlertClearHoursMedian  *float64       `json:"alert_clear_hours_median" doc:"Median hours from raising to clearing of the cleared alerts; null with none."`

	stays  map[int]int     // stay exits by length of stay in days
	clears []time.Duration // raising to clearing of the cleared alerts
}

func newFigures() ReportFigures {
	f := ReportFigures{ExitsByType: map[string]int{}, AlertsByRule: map[string]int{}, stays: map[int]int{}}
	for _, t := range ReportExitTypes {
		f.ExitsByType[t] = 0
	}
	for _, r := range ReportAlertRules {
		f.AlertsByRule[r] = 0
	}
	return f
}

// finish computes the rates, averages and medians from the counts.
func (f *ReportFigures) finish() {
	if f.BedNightsAvailable > 0 {
		f.OccupancyRate = ptrTo(round(float64(f.BedNights)/float64(f.BedNightsAvailable), 4))
	}
	if f.StayExits > 0 {
		days := slices.Sorted(func(yield func(int) bool) {
			for d := range f.stays {
				if !yield(d) {
					return
				}
			}
		})
		sum := 0
		for _, d := range days {
			sum += d * f.stays[d]
		}
		f.AverageStayDays = ptrTo(round(float64(sum)/float64(f.StayExits), 2))
		nth := func(k int) int { // the k'th smallest stay, from 0
			for _, d := range days {
				if k < f.stays[d] {
					return d
				}
				k -= f.stays[d]
			}
			return 0
		}
		n := f.StayExits
		f.MedianStayDays = ptrTo(float64(nth((n-1)/2)+nth(n/2)) / 2)
	}
	if n := len(f.clears); n > 0 {
		slices.Sort(f.clears)
		var sum time.Duration
		for _, d := range f.clears {
			sum += d
		}
		f.AlertsCleared = n
		f.AlertClearHoursAverage = ptrTo(round(sum.Hours()/float64(n), 2))
		f.AlertClearHoursMedian = ptrTo(round((f.clears[(n-1)/2]+f.clears[n/2]).Hours()/2, 2))
	}
}

func ptrTo[T any](v T) *T { return &v }

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

// StationReport is one station's row of a report.
type StationReport struct {
	Station string `json:"station" doc:"The station's code."`
	Name    string `json:"name" doc:"The station's name."`
	Region  string `json:"region" doc:"Code of its region."`
	ReportFigures
}

// RegionReport is one region's row of a report: its stations' figures
// counted together (a transfer between two of its stations is no exit of
// the region).
type RegionReport struct {
	Region string `json:"region" doc:"The region's code."`
	ReportFigures
}

// Report is the monthly or quarterly report of one station, one region or
// every station (docs/reports.md), as counted from the log that Basis and
// AsOf name: the figures of the whole selection at the top level, then
// one row per station and, unless one station was asked for, per region.
type Report struct {
	Period   string    `json:"period" doc:"The period: 2026-11 (a month) or 2026-Q4 (a quarter)."`
	Kind     string    `json:"kind" doc:"month or quarter."`
	FromDate string    `json:"from_date" doc:"Its first civil date (Beijing time)."`
	ToDate   string    `json:"to_date" doc:"Its last civil date (Beijing time)."`
	From     time.Time `json:"from" doc:"The first instant counted (+08:00)."`
	To       time.Time `json:"to" doc:"The instant the count stops before (+08:00): 00:00 after the last date."`
	Scope    string    `json:"scope" doc:"station, region or all."`
	Station  string    `json:"station,omitempty" doc:"The station selected, if one was."`
	Region   string    `json:"region,omitempty" doc:"The region selected, if one was."`
	Basis    string    `json:"basis" doc:"live: the log as it stands now; occurred: what had happened by as_of, recorded since included; known: only what had been recorded by as_of (the report as it stood then)."`
	AsOf     time.Time `json:"as_of" doc:"The moment the report was counted at: now for live, else the as_of asked for."`
	Complete bool      `json:"complete" doc:"Whether the period had ended by as_of; an incomplete report counts up to as_of."`
	ReportFigures
	Stations []StationReport `json:"stations" doc:"The figures of each selected station."`
	Regions  []RegionReport  `json:"regions" doc:"The figures of each region, when the selection is a region or everywhere."`
}

// Report returns the report of the stations f selects over p, counted from
// the log asOf selects (AsOf: live, by occurred time, or by what had been
// recorded), at asOf's moment (now when live). An unknown station or
// region is not_found; a period starting after that moment is invalid
// (field period). A Position in asOf is not supported (invalid).
func (r *Runner) Report(ctx context.Context, f Filter, p ReportPeriod, asOf AsOf) (Report, error) {
	if !asOf.Position.IsZero() {
		return Report{}, domain.Invalid("position", "a report is as of a time, not a position")
	}
	var out Report
	err := r.view(ctx, asOf, func(m *model, at time.Time) error {
		rep, err := m.report(f, p, at)
		out = rep
		return err
	})
	if err != nil {
		return Report{}, err
	}
	switch {
	case asOf.IsLive():
		out.Basis = BasisLive
	case asOf.Known:
		out.Basis = BasisKnown
	default:
		out.Basis = BasisOccurred
	}
	return out, nil
}

// report counts the report of f over p on m at the moment at.
func (m *model) report(f Filter, p ReportPeriod, at time.Time) (Report, error) {
	if err := m.checkFilter(f); err != nil {
		return Report{}, err
	}
	at = at.In(domain.CivilZone)
	if !p.From.Before(at) {
		return Report{}, domain.Invalid("period", "period %s has not begun at %s", p.Name, at.Format(time.RFC3339))
	}
	rep := Report{Period: p.Name, Kind: p.Kind, From: p.From, To: p.To,
		FromDate: p.From.Format(time.DateOnly), ToDate: p.To.AddDate(0, 0, -1).Format(time.DateOnly),
		Station: f.Station, Region: f.Region, AsOf: at, Complete: !at.Before(p.To), ReportFigures: newFigures()}
	switch {
	case f.Station != "":
		rep.Scope = "station"
	case f.Region != "":
		rep.Scope = "region"
	default:
		rep.Scope = "all"
	}
	from, end := p.From, p.To
	// stop is where the counting stops: the period's end, or the moment
	// of the report when that comes first.
	stop := end
	if at.Before(stop) {
		stop = at.Add(time.Nanosecond)
	}
	in := func(t time.Time) bool { return !t.Before(from) && t.Before(stop) }

	stations := map[string]*StationReport{}
	regions := map[string]*RegionReport{}
	rows := func(code string) [3]*ReportFigures {
		st := stations[code]
		if st == nil {
			name := ""
			if e := m.stations[code]; e != nil {
				name = e.st.Name
			}
			st = &StationReport{Station: code, Name: name, Region: m.region(code), ReportFigures: newFigures()}
			stations[code] = st
		}
		out := [3]*ReportFigures{&rep.ReportFigures, &st.ReportFigures}
		if f.Station == "" {
			rg := regions[st.Region]
			if rg == nil {
				rg = &RegionReport{Region: st.Region, ReportFigures: newFigures()}
				regions[st.Region] = rg
			}
			out[2] = &rg.ReportFigures
		}
		return out
	}
	add := func(code string, fn func(*ReportFigures)) {
		for _, b := range rows(code) {
			if b != nil {
				fn(b)
			}
		}
	}
	// The census moments: the midnight that ends each date of the period,
	// those that have passed by at.
	first := p.From.Add(Day).UnixNano()
	nights := moments(first, min(end.UnixNano(), at.UnixNano())+1, MaxStatsDays+1)
	for code, st := range m.stations {
		if !st.st.Registered() || !m.selects(f, code) {
			continue
		}
		beds := st.bedsAt(min(end.UnixNano(), at.UnixNano()))
		avail := 0
		for i := range nights {
			avail += st.bedsAt(first + int64(i)*int64(Day))
		}
		add(code, func(b *ReportFigures) {
			b.Beds += beds
			b.BedNightsAvailable += avail
		})
	}

	for _, ce := range m.order {
		c := &ce.c
		if !ce.opened() {
			continue
		}
		arrived := ce.stays[0].Station
		if in(c.OpenedAt) && m.selects(f, arrived) && !refusal(c.ExitType) {
			age, known := c.Person.AgeOn(c.OpenedAt.In(domain.CivilZone))
			minor, elderly := known && age < domain.AdultAge, known && age >= domain.ElderlyAge
			disabled := c.Disabled() || c.Inspection.PhysicalDisability
			repeat := m.earlierCase(ce)
			add(arrived, func(b *ReportFigures) {
				b.Assisted++
				b.AssistedMinors += b2i(minor)
				b.AssistedElderly += b2i(elderly)
				b.AssistedDisabled += b2i(disabled)
				b.RepeatVisitors += b2i(repeat)
			})
		}
		exited := !c.ExitedAt.IsZero() && !c.ExitedAt.After(at)
		if exited && in(c.ExitedAt) && m.selects(f, c.Station) {
			if refusal(c.ExitType) {
				add(c.Station, func(b *ReportFigures) { b.Refused++ })
			} else {
				typ := string(c.ExitType)
				days := int(dayStart(c.ExitedAt).Sub(dayStart(c.OpenedAt)) / Day)
				add(c.Station, func(b *ReportFigures) {
					b.Exits++
					b.ExitsByType[typ]++
					b.StayExits++
					b.stays[days]++
				})
			}
		}
		// Transfers out: a handover in the period from a station of the
		// row to one outside it.
		for i := 1; i < len(ce.stays); i++ {
			h := ce.stays[i]
			if !in(h.From) {
				continue
			}
			fromSt := ce.stays[i-1].Station
			if !m.selects(f, fromSt) {
				continue
			}
			toSelected := m.selects(f, h.Station)
			toRegion := m.region(h.Station)
			for j, b := range rows(fromSt) {
				// Row 0 is the selection, 1 the station, 2 its region.
				leaves := b != nil && (j == 1 || j == 0 && !toSelected || j == 2 && toRegion != m.region(fromSt))
				if leaves {
					b.Exits++
					b.ExitsByType[ExitTransferred]++
				}
			}
		}
		// On the books at the period's end (or now).
		last := stop.Add(-time.Nanosecond)
		if !c.OpenedAt.After(last) && (c.ExitedAt.IsZero() || c.ExitedAt.After(last)) {
			if code := ce.stationAt(last); code != "" && m.selects(f, code) {
				add(code, func(b *ReportFigures) { b.InStationAtEnd++ })
			}
		}
		// Bed nights, as in Stats.
		exit := int64(math.MaxInt64)
		if !c.ExitedAt.IsZero() {
			exit = c.ExitedAt.UnixNano()
		}
		for _, h := range ce.holds {
			if !m.selects(f, h.station) {
				continue
			}
			present(span{h.from, min(h.end(), exit)}, ce.away, func(sp span) {
				i, j := moments(first, sp.from, nights), moments(first, sp.to, nights)
				if i < j {
					add(h.station, func(b *ReportFigures) { b.BedNights += j - i })
				}
			})
		}
		// Alerts raised in the period.
		for _, a := range ce.reportAlerts() {
			if !in(a.raised) {
				continue
			}
			code := a.station
			if code == "" {
				code = ce.stationAt(a.raised)
			}
			if code == "" || !m.selects(f, code) {
				continue
			}
			cleared := !a.cleared.IsZero() && !a.cleared.After(at)
			add(code, func(b *ReportFigures) {
				b.AlertsRaised++
				b.AlertsByRule[a.rule]++
				if cleared {
					b.clears = append(b.clears, a.cleared.Sub(a.raised))
				}
			})
		}
	}

	rep.finish()
	rep.Stations = make([]StationReport, 0, len(stations))
	for _, st := range stations {
		st.finish()
		rep.Stations = append(rep.Stations, *st)
	}
	slices.SortFunc(rep.Stations, func(a, b StationReport) int { return strings.Compare(a.Station, b.Station) })
	rep.Regions = make([]RegionReport, 0, len(regions))
	for _, rg := range regions {
		rg.finish()
		rep.Regions = append(rep.Regions, *rg)
	}
	slices.SortFunc(rep.Regions, func(a, b RegionReport) int { return strings.Compare(a.Region, b.Region) })
	return rep, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// earlierCase reports whether a case of the same person (by the person
// index's keys) began before ce.
func (m *model) earlierCase(ce *caseEntry) bool {
	for _, k := range ce.keys {
		for _, p := range m.persons[k] {
			if p.seq < ce.seq && p.opened() && p.c.OpenedAt.Before(ce.c.OpenedAt) {
				return true
			}
		}
	}
	return false
}

// stationAt returns the station the case belonged to at t, or "".
func (ce *caseEntry) stationAt(t time.Time) string {
	code := ""
	for _, s := range ce.stays {
		if s.From.After(t) {
			break
		}
		code = s.Station
	}
	return code
}

// setCapacity records the station's bed count over zones from the moment
// from (Unix nanoseconds) on.
func (s *stationEntry) setCapacity(from int64, zones []domain.ZoneBeds) {
	beds := 0
	for _, z := range zones {
		beds += z.Beds + z.Seasonal
	}
	i, found := slices.BinarySearchFunc(s.capacity, from, func(c capacityChange, t int64) int { return cmp.Compare(c.from, t) })
	if found {
		s.capacity[i].beds = beds
		return
	}
	s.capacity = slices.Insert(s.capacity, i, capacityChange{from: from, beds: beds})
}

// bedsAt returns the station's bed count at t (Unix nanoseconds).
func (s *stationEntry) bedsAt(t int64) int {
	beds := 0
	for _, c := range s.capacity {
		if c.from > t {
			break
		}
		beds = c.beds
	}
	return beds
}

// reportAlert is one alert of a case with the moments it was raised and
// cleared (zero while it holds); station is the station it belongs to when
// not the case's station at the raising.
type reportAlert struct {
	rule            string
	raised, cleared time.Time
	station         string
}

// reportAlerts returns the alerts of ReportAlertRules that the case has
// raised, from its fold: a deadline is raised at its due moment when what
// clears it came strictly later or not yet, and cleared by the first of
// the steps that clear it on the safety board.
func (ce *caseEntry) reportAlerts() []reportAlert {
	c := &ce.c
	var out []reportAlert
	// first returns the earliest non-zero time of ts, or zero.
	first := func(ts ...time.Time) time.Time {
		var f time.Time
		for _, t := range ts {
			if !t.IsZero() && (f.IsZero() || t.Before(f)) {
				f = t
			}
		}
		return f
	}
	deadline := func(rule string, due, clear time.Time, station string) {
		if clear.IsZero() || clear.After(due) {
			out = append(out, reportAlert{rule: rule, raised: due, cleared: clear, station: station})
		}
	}
	verified := time.Time{}
	if c.Identity.Verified {
		verified = c.Identity.VerifiedAt
	}
	deadline(RuleNoFamilySearchNotice, c.OpenedAt.Add(NoticeDue), first(c.Identity.NoticeAt, verified, c.ExitedAt), "")
	deadline(RuleDNANotRequested, c.OpenedAt.Add(DNARequestDue), first(c.Identity.DNARequestedAt, verified, c.ExitedAt), "")
	due := c.OpenedAt.Add(GuardianshipDue)
	if age, ok := c.AgeOn(due.In(domain.CivilZone)); ok && age < domain.AdultAge {
		var since time.Time
		if c.Guardianship != nil {
			since = c.Guardianship.Since
		}
		deadline(RuleUnaccompaniedMinor, due, first(since, c.ExitedAt), "")
	}
	for _, t := range ce.transfers {
		deadline(RuleTransferUnanswered, t.RequestedAt.Add(TransferAnswerDue), first(t.AcceptedAt, t.EndedAt, c.ExitedAt), t.From)
		if !t.DepartedAt.IsZero() {
			deadline(RuleHandoverOverdue, t.DepartedAt.Add(HandoverDue), first(t.EndedAt, c.ExitedAt), t.From)
		}
	}
	if c.ExitType == domain.ExitAbsconding && !c.ExitedAt.IsZero() {
		out = append(out, reportAlert{rule: RuleAbsconded, raised: c.ExitedAt, cleared: c.ClosedAt})
	}
	return out
}
