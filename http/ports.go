package http

import (
	"context"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/audit"
	"waystation/projections"
)

// Options are what a request adds to a command (idempotency key, If-Match).
type Options = domain.Options

// Result is where a recorded step left its target.
type Result = domain.Result

// Service records steps through the domain: it loads the target, decides,
// and appends. Its errors are *domain.Error (rule violations, conflicts,
// precondition failures, idempotency-key reuse, forbidden steps): it
// validates and authorizes every command itself. *domain.Service satisfies it.
type Service interface {
	Case(ctx context.Context, id uuid.UUID) (domain.Case, error)
	Intake(ctx context.Context, actor domain.Actor, cmd *domain.Intake, opts Options) (Result, error)
	Execute(ctx context.Context, actor domain.Actor, id uuid.UUID, cmd domain.Command, opts Options) (Result, error)
	RegisterStation(ctx context.Context, actor domain.Actor, cmd *domain.RegisterStation, opts Options) (Result, error)
	ChangeZones(ctx context.Context, actor domain.Actor, code string, cmd *domain.ChangeZones, opts Options) (Result, error)
	IssueToken(ctx context.Context, actor domain.Actor, cmd *domain.IssueToken, opts Options) (Result, error)
	RevokeToken(ctx context.Context, actor domain.Actor, cmd *domain.RevokeToken, opts Options) (Result, error)
	// AccountCommand decides and records an account step on the access
	// stream (domain.Service.AccountCommand).
	AccountCommand(ctx context.Context, actor domain.Actor, cmd domain.Command, opts Options) (Result, error)
	// RecordSessions appends session events to the sessions stream,
	// expecting its length when expected is set.
	RecordSessions(ctx context.Context, actor domain.Actor, expected *uint64, events ...domain.Event) (Result, error)
	// SessionsSince folds the sessions stream's events recorded since
	// then into a and returns the stream's length.
	SessionsSince(ctx context.Context, a *domain.Accounts, since time.Time) (uint64, error)
}

// AsOf is the moment a board is shown at: the zero AsOf is now; Known
// limits it to what had been recorded by At; a non-zero Position keeps
// only the events of the log up to it (with At zero, evaluated now).
type AsOf struct {
	At       time.Time
	Known    bool
	Position eventstore.Position
}

// Filter narrows a board to a station or a region (both empty: everywhere).
type Filter struct {
	Station string
	Region  string
}

// CaseQuery is a case search.
type CaseQuery struct {
	Station string
	Region  string
	Status  domain.Status
	Q       string
	Number  string
	Limit   int
	Cursor  string
}

// RepeatVisitorQuery selects a page of repeat visitors: those whose latest
// case is at a station Filter selects, at most Limit, from Cursor (the
// NextCursor of the previous page; empty: the first page).
type RepeatVisitorQuery struct {
	Filter
	Limit  int
	Cursor string
}

// Views is the read side (the projections runner). Every result is the
// projections' own type, served as JSON as docs/api.md shows it (and as the
// route table describes it); an unknown station answers a not-found
// *domain.Error.
type Views interface {
	// WaitFor returns once every view has folded the log up to pos.
	WaitFor(ctx context.Context, pos eventstore.Position) error
	Stations(ctx context.Context) ([]projections.StationInfo, error)
	Station(ctx context.Context, code string) (projections.StationInfo, error)
	Occupancy(ctx context.Context, code string, asOf AsOf) (projections.Occupancy, error)
	Safety(ctx context.Context, f Filter, asOf AsOf) (projections.SafetyBoard, error)
	// Worklist is what is due soon and overdue on the stations f selects,
	// as of asOf.
	Worklist(ctx context.Context, f Filter, asOf AsOf) (projections.Worklist, error)
	// Transfers is the transfer board q selects; an unknown state is
	// invalid.
	Transfers(ctx context.Context, q projections.TransferQuery, asOf AsOf) (projections.TransferBoard, error)
	SearchCases(ctx context.Context, q CaseQuery) (projections.CasePage, error)
	// Stats are the statistics of f over p; a period that is empty,
	// starts in the future or spans more than projections.MaxStatsDays
	// dates is invalid.
	Stats(ctx context.Context, f Filter, p projections.Period) (projections.Stats, error)
	// History is a case's timeline (its own events and the station events
	// about it, in global order) and its state, as of a moment or up to a
	// version (0: all); an unknown case answers not_found. The server
	// refuses a version beyond the case's before it asks.
	History(ctx context.Context, id uuid.UUID, asOf AsOf, version uint64) (projections.History, error)
	// Person lists every case the person index links to case id's person,
	// id's own included, oldest first; a case the views do not hold is
	// not_found.
	Person(ctx context.Context, id uuid.UUID) ([]projections.PersonCase, error)
	// Matches lists every case the person index links to person p, as it
	// would link a new case of p, oldest first.
	Matches(ctx context.Context, p domain.Person) ([]projections.PersonCase, error)
	// RepeatVisitors lists a page of the people with more than one case
	// whose latest case is at a station q selects, most recent intake
	// first, each with all their cases; an unknown station or region is
	// not_found, a cursor not from a previous page invalid.
	RepeatVisitors(ctx context.Context, q RepeatVisitorQuery) (projections.RepeatVisitorPage, error)
}

// Audit is the tamper-evidence source: signed tree heads and inclusion
// proofs. *bolt.Store satisfies it.
type Audit interface {
	TreeHead(ctx context.Context) (audit.SignedTreeHead, error)
	InclusionProof(ctx context.Context, pos eventstore.Position, treeSize int64) (tlog.RecordProof, error)
	VerifierKey() string
}
