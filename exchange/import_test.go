package exchange_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/exchange"
	"waystation/projections"
)

func openStore(tb testing.TB) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(tb.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// clock is a clock the test moves.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// service builds a store through the domain's service: stations S01 and
// S02 of R1; in November a man who leaves voluntarily, a woman moved to
// S02, a boy picked up, a correction of a birth date, belongings deposited
// and returned, and a case still open.
func service(t *testing.T) (*bolt.Store, *clock) {
	t.Helper()
	st := openStore(t)
	clk := &clock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, domain.CivilZone)}
	svc := domain.NewService(st, clk.now)
	ctx := context.Background()
	admin := domain.Actor{ID: "admin", Role: domain.RoleAdmin}
	staff := domain.Actor{ID: "tok-s1", Role: domain.RoleStaff, Station: "S01"}
	staff2 := domain.Actor{ID: "tok-s2", Role: domain.RoleStaff, Station: "S02"}
	must := func(_ domain.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, code := range []string{"S01", "S02"} {
		must(svc.RegisterStation(ctx, admin, &domain.RegisterStation{Code: code, Name: "站" + code, Region: "R1",
			Kind: domain.KindStation, Zones: []domain.ZoneBeds{{Zone: domain.ZoneAdultMale, Beds: 4},
				{Zone: domain.ZoneAdultFemale, Beds: 2}, {Zone: domain.ZoneMinors, Beds: 2}}}, domain.Options{}))
	}
	at := func(day, hh int) domain.Common {
		t := time.Date(2026, 11, day, hh, 0, 0, 0, domain.CivilZone)
		return domain.Common{OccurredAt: &t}
	}
	intake := func(p domain.Person, day int) uuid.UUID {
		t.Helper()
		r, err := svc.Intake(ctx, staff, &domain.Intake{Common: at(day, 9), Station: "S01",
			Referral: domain.Referral{Source: domain.SourceWalkIn}, Person: p}, domain.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return uuid.MustParse(r.ID)
	}
	step := func(a domain.Actor, id uuid.UUID, cmd domain.Command) {
		t.Helper()
		must(svc.Execute(ctx, a, id, cmd, domain.Options{}))
	}
	yes := true
	man := intake(domain.Person{Name: "张三", Sex: domain.Male, BirthDate: domain.Date{Year: 1980, Month: 5, Day: 6}, HukouPlace: "河南"}, 2)
	step(staff, man, &domain.EligibilityCmd{Common: at(2, 10), Eligible: &yes})
	step(staff, man, &domain.SecurityCheckCmd{Common: at(2, 10), CheckedBy: domain.Checker{StaffID: "m1", Sex: domain.Male}})
	step(staff, man, &domain.AssignBed{Common: at(2, 11), Zone: domain.ZoneAdultMale})
	step(staff, man, &domain.Belongings{Common: at(2, 11), Deposited: []domain.Item{{Item: "phone", Qty: 1}}})
	step(staff, man, &domain.Belongings{Common: at(5, 8), Returned: []string{"phone"}})
	step(staff, man, &domain.VoluntaryLeave{Common: at(5, 9), DeclarationRef: "D-1"})
	woman := intake(domain.Person{Name: "李四", Sex: domain.Female, EstimatedAge: new(40)}, 3)
	step(staff, woman, &domain.EligibilityCmd{Common: at(3, 10), Eligible: &yes})
	step(staff, woman, &domain.SecurityCheckCmd{Common: at(3, 10), CheckedBy: domain.Checker{StaffID: "f1", Sex: domain.Female}})
	step(staff, woman, &domain.AssignBed{Common: at(3, 11), Zone: domain.ZoneAdultFemale})
	step(staff, woman, &domain.TransferRequest{Common: at(4, 9), ToStation: "S02", Reason: "近家"})
	step(staff2, woman, &domain.TransferAccept{Common: at(4, 12)})
	step(staff, woman, &domain.EscortDeparture{Common: at(5, 9), Escorts: []string{"王五"}})
	step(staff2, woman, &domain.HandoverCmd{Common: at(5, 15), ReceivedBy: "赵六"})
	boy := intake(domain.Person{Name: "小明", Sex: domain.Male, BirthDate: domain.Date{Year: 2016, Month: 1, Day: 1}}, 6)
	step(staff, boy, &domain.EligibilityCmd{Common: at(6, 10), AssistFirst: true})
	step(staff, boy, &domain.GuardianshipCmd{Common: at(6, 12), Basis: "未成年人保护法第九十二条"})
	step(staff, boy, &domain.Pickup{Common: at(8, 10), Collector: domain.Collector{Name: "王父", IDNumber: "11010519491231002X", Relationship: "father"}})
	// Corrected: the man's birth date.
	var intakeID uuid.UUID
	for rec, err := range st.ReadStream(ctx, domain.CaseStream(man), eventstore.ReadStreamOptions{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		intakeID = rec.ID
	}
	step(staff, man, &domain.Correct{Common: at(7, 9), EventID: intakeID, Field: "person.birth_date",
		Old: json.RawMessage(`"1980-05-06"`), New: json.RawMessage(`"1980-06-05"`), Reason: "身份证核对"})
	// Still open: in hospital and back, a bed again.
	old := intake(domain.Person{Name: "某人", Sex: domain.Male, EstimatedAge: new(70)}, 20)
	step(staff, old, &domain.EligibilityCmd{Common: at(20, 10), Eligible: &yes})
	step(staff, old, &domain.SecurityCheckCmd{Common: at(20, 10), CheckedBy: domain.Checker{StaffID: "m1", Sex: domain.Male}})
	step(staff, old, &domain.AssignBed{Common: at(20, 11), Zone: domain.ZoneAdultMale})
	step(staff, old, &domain.MedicalReferral{Common: at(21, 9), Hospital: "第一医院"})
	step(staff, old, &domain.HospitalAdmission{Common: at(21, 12), Hospital: "第一医院"})
	step(staff, old, &domain.HospitalDischarge{Common: at(24, 12)})
	step(staff, old, &domain.MedicalReturn{Common: at(24, 15)})
	step(staff, old, &domain.AssignBed{Common: at(24, 16), Zone: domain.ZoneAdultMale})
	// Died, the checklist completed later.
	d := intake(domain.Person{Name: "某甲", Sex: domain.Male, EstimatedAge: new(80)}, 22)
	step(staff, d, &domain.EligibilityCmd{Common: at(22, 10), Eligible: &yes})
	step(staff, d, &domain.DeathCmd{Common: at(25, 3), Place: "站内", DeathChecklist: domain.DeathChecklist{CertifiedBy: "第一医院", PoliceNotified: &yes}})
	step(staff, d, &domain.DeathCmd{Common: at(26, 9), DeathChecklist: domain.DeathChecklist{RelativesNotified: &yes, PublicNotice: "公告1", BodyDisposition: "火化"}})
	step(staff, d, &domain.Closure{Common: at(27, 9)})
	return st, clk
}

func exportAll(t *testing.T, st eventstore.Store) []byte {
	t.Helper()
	var buf bytes.Buffer
	_, err := exchange.Export(context.Background(), st, exchange.Options{From: domain.Date{Year: 2026, Month: 11, Day: 1},
		To: domain.Date{Year: 2026, Month: 11, Day: 30}, Personal: true,
		Now: func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, domain.CivilZone) }}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func entries(t *testing.T, z []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(b)
	}
	return out
}

func importInto(t *testing.T, st eventstore.Store, z []byte, dry bool) exchange.ImportReport {
	t.Helper()
	now := func() time.Time { return time.Date(2026, 12, 9, 9, 0, 0, 0, domain.CivilZone) }
	rep, err := exchange.Import(context.Background(), domain.NewService(st, now), st, bytes.NewReader(z), int64(len(z)),
		exchange.ImportOptions{DryRun: dry, Now: now})
	if err != nil {
		t.Fatalf("import: %v (problems %v)", err, rep.Problems)
	}
	return rep
}

func monthReport(t *testing.T, st *bolt.Store) string {
	t.Helper()
	r := projections.NewRunner(st, st, projections.Options{Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return time.Date(2026, 12, 10, 0, 0, 0, 0, domain.CivilZone) }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	head, _ := st.Head(context.Background())
	if err := r.WaitFor(context.Background(), head); err != nil {
		t.Fatal(err)
	}
	p, _ := projections.ParseReportPeriod("2026-11")
	rep, err := r.Report(context.Background(), projections.Filter{}, p, projections.AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(rep)
	return string(b)
}

// TestRoundTrip: export a store, import it into an empty one, export that
// again: every data file is the same, and so is the November report;
// importing again writes nothing.
func TestRoundTrip(t *testing.T) {
	src, _ := service(t)
	first := exportAll(t, src)
	dst := openStore(t)
	if rep := importInto(t, dst, first, true); rep.Cases != 5 || rep.CasesRefused != 0 || rep.Written != 0 {
		t.Fatalf("dry run %+v", rep)
	}
	if head, _ := dst.Head(context.Background()); !head.IsZero() {
		t.Fatalf("the dry run wrote up to %s", head)
	}
	rep := importInto(t, dst, first, false)
	if rep.Cases != 5 || rep.CasesRefused != 0 || rep.Written == 0 || len(rep.Problems) > 0 {
		t.Fatalf("import %+v", rep)
	}
	second := exportAll(t, dst)
	a, b := entries(t, first), entries(t, second)
	for _, f := range exchange.DataFiles {
		if a[f.Name] != b[f.Name] {
			t.Errorf("%s differs after the round trip:\n%s", f.Name, lineDiff(a[f.Name], b[f.Name]))
		}
	}
	if got, want := monthReport(t, dst), monthReport(t, src); got != want {
		t.Errorf("November report after the round trip\n got %s\nwant %s", got, want)
	}
	head, _ := dst.Head(context.Background())
	again := importInto(t, dst, first, false)
	if after, _ := dst.Head(context.Background()); again.Written != 0 || after != head {
		t.Errorf("importing again wrote %d events (head %s, was %s)", again.Written, after, head)
	}
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return "line " + strconv.Itoa(i+1) + ":\n- " + x + "\n+ " + y
		}
	}
	return ""
}

// withFile returns z with file name changed by fn, and the manifest's hash
// and row count of it made to agree.
func withFile(t *testing.T, z []byte, name string, fn func([][]string) [][]string) []byte {
	t.Helper()
	files := entries(t, z)
	rows, err := csv.NewReader(strings.NewReader(files[name])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows = fn(rows)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.WriteAll(rows)
	files[name] = buf.String()
	man, _ := csv.NewReader(strings.NewReader(files["Export.csv"])).ReadAll()
	names := strings.Split(man[1][12], ";")
	sums := strings.Split(man[1][13], ";")
	counts := strings.Split(man[1][14], ";")
	for i, n := range names {
		if n == name {
			s := sha256.Sum256(buf.Bytes())
			sums[i], counts[i] = hex.EncodeToString(s[:]), strconv.Itoa(len(rows)-1)
		}
	}
	man[1][13], man[1][14] = strings.Join(sums, ";"), strings.Join(counts, ";")
	buf = bytes.Buffer{}
	w = csv.NewWriter(&buf)
	w.WriteAll(man)
	files["Export.csv"] = buf.String()
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for n, body := range files {
		fw, _ := zw.Create(n)
		fw.Write([]byte(body))
	}
	zw.Close()
	return out.Bytes()
}

// TestABrokenRowRefusesItsCaseWhole: a step that breaks a rule (a boy of
// ten leaving voluntarily) is reported by file, line and column, and
// nothing of his case is written; the other cases are.
func TestABrokenRowRefusesItsCaseWhole(t *testing.T) {
	src, _ := service(t)
	z := withFile(t, exportAll(t, src), "Step.csv", func(rows [][]string) [][]string {
		for _, r := range rows {
			if r[4] == domain.TypePickedUp {
				r[4] = domain.TypeLeftVoluntarily
				r[11] = `{"declaration_ref":"D-9"}`
			}
		}
		return rows
	})
	dst := openStore(t)
	rep := importInto(t, dst, z, false)
	if rep.CasesRefused != 1 || rep.Cases != 4 || len(rep.Problems) != 1 {
		t.Fatalf("report %+v", rep)
	}
	p := rep.Problems[0]
	if p.File != "Step.csv" || p.Column != "data" || p.Line < 2 || !strings.Contains(p.Reason, "rule") {
		t.Errorf("problem %+v", p)
	}
	boy := rep.Refused[0]
	for rec, err := range dst.ReadAll(context.Background(), eventstore.ReadAllOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(rec.Metadata), boy) {
			t.Fatalf("an event of the refused case was written: %s %s", rec.Type, rec.Metadata)
		}
	}
	// A value the specification refuses refuses the whole file.
	bad := withFile(t, exportAll(t, src), "Case.csv", func(rows [][]string) [][]string {
		rows[1][5] = "robot"
		return rows
	})
	empty := openStore(t)
	rep, err := exchange.Import(context.Background(), domain.NewService(empty, nil), empty, bytes.NewReader(bad), int64(len(bad)), exchange.ImportOptions{})
	var named bool
	for _, p := range rep.Problems {
		named = named || p.String() == `Case.csv:2: column sex: "robot" is not one of male, female`
	}
	if domain.ErrorCode(err) != domain.CodeInvalid || !named {
		t.Errorf("got %v, %v; want invalid naming Case.csv:2 column sex", err, rep.Problems)
	}
	if head, _ := empty.Head(context.Background()); !head.IsZero() {
		t.Errorf("a refused export wrote up to %s", head)
	}
}

// TestRoundTripOfAGeneratedLog: a generated log of 7,000 events exported,
// imported and exported again gives the same files, but for the ID of the
// bed releases the domain writes itself (the generator names them its own
// way).
func TestRoundTripOfAGeneratedLog(t *testing.T) {
	src, _ := generated(t, 7000)
	var buf bytes.Buffer
	opts := exchange.Options{From: domain.Date{Year: 2026, Month: 10, Day: 1}, To: domain.Date{Year: 2026, Month: 12, Day: 31},
		Personal: true, Now: func() time.Time { return time.Date(2026, 12, 2, 0, 0, 0, 0, domain.CivilZone) }}
	if _, err := exchange.Export(context.Background(), src, opts, &buf); err != nil {
		t.Fatal(err)
	}
	first := buf.Bytes()
	dst := openStore(t)
	if rep := importInto(t, dst, first, false); rep.CasesRefused != 0 || rep.Cases != 874 {
		t.Fatalf("import %+v", rep)
	}
	var again bytes.Buffer
	if _, err := exchange.Export(context.Background(), dst, opts, &again); err != nil {
		t.Fatal(err)
	}
	a, b := entries(t, first), entries(t, again.Bytes())
	for _, f := range exchange.DataFiles {
		x, y := a[f.Name], b[f.Name]
		if f.Name == exchange.StepFile.Name {
			x, y = blankDerivedIDs(t, x), blankDerivedIDs(t, y)
		}
		if x != y {
			t.Errorf("%s differs:\n%s", f.Name, lineDiff(x, y))
		}
	}
}

func blankDerivedIDs(t *testing.T, s string) string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] {
		if r[4] == domain.TypeBedReleased {
			r[0] = ""
		}
	}
	var buf bytes.Buffer
	csv.NewWriter(&buf).WriteAll(rows)
	return buf.String()
}
