package domain

// The access log (docs/privacy.md): every read of a case by an
// inspector, coordinator or admin is a CaseRead event on CaseReadsStream.

// TypeCaseRead is the stored name of CaseRead. Never rename or reuse it.
const TypeCaseRead = "access.case_read"

// CaseReadsStream is the stream that holds the access log of case reads.
const CaseReadsStream = "access-log"

// CaseRead records that an actor read a case's state or history: who (the
// token's ID and role), which case, and which route. When is the event's
// occurred-at time. It holds no personal data beyond the case ID.
type CaseRead struct {
	CaseID string `json:"case_id"`
	Reader string `json:"reader"`
	Role   Role   `json:"role"`
	Route  string `json:"route"`
}

// EventType returns TypeCaseRead.
func (CaseRead) EventType() string { return TypeCaseRead }

func init() {
	if err := Register[CaseRead](Events, 1); err != nil {
		panic(err)
	}
}
