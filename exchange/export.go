package exchange

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
)

// Options select what an export holds.
type Options struct {
	From, To domain.Date // the period's civil dates, both included
	Station  string      // only this station, or
	Region   string      // only this region; both empty: everything
	// Personal includes personal values (names, ID numbers, birth dates,
	// household registration, the personal fields of every step), except
	// for erased people. The caller checks that the actor may (admins
	// only) and logs each case of Manifest.Cases as read.
	Personal bool
	Now      func() time.Time
}

// Manifest is what an export's Export.csv says, plus the cases it holds.
type Manifest struct {
	Format, FormatVersion string
	ExportID              uuid.UUID
	From, To              domain.Date
	Scope, ScopeCode      string
	Personal              bool
	Software, Version     string
	CreatedAt             time.Time
	LogPosition           string
	Files                 []string
	SHA256                []string
	Rows                  []int
	// Cases are the IDs of the cases exported, in intake order (not in
	// the manifest file).
	Cases []uuid.UUID
	// Events is the number of Step.csv rows (not in the manifest file).
	Events int
}

// caseFold is what an export knows of one case after the first pass.
type caseFold struct {
	c         domain.Case
	stations  []string // every station it belonged to, arrival first
	number    string
	erased    bool
	transfers []transfer
	included  bool
	dest      string // an escorted return's destination (personal)
}

type transfer struct {
	from, to, state                              string
	requestedAt, acceptedAt, departedAt, endedAt time.Time
}

type stationFold struct {
	name, region, kind string
	registeredAt       time.Time
}

// Export writes the export opts selects of the log of store to out, a ZIP
// archive, reading the log twice (never holding it): once to fold the
// cases and stations, once to write the steps.
func Export(ctx context.Context, store eventstore.Store, opts Options, out io.Writer) (Manifest, error) {
	if opts.To.Time().Before(opts.From.Time()) {
		return Manifest{}, domain.Invalid("to", "to must not be before from")
	}
	if opts.Station != "" && opts.Region != "" {
		return Manifest{}, domain.Invalid("station", "give station or region, not both")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	man := Manifest{Format: Format, FormatVersion: FormatVersion, ExportID: uuid.Must(uuid.NewV7()),
		From: opts.From, To: opts.To, Scope: "all", Personal: opts.Personal, Software: "waystation",
		Version: softwareVersion(), CreatedAt: now().In(domain.CivilZone).Truncate(time.Second)}
	switch {
	case opts.Station != "":
		man.Scope, man.ScopeCode = "station", opts.Station
	case opts.Region != "":
		man.Scope, man.ScopeCode = "region", opts.Region
	}

	// Pass 1: fold.
	src := newSources()
	stations := map[string]*stationFold{}
	cases := map[uuid.UUID]*caseFold{}
	var order []*caseFold
	var last eventstore.Position
	err := each(ctx, store, eventstore.Position{}, func(env domain.Envelope) error {
		last = env.Position
		src.note(env)
		if code, ok := domain.StationCodeOf(env.Stream); ok {
			if e, ok := env.Event.(domain.StationRegistered); ok {
				stations[code] = &stationFold{name: e.Name, region: e.Region, kind: string(e.Kind), registeredAt: env.Meta.OccurredAt}
			}
			return nil
		}
		if e, ok := env.Event.(domain.CaseNumbered); ok && strings.HasPrefix(env.Stream, domain.CaseNumbersStreamPrefix) {
			if cf := cases[e.CaseID]; cf != nil {
				cf.number = domain.CaseNumber(e.Station, e.Year, int(env.Revision)+1)
			}
			return nil
		}
		id, ok := domain.CaseIDOf(env.Stream)
		if !ok {
			return nil
		}
		cf := cases[id]
		if cf == nil {
			cf = &caseFold{}
			cases[id] = cf
			order = append(order, cf)
		}
		cf.c.Apply(env)
		at := env.Meta.OccurredAt
		switch e := env.Event.(type) {
		case domain.IntakeRegistered:
			cf.stations = append(cf.stations, e.Station)
		case domain.HandedOver:
			cf.stations = append(cf.stations, e.To)
			if t := cf.open(); t != nil {
				t.state, t.endedAt = "handed_over", at
			}
		case domain.TransferRequested:
			cf.transfers = append(cf.transfers, transfer{from: e.From, to: e.To, state: "requested", requestedAt: at})
		case domain.TransferAccepted:
			if t := cf.open(); t != nil {
				t.state, t.acceptedAt = "accepted", at
			}
		case domain.TransferDeclined:
			if t := cf.open(); t != nil {
				t.state, t.endedAt = "declined", at
			}
		case domain.EscortDeparted:
			if t := cf.open(); t != nil {
				t.state, t.departedAt = "departed", at
			}
		case domain.EscortedReturn:
			cf.dest = e.Destination
		case domain.PersonalDataErased:
			cf.erased = true
		}
		return nil
	})
	if err != nil {
		return Manifest{}, err
	}
	selects := func(code string) bool {
		if opts.Station != "" {
			return code == opts.Station
		}
		if opts.Region != "" {
			st := stations[code]
			return st != nil && st.region == opts.Region
		}
		return true
	}
	if opts.Station != "" && stations[opts.Station] == nil {
		return Manifest{}, domain.NotFound("no station %q", opts.Station)
	}
	if opts.Region != "" && !anyRegion(stations, opts.Region) {
		return Manifest{}, domain.NotFound("no region %q", opts.Region)
	}
	from, end := opts.From.Time(), opts.To.Time().AddDate(0, 0, 1)
	for _, cf := range order {
		c := &cf.c
		if !c.Exists() || !c.OpenedAt.Before(end) || !c.ExitedAt.IsZero() && c.ExitedAt.Before(from) {
			continue
		}
		for _, s := range cf.stations {
			if selects(s) {
				cf.included = true
				man.Cases = append(man.Cases, c.ID)
				break
			}
		}
	}
	for _, cf := range cases {
		// A transfer still open when a case ended with the case.
		if t := cf.open(); t != nil && !cf.c.ExitedAt.IsZero() {
			t.state, t.endedAt = "cancelled", cf.c.ExitedAt
		}
	}
	man.LogPosition = last.String()

	// The files, streamed into the ZIP one after the other, each through
	// a hash; the manifest last. Inventory rows come with the steps and
	// are few: they are held until the steps are written.
	zw := zip.NewWriter(out)
	var done []*fileWriter
	create := func(f File) (*fileWriter, error) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: man.CreatedAt})
		if err != nil {
			return nil, err
		}
		return newFileWriter(f, w), nil
	}
	finish := func(fw *fileWriter) error {
		if err := fw.flush(); err != nil {
			return err
		}
		done = append(done, fw)
		return nil
	}
	stW, err := create(StationFile)
	if err != nil {
		return Manifest{}, err
	}
	for _, code := range slices.Sorted(maps.Keys(stations)) {
		if !selects(code) {
			continue
		}
		st := stations[code]
		stW.row(code, st.name, st.region, st.kind, ts(st.registeredAt))
	}
	if err := finish(stW); err != nil {
		return Manifest{}, err
	}
	caseW, err := create(CaseFile)
	if err != nil {
		return Manifest{}, err
	}
	var trRows, exRows [][]string
	for _, cf := range order {
		if !cf.included {
			continue
		}
		c := &cf.c
		personal := opts.Personal && !cf.erased
		age := ""
		if a, ok := c.Person.AgeOn(c.OpenedAt.In(domain.CivilZone)); ok {
			age = strconv.Itoa(a)
		}
		var name, idType, idNumber, born, hukou, dest string
		if personal {
			name, idType, idNumber, hukou, dest = c.Person.Name, string(c.Person.IDType), c.Person.IDNumber, c.Person.HukouPlace, cf.dest
			if !c.Person.BirthDate.IsZero() {
				born = c.Person.BirthDate.String()
			}
		}
		caseW.row(src.caseID(c.ID), cf.stations[0], c.Station, cf.number, string(c.Referral.Source), string(c.Person.Sex), age,
			ts(c.OpenedAt), date(c.OpenedAt), ts(c.ExitedAt), date(c.ExitedAt), ts(c.ClosedAt), string(c.Status),
			string(c.ExitType), dest, strconv.FormatBool(cf.erased), name, idType, idNumber, born, hukou)
		for _, t := range cf.transfers {
			trRows = append(trRows, []string{src.caseID(c.ID), t.from, t.to, t.state, ts(t.requestedAt), ts(t.acceptedAt),
				ts(t.departedAt), ts(t.endedAt)})
		}
		if !c.ExitedAt.IsZero() {
			days := int(dayStart(c.ExitedAt).Sub(dayStart(c.OpenedAt)) / (24 * time.Hour))
			exRows = append(exRows, []string{src.caseID(c.ID), c.Station, string(c.ExitType), ts(c.ExitedAt), date(c.ExitedAt),
				strconv.Itoa(days)})
		}
	}
	if err := finish(caseW); err != nil {
		return Manifest{}, err
	}
	for _, part := range []struct {
		f    File
		rows [][]string
	}{{TransferFile, trRows}, {ExitFile, exRows}} {
		fw, err := create(part.f)
		if err != nil {
			return Manifest{}, err
		}
		for _, r := range part.rows {
			fw.row(r...)
		}
		if err := finish(fw); err != nil {
			return Manifest{}, err
		}
	}

	// Pass 2: the steps, up to the position pass 1 read.
	stepW, err := create(StepFile)
	if err != nil {
		return Manifest{}, err
	}
	var invRows [][]string
	inventory := func(code string, env domain.Envelope, zones []domain.ZoneBeds) {
		for _, z := range zones {
			invRows = append(invRows, []string{code, ts(env.Meta.OccurredAt), string(z.Zone), strconv.Itoa(z.Beds),
				strconv.Itoa(z.Seasonal), src.eventID(env.ID)})
		}
	}
	err = each(ctx, store, eventstore.Position{}, func(env domain.Envelope) error {
		if last.Before(env.Position) {
			return errStop
		}
		caseID := ""
		var cf *caseFold
		if id, ok := domain.CaseIDOf(env.Stream); ok {
			if cf = cases[id]; cf == nil || !cf.included {
				return nil
			}
			caseID = src.caseID(id)
		} else if code, ok := domain.StationCodeOf(env.Stream); ok {
			if !selects(code) {
				return nil
			}
			switch e := env.Event.(type) {
			case domain.StationRegistered:
				inventory(code, env, e.Zones)
			case domain.ZonesChanged:
				inventory(code, env, e.Zones)
			case domain.BedAssigned:
				if cf = cases[e.CaseID]; cf == nil || !cf.included {
					return nil
				}
				caseID = src.caseID(e.CaseID)
				src.assigned[e.CaseID] = env.ID
			case domain.BedReleased:
				if cf = cases[e.CaseID]; cf == nil || !cf.included {
					return nil
				}
				caseID = src.caseID(e.CaseID)
			}
		} else {
			return nil
		}
		if notExchanged[env.Event.EventType()] {
			return nil
		}
		data, err := stepData(env, opts.Personal && (cf == nil || !cf.erased), src)
		if err != nil {
			return err
		}
		id, rec, role, station, stream := src.recorded(env)
		stepW.row(id, caseID, stream, strconv.FormatUint(env.Revision, 10), env.Event.EventType(),
			ts(env.Meta.OccurredAt), ts(rec), string(role), station, string(env.Meta.LegalBasis),
			strconv.Itoa(max(env.Meta.SchemaVersion, 1)), data)
		man.Events++
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return Manifest{}, err
	}
	if err := finish(stepW); err != nil {
		return Manifest{}, err
	}
	invW, err := create(InventoryFile)
	if err != nil {
		return Manifest{}, err
	}
	for _, r := range invRows {
		invW.row(r...)
	}
	if err := finish(invW); err != nil {
		return Manifest{}, err
	}
	// The manifest lists the files in the specification's order.
	for _, spec := range DataFiles {
		for _, fw := range done {
			if fw.spec.Name == spec.Name {
				man.Files = append(man.Files, spec.Name)
				man.SHA256 = append(man.SHA256, hex.EncodeToString(fw.hash.Sum(nil)))
				man.Rows = append(man.Rows, fw.rows)
			}
		}
	}
	mw, err := create(ManifestFile)
	if err != nil {
		return Manifest{}, err
	}
	rows := make([]string, len(man.Rows))
	for i, n := range man.Rows {
		rows[i] = strconv.Itoa(n)
	}
	mw.row(man.Format, man.FormatVersion, man.ExportID.String(), man.From.String(), man.To.String(), man.Scope,
		man.ScopeCode, strconv.FormatBool(man.Personal), man.Software, man.Version, ts(man.CreatedAt), man.LogPosition,
		strings.Join(man.Files, ";"), strings.Join(man.SHA256, ";"), strings.Join(rows, ";"))
	if err := mw.flush(); err != nil {
		return Manifest{}, err
	}
	if err := zw.Close(); err != nil {
		return Manifest{}, err
	}
	return man, nil
}

var errStop = errors.New("stop")

// open returns the transfer of cf in flight, or nil.
func (cf *caseFold) open() *transfer {
	if n := len(cf.transfers); n > 0 {
		t := &cf.transfers[n-1]
		if t.endedAt.IsZero() {
			return t
		}
	}
	return nil
}

func anyRegion(stations map[string]*stationFold, region string) bool {
	for _, s := range stations {
		if s.region == region {
			return true
		}
	}
	return false
}

// stepData returns the event's payload as JSON, its personal paths left
// out unless personal.
// notExchanged are the events format 1 leaves out: a case's public
// notices, its photos and the leads the public sent, which stay with the
// station that published them.
var notExchanged = map[string]bool{
	domain.TypeNoticePublished: true, domain.TypeNoticeWithdrawn: true,
	domain.TypePhotoAttached: true, domain.TypeLeadReceived: true,
}

func stepData(env domain.Envelope, personal bool, src *sources) (string, error) {
	raw, err := json.Marshal(env.Event)
	if err != nil {
		return "", fmt.Errorf("exchange: encoding event %s: %w", env.ID, err)
	}
	if !personal {
		if paths := domain.PersonalPaths(env.Event.EventType(), raw); len(paths) > 0 {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				return "", fmt.Errorf("exchange: decoding event %s: %w", env.ID, err)
			}
			for _, p := range paths {
				drop(v, strings.Split(p, "."))
			}
			if raw, err = json.Marshal(v); err != nil {
				return "", err
			}
		}
	}
	if len(src.events) > 0 {
		// An imported event names the source's IDs again.
		var ids struct {
			CaseID       uuid.UUID `json:"case_id"`
			MotherCaseID uuid.UUID `json:"mother_case_id"`
			EventID      uuid.UUID `json:"event_id"`
			Cause        uuid.UUID `json:"cause"`
		}
		if json.Unmarshal(raw, &ids) == nil {
			for _, id := range []uuid.UUID{ids.CaseID, ids.MotherCaseID} {
				if id != uuid.Nil {
					raw = bytes.ReplaceAll(raw, []byte(`"`+id.String()+`"`), []byte(`"`+src.caseID(id)+`"`))
				}
			}
			for _, id := range []uuid.UUID{ids.EventID, ids.Cause} {
				if id != uuid.Nil {
					raw = bytes.ReplaceAll(raw, []byte(`"`+id.String()+`"`), []byte(`"`+src.eventID(id)+`"`))
				}
			}
		}
	}
	return string(raw), nil
}

// drop deletes the member at path from v, in every element of the arrays
// on the way.
func drop(v any, path []string) {
	switch x := v.(type) {
	case map[string]any:
		if len(path) == 1 {
			delete(x, path[0])
			return
		}
		if next, ok := x[path[0]]; ok {
			drop(next, path[1:])
		}
	case []any:
		for _, e := range x {
			drop(e, path)
		}
	}
}

// each decodes every event of the log after from, in order, and calls fn;
// events that do not decode are skipped.
func each(ctx context.Context, store eventstore.Store, from eventstore.Position, fn func(domain.Envelope) error) error {
	for rec, err := range store.ReadAll(ctx, eventstore.ReadAllOptions{From: from}) {
		if err != nil {
			return fmt.Errorf("exchange: reading the log: %w", err)
		}
		env, err := domain.Decode(rec)
		if err != nil || env.Event == nil {
			continue
		}
		if err := fn(env); err != nil {
			return err
		}
	}
	return nil
}

// fileWriter writes one CSV file, hashing what it writes.
type fileWriter struct {
	spec File
	hash hash.Hash
	cw   *csv.Writer
	rows int
	err  error
}

func newFileWriter(f File, out io.Writer) *fileWriter {
	w := &fileWriter{spec: f, hash: sha256.New()}
	w.cw = csv.NewWriter(io.MultiWriter(out, w.hash))
	names := make([]string, len(f.Columns))
	for i, c := range f.Columns {
		names[i] = c.Name
	}
	w.err = w.cw.Write(names)
	return w
}

func (w *fileWriter) row(cells ...string) {
	if w.err == nil {
		w.err = w.cw.Write(cells)
		w.rows++
	}
}

func (w *fileWriter) flush() error {
	w.cw.Flush()
	if w.err != nil {
		return w.err
	}
	return w.cw.Error()
}

// ts formats t as RFC 3339 in Beijing time, or "" for the zero time.
func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(domain.CivilZone).Format(time.RFC3339Nano)
}

// date returns the civil date of t in Beijing time, or "".
func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return domain.CivilDate(t).String()
}

func dayStart(t time.Time) time.Time {
	y, m, d := t.In(domain.CivilZone).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, domain.CivilZone)
}

// softwareVersion is the module version, or the VCS revision, of the binary.
func softwareVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" {
			return s.Value
		}
	}
	return "devel"
}

// WriteFile writes the export to path atomically (a temporary file renamed).
func WriteFile(ctx context.Context, store eventstore.Store, opts Options, path string) (Manifest, error) {
	tmp, err := os.CreateTemp(dirOf(path), ".export-*")
	if err != nil {
		return Manifest{}, err
	}
	defer os.Remove(tmp.Name())
	man, err := Export(ctx, store, opts, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Manifest{}, err
	}
	return man, os.Rename(tmp.Name(), path)
}

func dirOf(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[:i+1]
	}
	return "."
}

// sources maps the IDs an import gave back to the source's, from the
// imported events' metadata (domain.Imported), so that an export of an
// imported store names the records as the source did.
type sources struct {
	cases    map[uuid.UUID]string // case ID -> source case ID
	events   map[uuid.UUID]*domain.Imported
	assigned map[uuid.UUID]uuid.UUID // case -> its latest bed assignment, in pass 2
}

func newSources() *sources {
	return &sources{cases: map[uuid.UUID]string{}, events: map[uuid.UUID]*domain.Imported{},
		assigned: map[uuid.UUID]uuid.UUID{}}
}

func (s *sources) note(env domain.Envelope) {
	im := env.Meta.Imported
	if im == nil {
		return
	}
	s.events[env.ID] = im
	if id, ok := domain.CaseIDOf(env.Stream); ok && im.SourceCase != "" {
		s.cases[id] = im.SourceCase
	}
}

func (s *sources) caseID(id uuid.UUID) string {
	if src, ok := s.cases[id]; ok {
		return src
	}
	return id.String()
}

func (s *sources) eventID(id uuid.UUID) string {
	if im, ok := s.events[id]; ok {
		return im.SourceID
	}
	return id.String()
}

// recorded returns the record ID, recording time, role, station and
// stream of env as the source recorded it: an imported event's from its
// metadata; a bed release the domain wrote while an imported step was
// recorded (its causation) with the ID the source's domain gave it and
// the causing step's source time, role and station.
func (s *sources) recorded(env domain.Envelope) (string, time.Time, domain.Role, string, string) {
	stream := env.Stream
	if id, ok := domain.CaseIDOf(stream); ok {
		stream = domain.CaseStreamPrefix + s.caseID(id)
	}
	if im := env.Meta.Imported; im != nil {
		return im.SourceID, im.RecordedAt, im.Role, im.Station, stream
	}
	rec := env.Meta.RecordedAt
	if rec.IsZero() {
		rec = env.RecordedAt
	}
	if e, ok := env.Event.(domain.BedReleased); ok {
		cause, err := uuid.Parse(env.Meta.CausationID)
		assign, assigned := s.assigned[e.CaseID]
		if im := s.events[cause]; err == nil && im != nil && assigned && s.events[assign] != nil {
			srcAssign, err1 := uuid.Parse(s.events[assign].SourceID)
			srcCause, err2 := uuid.Parse(im.SourceID)
			if err1 == nil && err2 == nil {
				id := domain.DerivedEventID(srcAssign, "bed-release:"+srcCause.String())
				return id.String(), im.RecordedAt, im.Role, im.Station, stream
			}
		}
	}
	return env.ID.String(), rec, env.Meta.Role, env.Meta.Station, stream
}
