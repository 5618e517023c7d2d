package exchange_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/exchange"
)

// generated writes a log of about n valid events straight into a store:
// stations S01..S10 and cases of seven events each (intake, eligibility,
// security check, bed, family-search notice, voluntary leave, the bed's
// release), spread over November 2026.
func generated(tb testing.TB, n int) (st interface {
	eventstore.Store
}, events int) {
	s := openStore(tb)
	ctx := context.Background()
	var seq atomic.Uint64
	enc := func(at time.Time, role domain.Role, ev domain.Event) eventstore.EventData {
		id := uuid.MustParse(fmt.Sprintf("01960000-0000-7000-8000-%012d", seq.Add(1)))
		d, err := domain.Encode(id, ev, domain.Metadata{OccurredAt: at, RecordedAt: at, Actor: "gen", Role: role, LegalBasis: domain.BasisStatutoryDuty})
		if err != nil {
			tb.Fatal(err)
		}
		return d
	}
	start := time.Date(2026, 11, 1, 8, 0, 0, 0, domain.CivilZone)
	for i := range 10 {
		code := fmt.Sprintf("S%02d", i+1)
		if _, err := s.Append(ctx, domain.StationStream(code), eventstore.NoStream, enc(start.Add(-time.Hour), domain.RoleAdmin,
			domain.StationRegistered{Code: code, Name: code, Region: "R1", Kind: domain.KindStation,
				Zones: []domain.ZoneBeds{{Zone: domain.ZoneAdultMale, Beds: 10000}}})); err != nil {
			tb.Fatal(err)
		}
		events++
	}
	numbered := map[string]int{}
	for c := 0; events < n; c++ {
		code := fmt.Sprintf("S%02d", c%10+1)
		at := start.Add(time.Duration(c) * 10 * time.Second)
		id := uuid.MustParse(fmt.Sprintf("01970000-0000-7000-8000-%012d", c))
		bed := domain.BedName(domain.ZoneAdultMale, c/10%10000+1)
		caseEvents := []eventstore.EventData{
			enc(at, domain.RoleStaff, domain.IntakeRegistered{CaseID: id, Station: code, Referral: domain.Referral{Source: domain.SourceWalkIn},
				Person: domain.Person{Name: "某人" + strconv.Itoa(c), Sex: domain.Male, EstimatedAge: new(30 + c%40), AgeEstimatedOn: domain.CivilDate(at)}}),
			enc(at.Add(time.Minute), domain.RoleStaff, domain.EligibilityDecided{Eligible: true}),
			enc(at.Add(2*time.Minute), domain.RoleStaff, domain.SecurityChecked{CheckedBy: domain.Checker{StaffID: "m", Sex: domain.Male}}),
		}
		if _, err := s.Append(ctx, domain.CaseStream(id), eventstore.NoStream, caseEvents...); err != nil {
			tb.Fatal(err)
		}
		if _, err := s.Append(ctx, domain.StationStream(code), eventstore.Any, enc(at.Add(3*time.Minute), domain.RoleStaff,
			domain.BedAssigned{CaseID: id, Zone: domain.ZoneAdultMale, Bed: bed})); err != nil {
			tb.Fatal(err)
		}
		more := []eventstore.EventData{
			enc(at.Add(4*time.Minute), domain.RoleStaff, domain.FamilySearchNoticePublished{Channel: "web"}),
			enc(at.Add(time.Hour), domain.RoleStaff, domain.LeftVoluntarily{DeclarationRef: "D" + strconv.Itoa(c)}),
		}
		if _, err := s.Append(ctx, domain.CaseStream(id), eventstore.Exact(2), more...); err != nil {
			tb.Fatal(err)
		}
		if _, err := s.Append(ctx, domain.StationStream(code), eventstore.Any, enc(at.Add(time.Hour), domain.RoleStaff,
			domain.BedReleased{CaseID: id, Zone: domain.ZoneAdultMale, Bed: bed, Reason: domain.ReleaseExit, Cause: more[1].ID})); err != nil {
			tb.Fatal(err)
		}
		numbered[code]++
		if _, err := s.Append(ctx, domain.CaseNumbersStream(code, 2026), eventstore.Any, enc(at, domain.RoleStaff,
			domain.CaseNumbered{CaseID: id, Station: code, Year: 2026, Number: numbered[code]})); err != nil {
			tb.Fatal(err)
		}
		events += 8
	}
	return s, events
}

// peakHeap samples the heap in use every few milliseconds until stop is
// closed, and returns its largest value.
func peakHeap(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		var peak uint64
		var m runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-stop:
				out <- peak
				return
			case <-t.C:
			}
		}
	}()
	return out
}

// TestExchangeSpeed measures export and import of a generated log of
// WAYSTATION_EXCHANGE_EVENTS events (skipped when unset).
func TestExchangeSpeed(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("WAYSTATION_EXCHANGE_EVENTS"))
	if n == 0 {
		t.Skip("set WAYSTATION_EXCHANGE_EVENTS to measure")
	}
	src, events := generated(t, n)
	runtime.GC()
	stop := make(chan struct{})
	peak := peakHeap(stop)
	began := time.Now()
	var buf bytes.Buffer
	man, err := exchange.Export(context.Background(), src, exchange.Options{From: domain.Date{Year: 2026, Month: 10, Day: 1},
		To: domain.Date{Year: 2026, Month: 12, Day: 31}, Personal: true}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(began)
	close(stop)
	t.Logf("export: %d events (%d rows in Step.csv, %d cases) in %s: %.0f events/s; %d bytes; peak heap %d MiB",
		events, man.Events, len(man.Cases), took.Round(time.Millisecond), float64(events)/took.Seconds(), buf.Len(), <-peak>>20)

	dst := openStore(t)
	runtime.GC()
	stop = make(chan struct{})
	peak = peakHeap(stop)
	began = time.Now()
	z := buf.Bytes()
	rep, err := exchange.Import(context.Background(), domain.NewService(dst, nil), dst, bytes.NewReader(z), int64(len(z)), exchange.ImportOptions{})
	if err != nil {
		t.Fatalf("import: %v %v", err, rep.Problems)
	}
	took = time.Since(began)
	close(stop)
	if rep.CasesRefused > 0 {
		t.Fatalf("%d cases refused: %v", rep.CasesRefused, rep.Problems[:min(3, len(rep.Problems))])
	}
	t.Logf("import: %d rows (%d written, %d left to the domain), %d cases in %s: %.0f events/s; peak heap %d MiB (the archive itself %d MiB)",
		rep.Steps, rep.Written, rep.Derived, rep.Cases, took.Round(time.Millisecond), float64(rep.Steps)/took.Seconds(), <-peak>>20, len(z)>>20)
}

// BenchmarkExport measures the export of a generated log of 70k events.
func BenchmarkExport(b *testing.B) {
	src, events := generated(b, 70000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := exchange.Export(context.Background(), src, exchange.Options{From: domain.Date{Year: 2026, Month: 10, Day: 1},
			To: domain.Date{Year: 2026, Month: 12, Day: 31}, Personal: true}, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(events)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
