package domain

import (
	"maps"
	"testing"
)

// TestTextKindsFromTags: the text kinds with which a correction's new
// value is cleaned are, type by type, those of the correctable string
// fields' text tags (the default kind for a field without one).
func TestTextKindsFromTags(t *testing.T) {
	want := map[string]map[string]string{
		"case.absconded":            {"last_seen": "line", "notes": "notes"},
		"case.belongings_deposited": {"notes": "notes"},
		"case.belongings_returned":  {"items": "line", "notes": "notes"},
		"case.closed":               {"notes": "notes"},
		"case.death_checklist_updated": {
			"body_disposition": "line", "certified_by": "name", "notes": "notes", "public_notice": "line",
		},
		"case.died": {
			"body_disposition": "line", "certified_by": "name", "notes": "notes", "place": "line",
			"public_notice": "line",
		},
		"case.dna_requested":       {"lab": "name", "notes": "notes", "sample_ref": "ref"},
		"case.dna_result_received": {"notes": "notes", "reference": "ref"},
		"case.eligibility_decided": {"notes": "notes", "notice_no": "ref", "reason": "reason"},
		"case.escort_departed":     {"escorts": "name", "notes": "notes", "transport": "line"},
		"case.escorted_return": {
			"destination": "line", "escorts": "name", "notes": "notes", "received_by": "name", "transport": "line",
		},
		"case.family_search_notice_published": {"channel": "line", "notes": "notes", "reference": "ref"},
		"case.public_notice_published":        {"notes": "notes"},
		"case.public_notice_withdrawn":        {"notes": "notes"},
		"case.guardianship_taken":             {"basis": "line", "guardian": "name", "notes": "notes"},
		"case.handed_over":                    {"notes": "notes", "received_by": "name"},
		"case.hospital_admitted":              {"hospital": "name", "notes": "notes"},
		"case.hospital_discharged":            {"hospital": "name", "notes": "notes"},
		"case.identity_queried":               {"notes": "notes", "reference": "ref"},
		"case.identity_verified": {
			"hukou_place": "line", "id_number": "ref", "name": "name", "notes": "notes", "reference": "ref",
		},
		"case.intake_registered": {
			"inspection.notes": "notes", "notes": "notes", "person.dialect": "line", "person.fingerprint_ref": "ref",
			"person.hukou_place": "line", "person.id_number": "ref", "person.name": "name", "person.photo_ref": "ref",
			"person.street_reason": "reason", "referral.form_no": "ref", "referral.found_at": "line",
			"referral.referred_by": "name",
		},
		"case.left_voluntarily":  {"declaration_ref": "ref", "notes": "notes", "receipt_ref": "ref"},
		"case.long_stay_started": {"notes": "notes", "place": "line"},
		"case.medical_referred":  {"hospital": "name", "notes": "notes", "reason": "reason"},
		"case.medical_returned":  {"notes": "notes"},
		"case.picked_up": {
			"collector.id_number": "ref", "collector.name": "name", "collector.relationship": "line",
			"notes": "notes",
		},
		"case.police_report_filed": {"agency": "name", "notes": "notes", "report_no": "ref"},
		"case.relatives_contacted": {
			"channel": "line", "notes": "notes", "outcome": "reason", "relationship": "line",
		},
		"case.security_checked": {
			"checked_by.staff_id": "ref", "items_to_police": "line", "notes": "notes",
		},
		"case.settlement_recorded": {"notes": "notes", "place": "line", "reference": "ref"},
		"case.stay_extended":       {"approved_by": "name", "notes": "notes", "reason": "reason"},
		"case.terminated":          {"notes": "notes", "reason": "reason"},
		"case.transfer_accepted":   {"notes": "notes"},
		"case.transfer_declined":   {"notes": "notes", "reason": "reason"},
		"case.transfer_requested":  {"notes": "notes", "reason": "reason"},
	}
	for typ, et := range Events.types {
		got := map[string]string{}
		for f, k := range et.fields.texts {
			got[f] = k.Name
		}
		if len(want[typ]) == 0 && len(got) == 0 {
			continue
		}
		if !maps.Equal(got, want[typ]) {
			t.Errorf("text kinds of %s = %v, want %v", typ, got, want[typ])
		}
	}
}
