package domain

import (
	"time"

	"github.com/google/uuid"
)

// zoneFits refuses a zone that does not fit the person on at: adult men in
// the male zone, adult women in the female zone, minors in the minors' zone,
// women and their linked children under 6 in the mother-and-child room, the
// elderly and disabled in care; observation and isolation take anyone, and a
// suspected infectious disease goes to isolation only.
func zoneFits(c Case, z Zone, at time.Time) error {
	age, ok := c.AgeOn(at)
	minor := !ok || age < AdultAge
	if c.Inspection.SuspectedInfectious && z != ZoneIsolation {
		return Violation(RuleZoneDoesNotFit, "a suspected infectious disease goes to isolation")
	}
	fits := false
	switch z {
	case ZoneIsolation, ZoneObservation:
		fits = true
	case ZoneAdultMale:
		fits = !minor && c.Person.Sex == Male
	case ZoneAdultFemale:
		fits = !minor && c.Person.Sex == Female
	case ZoneMinors:
		fits = minor
	case ZoneMotherChild:
		fits = (!minor && c.Person.Sex == Female) || (ok && age < MotherChildMaxAge && c.MotherCaseID != uuid.UUID{})
	case ZoneCare:
		fits = !minor && (age >= ElderlyAge || c.Disabled() || c.Inspection.PhysicalDisability || c.Inspection.SeriouslyIll)
	}
	if !fits {
		return Violation(RuleZoneDoesNotFit, "the zone does not fit the person's sex, age or condition")
	}
	return nil
}

// DecideBed decides a bed step (AssignBed or ReleaseBed) of case c on the
// stream of its station st, with the guards the steps declare (the bed
// the case holds is st's, whatever c.Bed says). It is pure. A case already in a bed that is
// assigned another one is moved: its old bed is released first. A child
// under 6 linked to a mother placed in the mother-and-child room shares the
// mother's bed.
func DecideBed(st *Station, c Case, cmd Command, now time.Time) ([]Event, error) {
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	at := OccurredAt(cmd, now)
	if err := checkTime(c, at, now); err != nil {
		return nil, err
	}
	if !c.Exists() {
		return nil, NotFound("no such case")
	}
	if !st.Registered() || st.Code != c.Station {
		return nil, Violation(RuleAwayFromStation, "the case is not at this station")
	}
	current, inBed := st.BedOf(c.ID)
	c.Bed = nil
	if inBed {
		c.Bed = &Bed{Zone: current.Zone, Bed: current.Bed}
	}
	switch v := cmd.(type) {
	case *ReleaseBed:
		if err := check(c, at, caseStepRules[StepBedRelease].when...); err != nil {
			return nil, err
		}
		return one(BedReleased{CaseID: c.ID, Zone: current.Zone, Bed: current.Bed, Reason: ReleaseByStaff})
	case *AssignBed:
		if cmd.common().LegalBasis == BasisGuardianConsent && c.Guardianship != nil {
			return nil, Violation(RuleGuardianConsentCircular,
				"civil affairs is the guardian; its own consent is no legal basis")
		}
		if err := check(c, at, caseStepRules[StepBed].when...); err != nil {
			return nil, err
		}
		zb, ok := st.ZoneBeds(v.Zone)
		if !ok || zb.Beds+zb.Seasonal == 0 {
			return nil, Violation(RuleZoneNotAtStation, "the station has no beds in that zone")
		}
		if err := zoneFits(c, v.Zone, at); err != nil {
			return nil, err
		}
		var out []Event
		if inBed {
			if current.Zone == v.Zone && (v.Bed == "" || v.Bed == current.Bed) {
				return nil, nil
			}
			out = append(out, BedReleased{CaseID: c.ID, Zone: current.Zone, Bed: current.Bed, Reason: ReleaseMoved})
		}
		assign := BedAssigned{CaseID: c.ID, Zone: v.Zone, Bed: v.Bed}
		if age, ok := c.AgeOn(at); v.Zone == ZoneMotherChild && ok && age < AdultAge {
			mother, ok := st.BedOf(c.MotherCaseID)
			if !ok || mother.Zone != ZoneMotherChild {
				return nil, Violation(RuleZoneDoesNotFit, "a child stays in the mother-and-child room with their mother only")
			}
			if v.Bed != "" && v.Bed != mother.Bed {
				return nil, Violation(RuleBedTaken, "the child shares the mother's bed")
			}
			assign.Bed = mother.Bed
			assign.MotherCaseID = c.MotherCaseID
			return append(out, assign), nil
		}
		if v.Bed != "" {
			if !st.HasBed(v.Zone, v.Bed) {
				return nil, Violation(RuleUnknownBed, "the zone has no such bed")
			}
			if occ := st.Occupants(v.Bed); len(occ) > 0 && !(len(occ) == 1 && occ[0] == c.ID) {
				return nil, Violation(RuleBedTaken, "the bed is taken")
			}
			return append(out, assign), nil
		}
		free := st.FreeBeds(v.Zone)
		if inBed && current.Zone == v.Zone {
			free = append(free, current.Bed)
		}
		if len(free) == 0 {
			return nil, Violation(RuleZoneFull, "every bed of the zone is taken")
		}
		assign.Bed = free[0]
		return append(out, assign), nil
	}
	return nil, Internal(nil, "the step %q is not a bed step", cmd.Step())
}

// ReleaseNeeded reports whether case c may no longer hold a bed at the
// station with code, as of now: it ended, moved to another station, or has
// been in hospital longer than hold (a zero hold frees the bed at
// admission). In transit the bed is kept until the handover. The returned
// BedRelease names the case event that made the release necessary.
func ReleaseNeeded(c Case, code string, hold time.Duration, now time.Time) (BedRelease, bool) {
	rel := BedRelease{Station: code, Reason: ReleaseReconciled}
	if c.ReleaseDue != nil {
		rel = *c.ReleaseDue
		rel.Station = code
	}
	switch {
	case !c.Exists():
		return rel, false
	case c.Status.Ended(), c.Station != code:
		return rel, true
	case c.Status == StatusInHospital:
		if c.Medical.AdmittedAt.IsZero() {
			return rel, false
		}
		if hold > 0 {
			if now.Sub(c.Medical.AdmittedAt) < hold {
				return rel, false
			}
			rel.Reason = ReleaseHoldExpiry
			rel.At = c.Medical.AdmittedAt.Add(hold)
		}
		return rel, true
	}
	return rel, false
}

// DecideRelease returns the station event that frees case id's bed for rel,
// or nothing when the case holds no bed at st. It is pure.
func DecideRelease(st *Station, id uuid.UUID, rel BedRelease) []Event {
	p, ok := st.BedOf(id)
	if !ok {
		return nil
	}
	return []Event{BedReleased{CaseID: id, Zone: p.Zone, Bed: p.Bed, Reason: rel.Reason, Cause: rel.Cause}}
}

// DecideStation decides a station command (RegisterStation or ChangeZones)
// on the station's state. It is pure.
func DecideStation(st *Station, cmd Command, now time.Time) ([]Event, error) {
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if err := checkTime(Case{}, OccurredAt(cmd, now), now); err != nil {
		return nil, err
	}
	switch v := cmd.(type) {
	case *RegisterStation:
		if st.Registered() {
			return nil, &Error{Code: CodeConflict, Rule: RuleStationExists, Message: "a station with that code exists"}
		}
		return one(StationRegistered{Code: v.Code, Name: v.Name, Region: v.Region, Kind: v.Kind, Zones: v.Zones})
	case *ChangeZones:
		if !st.Registered() {
			return nil, NotFound("no such station")
		}
		next := Station{Zones: v.Zones}
		for _, p := range st.Placements() {
			if !next.HasBed(p.Zone, p.Bed) {
				return nil, Violation(RuleBedOccupied, "an occupied bed would disappear; move its occupant first")
			}
		}
		return one(ZonesChanged{Zones: v.Zones})
	}
	return nil, Internal(nil, "the step %q is not a station step", cmd.Step())
}

// DecideAccess decides a token command (IssueToken or RevokeToken) on the
// access stream's state. stationKnown says whether a staff token's station
// is registered. It is pure.
func DecideAccess(a *Access, cmd Command, stationKnown bool, now time.Time) ([]Event, error) {
	if err := cmd.Validate(); err != nil {
		return nil, err
	}
	if err := checkTime(Case{}, OccurredAt(cmd, now), now); err != nil {
		return nil, err
	}
	switch v := cmd.(type) {
	case *IssueToken:
		if _, dup := a.Token(v.ID); dup {
			return nil, &Error{Code: CodeConflict, Rule: RuleTokenExists, Message: "a token with that ID exists"}
		}
		if _, dup := a.byHash[v.Hash]; dup {
			return nil, &Error{Code: CodeConflict, Rule: RuleTokenExists, Message: "a token with that secret exists"}
		}
		if v.Role == RoleStaff && !stationKnown {
			return nil, Violation(RuleUnknownStation, "no station with that code")
		}
		st, rg := v.Station, v.Region
		switch v.Role {
		case RoleAdmin:
			st, rg = "", ""
		case RoleCoordinator, RoleInspector:
			st = ""
		}
		return one(TokenIssued{ID: v.ID, Name: v.Name, Role: v.Role, Station: st, Region: rg, Hash: v.Hash})
	case *RevokeToken:
		t, ok := a.Token(v.ID)
		if !ok {
			return nil, NotFound("no such token")
		}
		if t.Revoked {
			return nil, Violation(RuleTokenRevoked, "the token is already revoked")
		}
		return one(TokenRevoked{ID: v.ID})
	}
	return nil, Internal(nil, "the step %q is not a token step", cmd.Step())
}
