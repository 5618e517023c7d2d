// Package exchange writes and checks the exchange format (docs/exchange.md):
// a versioned ZIP of CSV files, one row per record, with a manifest
// (Export.csv) that names the format version, the period, the scope, the
// software, when the export was made and the SHA-256 of every other file.
package exchange

// FormatVersion is the version of the exchange format this package writes
// and checks. A change that breaks a reader makes the next version.
const FormatVersion = "v1"

// Format is the format's name in the manifest.
const Format = "waystation-exchange"

// Column types of the specification.
const (
	TypeString   = "string"   // any UTF-8 text
	TypeCode     = "code"     // a station or region code: letters, digits, - and _
	TypeUUID     = "uuid"     // a UUID, lower-case hex with hyphens
	TypeDateTime = "datetime" // RFC 3339 with a zone
	TypeDate     = "date"     // YYYY-MM-DD, a civil date in Beijing time
	TypeInteger  = "integer"  // a decimal integer, no sign unless negative
	TypeBoolean  = "boolean"  // true or false
	TypeJSON     = "json"     // a JSON object
	TypeSHA256   = "sha256"   // 64 lower-case hex digits
)

// Column is one column of a file: its name (the header), its type, whether
// every row must fill it, and whether it holds a personal value (empty in
// an export without personal values).
type Column struct {
	Name     string
	Type     string
	Required bool
	Personal bool
	Enum     []string // allowed values when not empty
	Meaning  string
}

// File is one CSV file of an export: its name in the ZIP and its columns,
// in order.
type File struct {
	Name    string
	Meaning string
	Columns []Column
}

// The files of an export, the manifest first. Their names and columns are
// the specification of FormatVersion: never rename, reorder or drop one
// (a new column at the end is compatible; anything else makes v2).
var (
	ManifestFile = File{Name: "Export.csv", Meaning: "The manifest: one row.", Columns: []Column{
		{Name: "format", Type: TypeString, Required: true, Enum: []string{Format}, Meaning: "The format's name, waystation-exchange."},
		{Name: "format_version", Type: TypeString, Required: true, Enum: []string{FormatVersion}, Meaning: "The format's version, v1."},
		{Name: "export_id", Type: TypeUUID, Required: true, Meaning: "A new ID for each export."},
		{Name: "period_from", Type: TypeDate, Required: true, Meaning: "First civil date of the period."},
		{Name: "period_to", Type: TypeDate, Required: true, Meaning: "Last civil date of the period, included."},
		{Name: "scope", Type: TypeString, Required: true, Enum: []string{"all", "station", "region"}, Meaning: "What the export covers."},
		{Name: "scope_code", Type: TypeCode, Meaning: "The station or region code of the scope; empty for all."},
		{Name: "personal", Type: TypeBoolean, Required: true, Meaning: "Whether personal values are included."},
		{Name: "software", Type: TypeString, Required: true, Meaning: "The software that made the export, waystation."},
		{Name: "software_version", Type: TypeString, Required: true, Meaning: "Its version (the module version or the VCS revision)."},
		{Name: "created_at", Type: TypeDateTime, Required: true, Meaning: "When the export was made."},
		{Name: "log_position", Type: TypeString, Required: true, Meaning: "The position of the last event of the log read."},
		{Name: "files", Type: TypeString, Required: true, Meaning: "The other files, in order, separated by ;."},
		{Name: "sha256", Type: TypeString, Required: true, Meaning: "The SHA-256 of each of those files, in the same order, separated by ;."},
		{Name: "rows", Type: TypeString, Required: true, Meaning: "The number of data rows (the header left out) of each, in the same order, separated by ;."},
	}}
	StationFile = File{Name: "Station.csv", Meaning: "One row per station in the scope.", Columns: []Column{
		{Name: "station", Type: TypeCode, Required: true, Meaning: "The station's code."},
		{Name: "name", Type: TypeString, Required: true, Meaning: "Its name."},
		{Name: "region", Type: TypeCode, Required: true, Meaning: "Its region's code."},
		{Name: "kind", Type: TypeString, Required: true, Enum: []string{"station", "regional_center", "minors_center"}, Meaning: "station, regional_center or minors_center."},
		{Name: "registered_at", Type: TypeDateTime, Required: true, Meaning: "When it was registered."},
	}}
	InventoryFile = File{Name: "Inventory.csv", Meaning: "Zones and beds over time: one row per zone of each registration or change of zones, from the moment it took effect (until the station's next row).", Columns: []Column{
		{Name: "station", Type: TypeCode, Required: true, Meaning: "The station's code."},
		{Name: "from", Type: TypeDateTime, Required: true, Meaning: "When this inventory took effect."},
		{Name: "zone", Type: TypeString, Required: true, Enum: []string{"adult_male", "adult_female", "minors", "mother_child", "care", "observation", "isolation"}, Meaning: "The zone."},
		{Name: "beds", Type: TypeInteger, Required: true, Meaning: "Permanent beds."},
		{Name: "seasonal", Type: TypeInteger, Required: true, Meaning: "Seasonal beds (winter-warmth, summer-cooling)."},
		{Name: "record_id", Type: TypeUUID, Required: true, Meaning: "The event that set it (Step.csv's record_id)."},
	}}
	CaseFile = File{Name: "Case.csv", Meaning: "One row per case in the export: cases at a station of the scope that were open on a date of the period.", Columns: []Column{
		{Name: "case_id", Type: TypeUUID, Required: true, Meaning: "The case's ID."},
		{Name: "station", Type: TypeCode, Required: true, Meaning: "The station of arrival."},
		{Name: "current_station", Type: TypeCode, Required: true, Meaning: "The station it is at now (or left from)."},
		{Name: "case_number", Type: TypeString, Meaning: "The case number, S01-2026-000123."},
		{Name: "referral", Type: TypeString, Required: true, Meaning: "How the person came: walk_in, hotline, police_escort, urban_management, hospital, outreach, public_report, other."},
		{Name: "sex", Type: TypeString, Required: true, Enum: []string{"male", "female"}, Meaning: "male or female."},
		{Name: "age_at_intake", Type: TypeInteger, Meaning: "Age in whole years on the intake's civil date; empty when unknown."},
		{Name: "opened_at", Type: TypeDateTime, Required: true, Meaning: "When the person arrived."},
		{Name: "opened_date", Type: TypeDate, Required: true, Meaning: "Its civil date in Beijing time."},
		{Name: "exited_at", Type: TypeDateTime, Meaning: "When the person left; empty while in care."},
		{Name: "exit_date", Type: TypeDate, Meaning: "Its civil date."},
		{Name: "closed_at", Type: TypeDateTime, Meaning: "When the case was closed."},
		{Name: "status", Type: TypeString, Required: true, Enum: []string{"received", "in_station", "in_hospital", "long_stay", "in_transit", "exited", "refused", "closed"}, Meaning: "The case's status."},
		{Name: "exit_type", Type: TypeString, Meaning: "How it ended (Exit.csv)."},
		{Name: "exit_destination", Type: TypeString, Personal: true, Meaning: "Where an escorted return took the person."},
		{Name: "erased", Type: TypeBoolean, Required: true, Meaning: "Whether the person's personal data has been erased (their personal values are then never exported)."},
		{Name: "name", Type: TypeString, Personal: true, Meaning: "Name or alias."},
		{Name: "id_type", Type: TypeString, Personal: true, Meaning: "Kind of identity document."},
		{Name: "id_number", Type: TypeString, Personal: true, Meaning: "Its number."},
		{Name: "birth_date", Type: TypeDate, Personal: true, Meaning: "Date of birth."},
		{Name: "hukou_place", Type: TypeString, Personal: true, Meaning: "Place of household registration."},
	}}
	StepFile = File{Name: "Step.csv", Meaning: "One row per event of the exported cases and of the stations' inventories and beds about them, in log order.", Columns: []Column{
		{Name: "record_id", Type: TypeUUID, Required: true, Meaning: "The event's ID: the source's record ID for an import."},
		{Name: "case_id", Type: TypeUUID, Meaning: "The case it belongs to or is about; empty for a station's own events."},
		{Name: "stream", Type: TypeString, Required: true, Meaning: "The stream it was recorded in: case-<id> or station-<code>."},
		{Name: "revision", Type: TypeInteger, Required: true, Meaning: "Its place in that stream, from 0."},
		{Name: "type", Type: TypeString, Required: true, Meaning: "The stored event type (case.intake_registered, station.bed_assigned ...)."},
		{Name: "occurred_at", Type: TypeDateTime, Required: true, Meaning: "When it happened."},
		{Name: "recorded_at", Type: TypeDateTime, Required: true, Meaning: "When it was recorded."},
		{Name: "actor_role", Type: TypeString, Required: true, Enum: []string{"admin", "staff", "coordinator", "inspector"}, Meaning: "The role of whoever recorded it."},
		{Name: "station", Type: TypeCode, Meaning: "The station of whoever recorded it."},
		{Name: "legal_basis", Type: TypeString, Meaning: "The legal basis of processing."},
		{Name: "schema_version", Type: TypeInteger, Required: true, Meaning: "The payload's schema version."},
		{Name: "data", Type: TypeJSON, Required: true, Meaning: "Its fields as JSON, personal ones left out of an export without personal values."},
	}}
	TransferFile = File{Name: "Transfer.csv", Meaning: "One row per transfer of an exported case.", Columns: []Column{
		{Name: "case_id", Type: TypeUUID, Required: true, Meaning: "The case."},
		{Name: "from_station", Type: TypeCode, Required: true, Meaning: "The sending station."},
		{Name: "to_station", Type: TypeCode, Required: true, Meaning: "The receiving station."},
		{Name: "state", Type: TypeString, Required: true, Enum: []string{"requested", "accepted", "departed", "handed_over", "declined", "cancelled"}, Meaning: "Where it stands or how it ended."},
		{Name: "requested_at", Type: TypeDateTime, Required: true, Meaning: "When it was requested."},
		{Name: "accepted_at", Type: TypeDateTime, Meaning: "When the receiving station accepted."},
		{Name: "departed_at", Type: TypeDateTime, Meaning: "When the escort left."},
		{Name: "ended_at", Type: TypeDateTime, Meaning: "When it ended (handover, decline, cancellation)."},
	}}
	ExitFile = File{Name: "Exit.csv", Meaning: "One row per exited case of the export.", Columns: []Column{
		{Name: "case_id", Type: TypeUUID, Required: true, Meaning: "The case."},
		{Name: "station", Type: TypeCode, Required: true, Meaning: "The station the person left."},
		{Name: "exit_type", Type: TypeString, Required: true, Enum: []string{"voluntary_leave", "pickup", "escorted_return", "absconding", "termination", "death", "settlement", "not_eligible", "security_check_refused"}, Meaning: "How the person left."},
		{Name: "exited_at", Type: TypeDateTime, Required: true, Meaning: "When."},
		{Name: "exit_date", Type: TypeDate, Required: true, Meaning: "Its civil date in Beijing time."},
		{Name: "stay_days", Type: TypeInteger, Required: true, Meaning: "Civil dates from the intake's date to the exit's (docs/reports.md)."},
	}}
)

// DataFiles are the files after the manifest, in the order an export
// writes them.
var DataFiles = []File{StationFile, InventoryFile, CaseFile, StepFile, TransferFile, ExitFile}

// fileNamed returns the specification of the file name, if any.
func fileNamed(name string) (File, bool) {
	if name == ManifestFile.Name {
		return ManifestFile, true
	}
	for _, f := range DataFiles {
		if f.Name == name {
			return f, true
		}
	}
	return File{}, false
}
