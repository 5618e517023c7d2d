package exchange

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"strconv"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// ImportActor is the actor an import records its events as; each event's
// metadata also names the source's record ID, recording time, role and
// station (domain.Imported).
var ImportActor = domain.Actor{ID: "import", Role: domain.RoleAdmin}

// Recorder records steps through the domain's rules; *domain.Service is
// one.
type Recorder interface {
	Intake(ctx context.Context, actor domain.Actor, cmd *domain.Intake, opts domain.Options) (domain.Result, error)
	Execute(ctx context.Context, actor domain.Actor, id uuid.UUID, cmd domain.Command, opts domain.Options) (domain.Result, error)
	RegisterStation(ctx context.Context, actor domain.Actor, cmd *domain.RegisterStation, opts domain.Options) (domain.Result, error)
	ChangeZones(ctx context.Context, actor domain.Actor, code string, cmd *domain.ChangeZones, opts domain.Options) (domain.Result, error)
}

var _ Recorder = (*domain.Service)(nil)

// ImportOptions tune an import.
type ImportOptions struct {
	// DryRun checks everything and writes nothing.
	DryRun bool
	// Now is the clock the domain's rules are decided at (time.Now when
	// nil).
	Now func() time.Time
}

// ImportReport says what an import did, or (a dry run) would do.
type ImportReport struct {
	ExportID     string    `json:"export_id" doc:"The export's ID, from its manifest."`
	DryRun       bool      `json:"dry_run" doc:"Whether nothing was written (a dry run)."`
	Stations     int       `json:"stations" doc:"Stations in the export."`
	Cases        int       `json:"cases" doc:"Cases imported (in a dry run: that would be)."`
	CasesRefused int       `json:"cases_refused" doc:"Cases refused whole: a row broke a rule or the specification."`
	Steps        int       `json:"steps" doc:"Rows of Step.csv of the stations and of the cases not refused."`
	Written      int       `json:"written" doc:"Of them, events written now (not written by an earlier import of the same source)."`
	Derived      int       `json:"derived" doc:"Of them, rows the domain writes itself (beds freed by exits, handovers, hospital stays)."`
	Problems     []Problem `json:"problems" doc:"Every row refused, by file, line, column and reason."`
	Refused      []string  `json:"refused_cases" doc:"The source's IDs of the cases refused."`
}

// stepOf maps a stored event type to the case step that records it.
var stepOf = map[string]domain.Step{
	domain.TypeIntakeRegistered: domain.StepIntake, domain.TypeEligibilityDecided: domain.StepEligibility,
	domain.TypeSecurityChecked: domain.StepSecurityCheck, domain.TypeBelongingsDeposited: domain.StepBelongings,
	domain.TypeBelongingsReturned: domain.StepBelongings, domain.TypeIdentityQueried: domain.StepIdentityQuery,
	domain.TypeIdentityVerified: domain.StepIdentityVerified, domain.TypeFamilySearchNoticePosted: domain.StepFamilySearchNotice,
	domain.TypeDNARequested: domain.StepDNARequest, domain.TypeDNAResultReceived: domain.StepDNAResult,
	domain.TypeRelativesContacted: domain.StepRelativesContacted, domain.TypeMedicalReferred: domain.StepMedicalReferral,
	domain.TypeHospitalAdmitted: domain.StepHospitalAdmission, domain.TypeHospitalDischarged: domain.StepHospitalDischarge,
	domain.TypeMedicalReturned: domain.StepMedicalReturn, domain.TypeStayExtended: domain.StepExtension,
	domain.TypeLongStayStarted: domain.StepLongStay, domain.TypeSettlementRecorded: domain.StepSettlement,
	domain.TypeGuardianshipTaken: domain.StepGuardianship, domain.TypePoliceReportFiled: domain.StepPoliceReport,
	domain.TypeTransferRequested: domain.StepTransferRequest, domain.TypeTransferAccepted: domain.StepTransferAccept,
	domain.TypeTransferDeclined: domain.StepTransferDecline, domain.TypeEscortDeparted: domain.StepEscortDeparture,
	domain.TypeHandedOver: domain.StepHandover, domain.TypeLeftVoluntarily: domain.StepVoluntaryLeave,
	domain.TypePickedUp: domain.StepPickup, domain.TypeEscortedReturn: domain.StepEscortedReturn,
	domain.TypeAbsconded: domain.StepAbsconding, domain.TypeTerminated: domain.StepTermination,
	domain.TypeDied: domain.StepDeath, domain.TypeDeathChecklistUpdated: domain.StepDeath,
	domain.TypeCaseClosed: domain.StepClosure, domain.TypeCorrected: domain.StepCorrection,
	domain.TypeBedAssigned: domain.StepBed, domain.TypeBedReleased: domain.StepBedRelease,
	domain.TypeStationRegistered: domain.StepRegisterStation, domain.TypeZonesChanged: domain.StepChangeZones,
}

// renames are the payload members whose command member is named
// otherwise, by event type.
var renames = map[string]map[string]string{
	domain.TypeBelongingsDeposited: {"items": "deposited"},
	domain.TypeBelongingsReturned:  {"items": "returned"},
	domain.TypeTransferRequested:   {"to": "to_station"},
}

// idFields are payload members that hold a case's or an event's ID, which
// an import gives anew: they are mapped, not compared.
var idFields = []string{"case_id", "mother_case_id", "event_id", "cause"}

// importKey is the idempotency key of the import of a source record.
func importKey(source string) string { return "import:" + source }

// newEventID is the ID the import gives the first event of source record.
func newEventID(source string) uuid.UUID {
	return domain.KeyedEventID(ImportActor.ID, importKey(source), 0)
}

// newCaseID is the ID the import gives the case that source intake opens.
func newCaseID(sourceIntake string) uuid.UUID {
	return domain.KeyedCaseID(ImportActor.ID, importKey(sourceIntake))
}

// step is one Step.csv row made ready for the domain.
type step struct {
	row      Row
	typ      string
	source   string    // the record ID
	caseID   string    // the source case, "" for a station's own event
	station  string    // the station of a station stream
	occurred time.Time // when it happened
	data     map[string]any
}

func parseStep(row Row) (step, *Problem) {
	v := row.Values
	s := step{row: row, typ: v["type"], source: v["record_id"], caseID: v["case_id"]}
	bad := func(col, format string, args ...any) (step, *Problem) {
		return s, &Problem{File: StepFile.Name, Line: row.Line, Column: col, Reason: fmt.Sprintf(format, args...)}
	}
	if _, ok := stepOf[s.typ]; !ok {
		return bad("type", "%q is not an event type an import records", s.typ)
	}
	t, err := time.Parse(time.RFC3339Nano, v["occurred_at"])
	if err != nil {
		return bad("occurred_at", "not a time")
	}
	s.occurred = t
	if err := json.Unmarshal([]byte(v["data"]), &s.data); err != nil {
		return bad("data", "not a JSON object")
	}
	if code, ok := domain.StationCodeOf(v["stream"]); ok {
		s.station = code
	} else if id, ok := domain.CaseIDOf(v["stream"]); !ok || id.String() != s.caseID {
		return bad("stream", "%q is neither case-<case_id> nor station-<code>", v["stream"])
	}
	return s, nil
}

// derived reports whether the domain writes the event of s itself while
// recording another step (a bed freed by an exit, a handover or a hospital
// stay), so an import leaves it to the domain.
func (s step) derived() bool {
	if s.typ != domain.TypeBedReleased {
		return false
	}
	reason, _ := s.data["reason"].(string)
	return reason != domain.ReleaseByStaff
}

// command returns the command that records s, with the source's IDs
// mapped to the import's, and the case it acts on (the import's ID).
func (s step) command(legalBasis string, ids caseIDs) (domain.Command, uuid.UUID, error) {
	body := maps.Clone(s.data)
	for from, to := range renames[s.typ] {
		if v, ok := body[from]; ok {
			body[to] = v
			delete(body, from)
		}
	}
	if first, _ := body["assist_first"].(bool); first && s.typ == domain.TypeEligibilityDecided {
		delete(body, "eligible") // assisted first: not yet decided either way
	}
	if m, ok := body["mother_case_id"].(string); ok && m != "" {
		body["mother_case_id"] = ids.of(m).String()
	}
	if s.typ == domain.TypeCorrected {
		src, _ := body["event_id"].(string)
		body["event_id"] = newEventID(src).String()
	}
	body["occurred_at"] = s.occurred.Format(time.RFC3339Nano)
	if legalBasis != "" {
		body["legal_basis"] = legalBasis
	}
	cmd, ok := domain.NewCommand(stepOf[s.typ])
	if !ok {
		return nil, uuid.Nil, fmt.Errorf("no command for %s", s.typ)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, uuid.Nil, err
	}
	if err := json.Unmarshal(raw, cmd); err != nil {
		return nil, uuid.Nil, err
	}
	return cmd, ids.of(s.caseID), nil
}

// caseIDs maps the source's case IDs to the import's: the case its intake
// (by the intake's record ID) opens.
type caseIDs map[string]string

// of returns the import's ID of source case id (Nil for "").
func (m caseIDs) of(id string) uuid.UUID {
	if id == "" {
		return uuid.Nil
	}
	intake, ok := m[id]
	if !ok {
		intake = "case:" + id // no intake in the export: an ID no import gives
	}
	return newCaseID(intake)
}

// stepsOf streams the Step.csv of the archive.
func stepsOf(zr *zip.Reader, fn func(step, *Problem)) error {
	for _, f := range zr.File {
		if f.Name != StepFile.Name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		problems := DecodeFile(StepFile, rc, func(row Row) { fn(parseStep(row)) })
		if len(problems) > 0 {
			return fmt.Errorf("%s: %s", StepFile.Name, problems[0])
		}
		return nil
	}
	return errors.New("no " + StepFile.Name)
}

// Import loads an export (a ZIP of size bytes from r, in the exchange
// format) into svc's store through the domain's commands, so that the
// rules apply: every case is first decided whole, in memory, step by
// step, and a case any of whose rows is invalid, breaks a rule, or would
// be recorded otherwise than its row says is refused whole (reported by
// file, line, column and reason, nothing of it written). Each event is
// written with the idempotency key of its source record, so importing the
// same export again writes nothing new, and with the source's record ID,
// recording time, role and station in its metadata. A structural problem
// of the archive (export-check's) refuses everything.
func Import(ctx context.Context, svc Recorder, store eventstore.Store, r io.ReaderAt, size int64,
	opts ImportOptions) (ImportReport, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	rep := ImportReport{DryRun: opts.DryRun, Problems: []Problem{}, Refused: []string{}}
	manifest, problems := Check(r, size)
	if len(problems) > 0 {
		rep.Problems = problems
		return rep, domain.Invalid("file", "the export breaks the specification: %d problem(s), the first %s", len(problems), problems[0])
	}
	rep.ExportID = manifest["export_id"]
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return rep, err
	}

	// Pass 1: decide every case in memory.
	type caseRun struct {
		c       domain.Case
		targets map[string]*domain.Envelope // corrected events, by source record ID
		bad     bool
	}
	runs := map[string]*caseRun{}
	refuse := func(caseID string, p Problem) {
		cr := runs[caseID]
		if cr == nil {
			cr = &caseRun{}
			runs[caseID] = cr
		}
		if !cr.bad {
			cr.bad = true
			rep.Refused = append(rep.Refused, caseID)
		}
		if len(rep.Problems) < MaxProblems {
			rep.Problems = append(rep.Problems, p)
		}
	}
	targets := map[string]bool{}
	ids := caseIDs{}
	err = stepsOf(zr, func(s step, p *Problem) {
		if p != nil {
			refuse(s.caseID, *p)
			return
		}
		if s.typ == domain.TypeIntakeRegistered && s.caseID != "" {
			ids[s.caseID] = s.source
		}
		if s.typ == domain.TypeCorrected {
			if id, ok := s.data["event_id"].(string); ok {
				targets[id] = true
			}
		}
	})
	if err != nil {
		return rep, err
	}
	err = stepsOf(zr, func(s step, _ *Problem) {
		if s.caseID == "" || s.derived() || s.station != "" && s.typ != domain.TypeBedReleased && s.typ != domain.TypeBedAssigned {
			return
		}
		cr := runs[s.caseID]
		if cr == nil {
			cr = &caseRun{targets: map[string]*domain.Envelope{}}
			runs[s.caseID] = cr
		}
		if cr.bad {
			return
		}
		fail := func(col, format string, args ...any) {
			refuse(s.caseID, Problem{File: StepFile.Name, Line: s.row.Line, Column: col, Reason: fmt.Sprintf(format, args...)})
		}
		if s.station != "" {
			// A bed: the station decides it when it is written.
			if !cr.c.Exists() {
				fail("case_id", "a bed of a case whose intake comes later")
			}
			return
		}
		if (s.typ == domain.TypeIntakeRegistered) == cr.c.Exists() {
			fail("type", "a case's first step must be its intake, and only that")
			return
		}
		cmd, _, err := s.command(s.row.Values["legal_basis"], ids)
		if err != nil {
			fail("data", "%v", err)
			return
		}
		if c, ok := cmd.(*domain.Correct); ok {
			src, _ := s.data["event_id"].(string)
			if c.Target = cr.targets[src]; c.Target == nil {
				fail("data", "corrects event %s, which is not an earlier step of the case", src)
				return
			}
		}
		if err := cmd.Validate(); err != nil {
			fail("data", "%s", reason(err))
			return
		}
		state := cr.c
		if !state.Exists() {
			state = domain.Case{ID: ids.of(s.caseID)}
		}
		events, err := domain.Decide(state, cmd, now())
		if err != nil {
			fail("data", "%s", reason(err))
			return
		}
		if len(events) != 1 || events[0].EventType() != s.typ {
			fail("type", "recording it again gives %d event(s), not one %s", len(events), s.typ)
			return
		}
		if diff := differs(events[0], s.data); diff != "" {
			fail("data", "recording it again changes %s", diff)
			return
		}
		env := domain.Envelope{Stream: domain.CaseStream(state.ID), Revision: state.Version, ID: newEventID(s.source),
			Meta: domain.Metadata{OccurredAt: s.occurred}, Event: events[0]}
		cr.c.Apply(env)
		if targets[s.source] {
			cr.targets[s.source] = &env
		}
	})
	if err != nil {
		return rep, err
	}
	for id, cr := range runs {
		if id != "" && !cr.bad {
			rep.Cases++
		}
	}
	rep.CasesRefused = len(rep.Refused)
	if opts.DryRun {
		return rep, nil
	}

	// The records an earlier import of the same source wrote already.
	done := map[string]bool{}
	for rec, err := range store.ReadAll(ctx, eventstore.ReadAllOptions{}) {
		if err != nil {
			return rep, fmt.Errorf("exchange: reading the store: %w", err)
		}
		env, err := domain.Decode(rec)
		if err == nil && env.Meta.Imported != nil {
			done[env.Meta.Imported.SourceID] = true
		}
	}

	// Pass 2: write, in the log's order, every row of the stations and of
	// the cases not refused.
	var writeErr error
	err = stepsOf(zr, func(s step, _ *Problem) {
		if writeErr != nil || ctx.Err() != nil {
			return
		}
		if s.caseID != "" && (runs[s.caseID] == nil || runs[s.caseID].bad) {
			return
		}
		rep.Steps++
		if s.derived() {
			rep.Derived++
			return
		}
		if done[s.source] {
			return
		}
		cmd, caseID, err := s.command(s.row.Values["legal_basis"], ids)
		if err != nil {
			writeErr = err
			return
		}
		rec, _ := time.Parse(time.RFC3339Nano, s.row.Values["recorded_at"])
		o := domain.Options{IdempotencyKey: importKey(s.source), CorrelationID: "import:" + rep.ExportID,
			Imported: &domain.Imported{SourceID: s.source, SourceCase: s.caseID, RecordedAt: rec,
				Role: domain.Role(s.row.Values["actor_role"]), Station: s.row.Values["station"], Export: rep.ExportID}}
		var res domain.Result
		switch c := cmd.(type) {
		case *domain.RegisterStation:
			rep.Stations++
			res, err = svc.RegisterStation(ctx, ImportActor, c, o)
			if domain.RuleOf(err) == domain.RuleStationExists {
				// Registered here already: the cases join it as it is.
				res, err = domain.Result{Replayed: true}, nil
			}
		case *domain.ChangeZones:
			res, err = svc.ChangeZones(ctx, ImportActor, s.station, c, o)
		case *domain.Intake:
			res, err = svc.Intake(ctx, ImportActor, c, o)
		case *domain.AssignBed, *domain.ReleaseBed:
			// A keyed bed step makes the domain read the station's whole
			// stream for the key; the records done already are known.
			o.IdempotencyKey = ""
			res, err = svc.Execute(ctx, ImportActor, caseID, cmd, o)
		default:
			res, err = svc.Execute(ctx, ImportActor, caseID, cmd, o)
		}
		if err != nil {
			writeErr = fmt.Errorf("%s line %d (%s): %w", StepFile.Name, s.row.Line, s.typ, err)
			return
		}
		if !res.Replayed {
			rep.Written++
		}
	})
	if err == nil {
		err = writeErr
	}
	if err == nil {
		err = ctx.Err()
	}
	return rep, err
}

// reason is a domain error's message and rule, without the code's name.
func reason(err error) string {
	var de *domain.Error
	if errors.As(err, &de) {
		msg := de.Message
		if de.Rule != "" {
			msg += " (rule " + de.Rule + ")"
		}
		if de.Field != "" {
			msg += " (field " + de.Field + ")"
		}
		return msg
	}
	return err.Error()
}

// differs returns the first member in which the event e, as JSON, differs
// from the source's payload, IDs left out; "" when they agree.
func differs(e domain.Event, source map[string]any) string {
	raw, err := json.Marshal(e)
	if err != nil {
		return "everything: " + err.Error()
	}
	var got map[string]any
	if err := json.Unmarshal(raw, &got); err != nil {
		return "everything: " + err.Error()
	}
	want := maps.Clone(source)
	for _, f := range idFields {
		delete(got, f)
		delete(want, f)
	}
	for _, k := range sortedUnion(got, want) {
		if !reflect.DeepEqual(got[k], want[k]) {
			return strconv.Quote(k)
		}
	}
	return ""
}

func sortedUnion(a, b map[string]any) []string {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	out := make([]string, 0, len(keys))
	for k := range keys {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
