package exchange_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/exchange"
)

var t0 = time.Date(2026, 11, 3, 9, 0, 0, 0, domain.CivilZone)

// log writes valid domain events straight into a store.
type log struct {
	tb    testing.TB
	store *bolt.Store
	seq   int
}

func newLog(tb testing.TB) *log {
	s, err := bolt.Open(tb.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return &log{tb: tb, store: s}
}

func (l *log) write(stream string, at time.Time, ev domain.Event) {
	l.tb.Helper()
	l.seq++
	id := uuid.MustParse(fmt.Sprintf("01950000-0000-7000-8000-%012d", l.seq))
	data, err := domain.Encode(id, ev, domain.Metadata{OccurredAt: at, RecordedAt: at, Actor: "tok", Role: domain.RoleStaff,
		Station: "S01", LegalBasis: domain.BasisStatutoryDuty})
	if err != nil {
		l.tb.Fatal(err)
	}
	if _, err := l.store.Append(context.Background(), stream, eventstore.Any, data); err != nil {
		l.tb.Fatal(err)
	}
}

func (l *log) intake(station string, at time.Time, p domain.Person) uuid.UUID {
	l.seq++
	id := uuid.MustParse(fmt.Sprintf("01960000-0000-7000-8000-%012d", l.seq))
	l.write(domain.CaseStream(id), at, domain.IntakeRegistered{CaseID: id, Station: station,
		Referral: domain.Referral{Source: domain.SourceWalkIn}, Person: p})
	return id
}

var zones = []domain.ZoneBeds{{Zone: domain.ZoneAdultMale, Beds: 4}, {Zone: domain.ZoneAdultFemale, Beds: 2}}

// demo is the given of the tests: two stations of R1, one of R2, three
// cases in November (one exited, one transferred), one in October.
func demo(tb testing.TB) *log {
	l := newLog(tb)
	for _, s := range []struct{ code, region string }{{"S01", "R1"}, {"S02", "R1"}, {"S03", "R2"}} {
		l.write(domain.StationStream(s.code), t0.AddDate(0, -2, 0), domain.StationRegistered{Code: s.code, Name: "站" + s.code,
			Region: s.region, Kind: domain.KindStation, Zones: zones})
	}
	zhang := domain.Person{Name: "张三", Sex: domain.Male, BirthDate: domain.Date{Year: 1970, Month: 1, Day: 2}, HukouPlace: "河南省周口市"}
	a := l.intake("S01", t0, zhang)
	l.write(domain.StationStream("S01"), t0.Add(time.Hour), domain.BedAssigned{CaseID: a, Zone: domain.ZoneAdultMale, Bed: "adult_male-1"})
	l.write(domain.CaseStream(a), t0.Add(48*time.Hour), domain.EscortedReturn{Destination: "河南省周口市", Escorts: []string{"王五"}})
	l.write(domain.StationStream("S01"), t0.Add(48*time.Hour), domain.BedReleased{CaseID: a, Zone: domain.ZoneAdultMale, Bed: "adult_male-1", Reason: domain.ReleaseExit})
	b := l.intake("S01", t0.Add(24*time.Hour), domain.Person{Name: "李四", Sex: domain.Female, EstimatedAge: new(40)})
	l.write(domain.CaseStream(b), t0.Add(30*time.Hour), domain.TransferRequested{From: "S01", To: "S03", Reason: "近家"})
	l.write(domain.CaseStream(b), t0.Add(31*time.Hour), domain.TransferAccepted{From: "S01", To: "S03"})
	l.write(domain.CaseStream(b), t0.Add(50*time.Hour), domain.HandedOver{From: "S01", To: "S03", ReceivedBy: "赵六"})
	l.intake("S02", t0.Add(72*time.Hour), zhang)
	old := l.intake("S01", t0.AddDate(0, -1, -10), zhang)
	l.write(domain.CaseStream(old), t0.AddDate(0, -1, -8), domain.LeftVoluntarily{DeclarationRef: "D1"})
	return l
}

func export(tb testing.TB, l *log, opts exchange.Options) ([]byte, exchange.Manifest) {
	tb.Helper()
	if opts.From.IsZero() {
		opts.From, opts.To = domain.Date{Year: 2026, Month: 11, Day: 1}, domain.Date{Year: 2026, Month: 11, Day: 30}
	}
	opts.Now = func() time.Time { return time.Date(2026, 12, 2, 10, 0, 0, 0, domain.CivilZone) }
	var buf bytes.Buffer
	man, err := exchange.Export(context.Background(), l.store, opts, &buf)
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes(), man
}

// files reads every CSV of a ZIP.
func files(tb testing.TB, z []byte) map[string][][]string {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][][]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		rows, err := csv.NewReader(rc).ReadAll()
		rc.Close()
		if err != nil {
			tb.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = rows
	}
	return out
}

func column(rows [][]string, name string) []string {
	i := -1
	for j, h := range rows[0] {
		if h == name {
			i = j
		}
	}
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[i])
	}
	return out
}

func TestAnExportPassesItsCheck(t *testing.T) {
	z, man := export(t, demo(t), exchange.Options{})
	got, problems := exchange.Check(bytes.NewReader(z), int64(len(z)))
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	if got["format_version"] != "v1" || got["period_from"] != "2026-11-01" || got["scope"] != "all" || got["personal"] != "false" {
		t.Errorf("manifest %v", got)
	}
	if len(man.Cases) != 3 {
		t.Errorf("%d cases, want the 3 of November", len(man.Cases))
	}
	fs := files(t, z)
	for _, f := range append(exchange.DataFiles, exchange.ManifestFile) {
		if fs[f.Name] == nil {
			t.Errorf("no %s", f.Name)
		}
	}
	if got := column(fs["Case.csv"], "name"); strings.Join(got, "") != "" {
		t.Errorf("names without --personal: %q", got)
	}
	for _, d := range column(fs["Step.csv"], "data") {
		if strings.Contains(d, "张三") || strings.Contains(d, "周口") {
			t.Errorf("personal value in a step without --personal: %s", d)
		}
	}
	if got := column(fs["Transfer.csv"], "state"); strings.Join(got, ",") != "handed_over" {
		t.Errorf("transfers %q", got)
	}
	if got := column(fs["Exit.csv"], "exit_type"); strings.Join(got, ",") != "escorted_return" {
		t.Errorf("exits %q", got)
	}
	if got := column(fs["Exit.csv"], "stay_days"); strings.Join(got, ",") != "2" {
		t.Errorf("stay days %q", got)
	}
	if n := len(fs["Inventory.csv"]) - 1; n != 6 {
		t.Errorf("%d inventory rows, want 2 zones of 3 stations", n)
	}
}

func TestAPersonalExportHoldsPersonalValues(t *testing.T) {
	z, _ := export(t, demo(t), exchange.Options{Personal: true, Region: "R1"})
	if _, problems := exchange.Check(bytes.NewReader(z), int64(len(z))); len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	fs := files(t, z)
	if got := column(fs["Case.csv"], "name"); strings.Join(got, ",") != "张三,李四,张三" {
		t.Errorf("names %q", got)
	}
	if got := column(fs["Case.csv"], "exit_destination"); got[0] != "河南省周口市" {
		t.Errorf("destination %q", got)
	}
	if got := column(fs["Station.csv"], "station"); strings.Join(got, ",") != "S01,S02" {
		t.Errorf("stations of R1 %q", got)
	}
}

func TestCheckNamesTheFileLineAndColumn(t *testing.T) {
	z, _ := export(t, demo(t), exchange.Options{})
	broken := rewrite(t, z, "Case.csv", func(s string) string {
		return strings.Replace(s, ",male,", ",man,", 1)
	})
	_, problems := exchange.Check(bytes.NewReader(broken), int64(len(broken)))
	want := []string{
		`Case.csv:2: column sex: "man" is not one of male, female`,
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	all := strings.Join(got, "\n")
	if !strings.Contains(all, want[0]) || !strings.Contains(all, "Case.csv: SHA-256") ||
		!strings.Contains(all, "Step.csv:5: column case_id: case 01960000-0000-7000-8000-000000000004 is not in Case.csv") {
		t.Fatalf("problems:\n%s\nwant %s and a hash mismatch", strings.Join(got, "\n"), want[0])
	}
}

// rewrite returns the ZIP z with file name changed by fn.
func rewrite(tb testing.TB, z []byte, name string, fn func(string) string) []byte {
	tb.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name == name {
			b = []byte(fn(string(b)))
		}
		w, _ := zw.Create(f.Name)
		w.Write(b)
	}
	zw.Close()
	return out.Bytes()
}

func FuzzDecodeFile(f *testing.F) {
	f.Add([]byte("case_id,from_station,to_station,state,requested_at,accepted_at,departed_at,ended_at\n" +
		"01960000-0000-7000-8000-000000000001,S01,S02,requested,2026-11-03T09:00:00+08:00,,,\n"))
	f.Add([]byte("case_id,from_station\n\"unterminated"))
	f.Add([]byte("\ufeffcase_id,from_station,to_station,state,requested_at,accepted_at,departed_at,ended_at\na,b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows := 0
		problems := exchange.DecodeFile(exchange.TransferFile, bytes.NewReader(data), func(r exchange.Row) {
			rows++
			for _, c := range exchange.TransferFile.Columns {
				if c.Required && r.Values[c.Name] == "" {
					t.Fatalf("row %d passed with %s empty", r.Line, c.Name)
				}
			}
		})
		if len(problems) > exchange.MaxProblems {
			t.Fatalf("%d problems", len(problems))
		}
		for _, p := range problems {
			if p.File != exchange.TransferFile.Name || p.Line < 1 {
				t.Fatalf("problem %+v", p)
			}
		}
	})
}
