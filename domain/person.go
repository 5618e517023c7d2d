package domain

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Sex is a person's sex as recorded at intake. Stored values: never rename
// or reuse them.
type Sex string

// The sexes docs/api.md accepts.
const (
	Male   Sex = "male"
	Female Sex = "female"
)

// Values lists the sexes.
func (Sex) Values() []string { return []string{string(Male), string(Female)} }

// Valid reports whether s is one of the known values.
func (s Sex) Valid() bool { return s == Male || s == Female }

// Date is a civil date without a time of day, written "2006-01-02" in JSON.
// The zero Date means "not given".
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// CivilZone is the time zone of civil dates: birthdays, ages, days of
// stay and the days statistics count. Stations are in China, which keeps
// China Standard Time (UTC+8, no daylight saving) everywhere, so a day
// begins at 00:00 in Beijing, not at 00:00 UTC.
var CivilZone = time.FixedZone("CST", 8*60*60)

// ParseDate reads a "2006-01-02" date and refuses impossible ones.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, fmt.Errorf("not a date in the form YYYY-MM-DD")
	}
	return DateOf(t), nil
}

// DateOf returns the date of t in t's location. For the civil date of a
// moment (the day it is in China), use CivilDate.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// CivilDate returns the civil date of the moment t: its date in CivilZone,
// whatever t's location (at 2026-03-01T20:00Z it is 2 March in Beijing).
func CivilDate(t time.Time) Date { return DateOf(t.In(CivilZone)) }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns the moment d begins: midnight at the start of d in
// CivilZone (2026-03-02 begins at 2026-03-01T16:00Z). Its location is
// CivilZone; AddDate on it moves by civil days and years.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, CivilZone) }

// String renders d as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Time().Format(time.DateOnly)
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; "" is the zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	p, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// YearsOn returns the number of whole years from d to the civil date of at
// (CivilDate: the date in CivilZone, whatever at's location), so a person
// born on d is that old on at and turns a year older at 00:00 in Beijing
// on the birthday. A 29 February birthday counts as reached on 1 March in
// common years.
func (d Date) YearsOn(at time.Time) int {
	c := CivilDate(at)
	y, m, day := c.Year, c.Month, c.Day
	n := y - d.Year
	if m < d.Month || (m == d.Month && day < d.Day) {
		n--
	}
	return n
}

// IDType is the kind of a person's identity document. Stored values:
// never rename or reuse them.
type IDType string

// The identity documents.
const (
	IDResidentCard IDType = "resident_id"
	IDPassport     IDType = "passport"
	IDHKMacao      IDType = "hk_macao_permit"
	IDTaiwan       IDType = "taiwan_permit"
	IDOther        IDType = "other"
)

var idTypes = []IDType{IDResidentCard, IDPassport, IDHKMacao, IDTaiwan, IDOther}

// Values lists the identity documents.
func (IDType) Values() []string { return strs(idTypes) }

// Valid reports whether t is a known identity document.
func (t IDType) Valid() bool { return slices.Contains(idTypes, t) }

// Contact is a relative or other contact a person names.
type Contact struct {
	Name         string `json:"name,omitempty" text:"name" doc:"The contact's name."`
	Relationship string `json:"relationship,omitempty" text:"line" doc:"How the contact is related to the person (e.g. sister, friend)."`
	Phone        string `json:"phone,omitempty" text:"ref" doc:"The contact's phone number."`
}

// Person is who a case is about, as registered at intake and later
// verified or corrected. Age is either BirthDate or EstimatedAge (an age in
// years estimated on AgeEstimatedOn, the intake's date when not given).
type Person struct {
	Name             string    `json:"name,omitempty" personal:"true" text:"name" doc:"The person's name, or the alias they give; leave it out when unknown."`
	Sex              Sex       `json:"sex" doc:"The person's sex: male or female."`
	BirthDate        Date      `json:"birth_date,omitzero" personal:"true" doc:"Date of birth (YYYY-MM-DD); give this or estimated_age."`
	EstimatedAge     *int      `json:"estimated_age,omitempty" doc:"Estimated age in whole years (0 to 120) when the date of birth is not known."`
	AgeEstimatedOn   Date      `json:"age_estimated_on,omitzero" doc:"The date the age was estimated on; the intake's date when left out."`
	IDType           IDType    `json:"id_type,omitempty" doc:"Kind of identity document: resident_id (mainland ID card, the default when a number is given), passport, hk_macao_permit, taiwan_permit or other."`
	IDNumber         string    `json:"id_number,omitempty" personal:"true" text:"ref" doc:"Number of the identity document; a resident ID number is checked, check digit included, and must agree with birth_date."`
	HukouPlace       string    `json:"hukou_place,omitempty" personal:"true" text:"line" doc:"Place of household registration (户籍地), as the person states it or their papers show."`
	Dialect          string    `json:"dialect,omitempty" personal:"true" text:"line" doc:"Dialect or language the person speaks, for finding their home."`
	CanStateIdentity *bool     `json:"can_state_identity,omitempty" doc:"Whether the person can state who they are; false for people who cannot (elderly, children, the ill or disabled)."`
	StreetReason     string    `json:"street_reason,omitempty" personal:"true" text:"reason" doc:"How the person came to be on the street, in their words or the staff's."`
	PhotoRef         string    `json:"photo_ref,omitempty" personal:"true" text:"ref" doc:"Reference of the photo taken at registration (where it is filed, not the image)."`
	FingerprintRef   string    `json:"fingerprint_ref,omitempty" personal:"true" text:"ref" doc:"Reference of the fingerprint record taken at registration."`
	Contacts         []Contact `json:"contacts,omitempty" personal:"true" max:"10" doc:"Relatives or others the person names, up to 10."`
}

// MaxAge is the highest age in years the model accepts.
const MaxAge = 120

// Validate checks the person's fields as of the intake time at; errors name
// the field below prefix (for example "person.birth_date"). A zero at skips
// the checks that need a date (birth date in the future, age over MaxAge).
func (p Person) Validate(prefix string, at time.Time) error {
	if !p.Sex.Valid() {
		return Invalid(prefix+".sex", "sex must be male or female")
	}
	if !p.BirthDate.IsZero() && p.EstimatedAge != nil {
		return Invalid(prefix+".estimated_age", "give birth_date or estimated_age, not both")
	}
	if p.IDNumber != "" {
		switch p.IDType {
		case "", IDResidentCard:
			born, err := CheckResidentID(p.IDNumber)
			if err != nil {
				return Invalid(prefix+".id_number", "%v", err)
			}
			if !p.BirthDate.IsZero() && born != p.BirthDate {
				return Invalid(prefix+".id_number", "the birth date inside the ID number differs from birth_date")
			}
		case IDPassport, IDHKMacao, IDTaiwan, IDOther:
		default:
			return Invalid(prefix+".id_type", "unknown id_type")
		}
	} else if p.IDType != "" && !p.IDType.Valid() {
		return Invalid(prefix+".id_type", "unknown id_type")
	}
	born := p.birthDate()
	if born.IsZero() && p.EstimatedAge == nil {
		return Invalid(prefix+".birth_date", "birth_date or estimated_age is required")
	}
	if !born.IsZero() && !at.IsZero() {
		if born.Time().After(at) {
			return Invalid(prefix+".birth_date", "birth date is in the future")
		}
		if born.YearsOn(at) > MaxAge {
			return Invalid(prefix+".birth_date", "age over %d", MaxAge)
		}
	}
	if p.EstimatedAge != nil && (*p.EstimatedAge < 0 || *p.EstimatedAge > MaxAge) {
		return Invalid(prefix+".estimated_age", "estimated age must be 0 to %d", MaxAge)
	}
	return nil
}

// birthDate returns the given birth date, or the one inside a resident ID
// number, or the zero Date.
func (p Person) birthDate() Date {
	if !p.BirthDate.IsZero() {
		return p.BirthDate
	}
	if p.IDNumber != "" && (p.IDType == "" || p.IDType == IDResidentCard) {
		if d, err := CheckResidentID(p.IDNumber); err == nil {
			return d
		}
	}
	return Date{}
}

// AgeOn returns the person's age in whole years on the civil date of at
// (in CivilZone) and whether it is known. An estimated age grows by the
// years passed since AgeEstimatedOn.
func (p Person) AgeOn(at time.Time) (int, bool) {
	if b := p.birthDate(); !b.IsZero() {
		return b.YearsOn(at), true
	}
	if p.EstimatedAge != nil {
		age := *p.EstimatedAge
		if !p.AgeEstimatedOn.IsZero() {
			if y := p.AgeEstimatedOn.YearsOn(at); y > 0 {
				age += y
			}
		}
		return age, true
	}
	return 0, false
}

var residentIDWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const residentIDCheck = "10X98765432"

// CheckResidentID checks a mainland resident ID number (GB 11643-1999): 18
// characters, 17 digits then a digit or X, a real birth date in characters
// 7 to 14, and the ISO 7064 MOD 11-2 check digit. It returns the birth date.
// Its errors never repeat the number.
func CheckResidentID(s string) (Date, error) {
	if len(s) != 18 {
		return Date{}, fmt.Errorf("a resident ID number has 18 characters")
	}
	sum := 0
	for i := range 17 {
		c := s[i]
		if c < '0' || c > '9' {
			return Date{}, fmt.Errorf("a resident ID number has 17 digits before the check character")
		}
		sum += int(c-'0') * residentIDWeights[i]
	}
	last := s[17]
	if last == 'x' {
		last = 'X'
	}
	if residentIDCheck[sum%11] != last {
		return Date{}, fmt.Errorf("the resident ID number's check digit is wrong")
	}
	y, _ := strconv.Atoi(s[6:10])
	m, _ := strconv.Atoi(s[10:12])
	d, _ := strconv.Atoi(s[12:14])
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1880 || t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return Date{}, fmt.Errorf("the resident ID number holds no valid birth date")
	}
	return Date{Year: y, Month: time.Month(m), Day: d}, nil
}

// ResidentIDCheckChar returns the check character for the first 17 digits
// of a resident ID number; it is how test data and forms complete a number.
func ResidentIDCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("need 17 digits")
	}
	sum := 0
	for i := range 17 {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("need 17 digits")
		}
		sum += int(c-'0') * residentIDWeights[i]
	}
	return residentIDCheck[sum%11], nil
}

// Inspection is the initial inspection at arrival (检视).
type Inspection struct {
	Injuries                bool   `json:"injuries,omitempty" doc:"Visible injuries."`
	Intoxicated             bool   `json:"intoxicated,omitempty" doc:"Drunk or under the influence."`
	SuspectedInfectious     bool   `json:"suspected_infectious,omitempty" doc:"Suspected infectious disease: the person goes to isolation and needs a medical referral."`
	SuspectedMentalDisorder bool   `json:"suspected_mental_disorder,omitempty" doc:"Suspected mental disorder: needs a medical referral; the stay limit and voluntary leave rules differ."`
	IntellectualDisability  bool   `json:"intellectual_disability,omitempty" doc:"Intellectual disability: the stay limit and voluntary leave rules differ."`
	PhysicalDisability      bool   `json:"physical_disability,omitempty" doc:"Physical disability."`
	SeriouslyIll            bool   `json:"seriously_ill,omitempty" doc:"Seriously ill: treat first, assist after."`
	SignsOfHarm             bool   `json:"signs_of_harm,omitempty" doc:"Signs of harm (abuse, violence); for a minor, report to the police at once."`
	SuspectedTrafficked     bool   `json:"suspected_trafficked,omitempty" doc:"Suspected victim of trafficking: report to the police at once."`
	SuspectedLost           bool   `json:"suspected_lost,omitempty" doc:"Suspected lost person (e.g. a child or an elderly person with dementia): report to the police at once."`
	Abandoned               bool   `json:"abandoned,omitempty" doc:"Abandoned by their family: report to the police at once."`
	Notes                   string `json:"notes,omitempty" text:"notes" doc:"Notes of the inspection; several lines allowed."`
}

// Flags a case can carry (Case.Flags). Stored and shown to clients: never
// rename or reuse them.
const (
	FlagMinor                   = "minor"
	FlagUnder16                 = "under_16"
	FlagUnder6                  = "under_6"
	FlagUnder14                 = "under_14"
	FlagElderly                 = "elderly"
	FlagAgeUnknown              = "age_unknown"
	FlagSuspectedInfectious     = "suspected_infectious"
	FlagSuspectedMentalDisorder = "suspected_mental_disorder"
	FlagIntellectualDisability  = "intellectual_disability"
	FlagPhysicalDisability      = "physical_disability"
	FlagCannotStateIdentity     = "cannot_state_identity"
	FlagPoliceReportDue         = "police_report_due"
	FlagUnidentified            = "unidentified"
	FlagGuardianship            = "guardianship"
)

// Age thresholds of the rules.
const (
	AdultAge           = 18
	VoluntaryLeaveAge  = 16
	MotherChildMaxAge  = 6
	SensitiveChildAge  = 14
	ElderlyAge         = 60
	StayLimitDays      = 10
	LongStayAfterDays  = 10
	SettlementAfterDay = 90
	MaxCashYuan        = 20
)
