package domain_test

import (
	"slices"
	"testing"

	"waystation/domain"
)

// sorted returns a sorted copy of s.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestPersonalPathsFromTags: the personal paths that the event structs'
// personal tags declare are, type by type, the hand-kept lists they
// replace; station, access and erasure events have none.
func TestPersonalPathsFromTags(t *testing.T) {
	want := map[string][]string{
		domain.TypeIntakeRegistered: {
			"person.name", "person.birth_date", "person.id_number", "person.hukou_place",
			"person.dialect", "person.street_reason", "person.photo_ref", "person.fingerprint_ref",
			"person.contacts", "referral.form_no", "referral.referred_by", "referral.found_at",
			"inspection", "notes",
		},
		domain.TypeEligibilityDecided:       {"reason", "notes"},
		domain.TypeSecurityChecked:          {"notes"},
		domain.TypeBelongingsDeposited:      {"notes"},
		domain.TypeBelongingsReturned:       {"notes"},
		domain.TypeIdentityQueried:          {"result", "reference", "notes"},
		domain.TypeIdentityVerified:         {"name", "id_number", "birth_date", "hukou_place", "reference", "notes"},
		domain.TypeFamilySearchNoticePosted: {"reference", "notes"},
		domain.TypeDNARequested:             {"sample_ref", "notes"},
		domain.TypeDNAResultReceived:        {"matched", "reference", "notes"},
		domain.TypeRelativesContacted:       {"relationship", "outcome", "notes"},
		domain.TypeMedicalReferred:          {"hospital", "reason", "notes"},
		domain.TypeHospitalAdmitted:         {"hospital", "notes"},
		domain.TypeHospitalDischarged:       {"hospital", "notes"},
		domain.TypeMedicalReturned:          {"notes"},
		domain.TypeStayExtended:             {"reason", "notes"},
		domain.TypeLongStayStarted:          {"place", "notes"},
		domain.TypeSettlementRecorded:       {"place", "reference", "notes"},
		domain.TypeGuardianshipTaken:        {"guardian", "notes"},
		domain.TypePoliceReportFiled:        {"reason", "report_no", "notes"},
		domain.TypeTransferRequested:        {"reason", "notes"},
		domain.TypeTransferAccepted:         {"notes"},
		domain.TypeTransferDeclined:         {"reason", "notes"},
		domain.TypeEscortDeparted:           {"notes"},
		domain.TypeHandedOver:               {"notes"},
		domain.TypeLeftVoluntarily:          {"notes"},
		domain.TypePickedUp:                 {"collector", "notes"},
		domain.TypeEscortedReturn:           {"destination", "received_by", "notes"},
		domain.TypeAbsconded:                {"last_seen", "notes"},
		domain.TypeTerminated:               {"reason", "notes"},
		domain.TypeDied:                     {"place", "certified_by", "public_notice", "body_disposition", "notes"},
		domain.TypeDeathChecklistUpdated:    {"certified_by", "public_notice", "body_disposition", "notes"},
		domain.TypeCaseClosed:               {"notes"},
		domain.TypeNoticePublished:          {"health", "features", "clothing", "found_place", "photo_id", "photo_basis", "notes"},
		domain.TypeNoticeWithdrawn:          {"notes"},
		domain.TypeLeadReceived:             {"name", "phone", "relationship", "message"},
		domain.TypePhotoStored:              {"image"},
		// A correction that cannot be read keeps its old and new values
		// sealed too.
		domain.TypeCorrected: {"old", "new", "reason"},
		// The one personal value of the access stream: an account's TOTP
		// secret.
		domain.TypeTOTPEnrolled: {"secret"},
	}
	for _, typ := range domain.Events.Types() {
		got := domain.PersonalPaths(typ, nil)
		if !slices.Equal(sorted(got), sorted(want[typ])) || len(slices.Compact(sorted(got))) != len(got) {
			t.Errorf("PersonalPaths(%s) = %q, want %q", typ, got, want[typ])
		}
	}
}

// TestCorrectableFieldsFromTags: the fields a correction may name, derived
// from the event structs (correctable:"false" leaves a field out), are
// type by type the catalogue they replace; only case events other than
// corrections and erasures are corrected.
func TestCorrectableFieldsFromTags(t *testing.T) {
	want := map[string][]string{
		"case.absconded":            {"last_seen", "notes", "occurred_at"},
		"case.belongings_deposited": {"items", "notes", "occurred_at"},
		"case.belongings_returned":  {"items", "notes", "occurred_at"},
		"case.closed":               {"notes", "occurred_at"},
		"case.death_checklist_updated": {
			"body_disposition", "certified_by", "notes", "occurred_at", "police_notified", "public_notice",
			"relatives_notified",
		},
		"case.died": {
			"body_disposition", "certified_by", "notes", "occurred_at", "place", "police_notified", "public_notice",
			"relatives_notified",
		},
		"case.dna_requested":       {"lab", "notes", "occurred_at", "sample_ref"},
		"case.dna_result_received": {"matched", "notes", "occurred_at", "reference"},
		"case.eligibility_decided": {"notes", "notice_no", "occurred_at", "reason"},
		"case.escort_departed":     {"escorts", "notes", "occurred_at", "transport"},
		"case.escorted_return": {
			"destination", "escorts", "notes", "occurred_at", "received_by", "transport",
		},
		"case.family_search_notice_published": {"channel", "notes", "occurred_at", "reference"},
		"case.public_notice_published":        {"notes", "occurred_at"},
		"case.public_notice_withdrawn":        {"notes", "occurred_at"},
		"case.photo_attached":                 {"occurred_at"},
		"case.lead_received":                  {"occurred_at"},
		"case.guardianship_taken":             {"basis", "guardian", "notes", "occurred_at"},
		"case.handed_over":                    {"notes", "occurred_at", "received_by"},
		"case.hospital_admitted":              {"hospital", "notes", "occurred_at"},
		"case.hospital_discharged":            {"hospital", "notes", "occurred_at"},
		"case.identity_queried":               {"channel", "notes", "occurred_at", "reference", "result"},
		"case.identity_verified": {
			"birth_date", "hukou_place", "id_number", "id_type", "method", "name", "notes", "occurred_at",
			"reference",
		},
		"case.intake_registered": {
			"inspection.abandoned", "inspection.injuries", "inspection.intellectual_disability",
			"inspection.intoxicated", "inspection.notes", "inspection.physical_disability",
			"inspection.seriously_ill", "inspection.signs_of_harm", "inspection.suspected_infectious",
			"inspection.suspected_lost", "inspection.suspected_mental_disorder", "inspection.suspected_trafficked",
			"notes", "occurred_at", "person.age_estimated_on", "person.birth_date", "person.can_state_identity",
			"person.contacts", "person.dialect", "person.estimated_age", "person.fingerprint_ref",
			"person.hukou_place", "person.id_number", "person.id_type", "person.name", "person.photo_ref",
			"person.sex", "person.street_reason", "referral.form_no", "referral.found_at", "referral.referred_by",
			"referral.source",
		},
		"case.left_voluntarily": {
			"cash_yuan", "declaration_ref", "notes", "occurred_at", "receipt_ref",
		},
		"case.long_stay_started": {"kind", "notes", "occurred_at", "place"},
		"case.medical_referred":  {"hospital", "notes", "occurred_at", "reason"},
		"case.medical_returned":  {"notes", "occurred_at"},
		"case.picked_up": {
			"collector.id_number", "collector.id_type", "collector.name", "collector.relationship", "notes",
			"occurred_at",
		},
		"case.police_report_filed": {"agency", "notes", "occurred_at", "reason", "report_no"},
		"case.relatives_contacted": {"channel", "notes", "occurred_at", "outcome", "relationship"},
		"case.security_checked": {
			"checked_by.sex", "checked_by.staff_id", "items_to_police", "notes", "occurred_at",
		},
		"case.settlement_recorded": {"notes", "occurred_at", "place", "reference"},
		"case.stay_extended":       {"approved_by", "notes", "occurred_at", "reason", "until"},
		"case.terminated":          {"notes", "occurred_at", "reason"},
		"case.transfer_accepted":   {"notes", "occurred_at"},
		"case.transfer_declined":   {"notes", "occurred_at", "reason"},
		"case.transfer_requested":  {"notes", "occurred_at", "reason"},
	}
	for _, typ := range domain.Events.Types() {
		if got := domain.CorrectableFieldsOf(typ); !slices.Equal(got, want[typ]) {
			t.Errorf("CorrectableFieldsOf(%s) = %q, want %q", typ, got, want[typ])
		}
	}
}
