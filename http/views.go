package http

import (
	"context"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/projections"
)

// RunnerViews answers the server's reads from the projections runner; it
// is what Config.Views holds in production.
type RunnerViews struct{ Runner *projections.Runner }

var _ Views = RunnerViews{}

// catchUpWait is how long a read of the live views waits, after a start,
// for them to catch up with the log before it answers 503: a half-folded
// board would show some alerts and hide others with nothing to say so.
const catchUpWait = 5 * time.Second

// caughtUp waits, at most catchUpWait, until the live views have caught up
// with the log since the start, and answers unavailable when they have not.
func (v RunnerViews) caughtUp(ctx context.Context) error {
	if err := v.Runner.WaitReady(ctx, catchUpWait); err != nil {
		return &domain.Error{Code: CodeUnavailable, Err: err,
			Message: "the views are still catching up with the log after a start; retry shortly"}
	}
	return nil
}

// caughtUpAt is caughtUp for a read as of a: a read of a past moment
// replays the log itself and needs no live views.
func (v RunnerViews) caughtUpAt(ctx context.Context, a AsOf) error {
	if !asOf(a).IsLive() {
		return nil
	}
	return v.caughtUp(ctx)
}

func asOf(a AsOf) projections.AsOf {
	return projections.AsOf{At: a.At, Known: a.Known, Position: a.Position}
}

func filter(f Filter) projections.Filter {
	return projections.Filter{Station: f.Station, Region: f.Region}
}

// WaitFor waits until the views have folded the log up to pos.
func (v RunnerViews) WaitFor(ctx context.Context, pos eventstore.Position) error {
	return v.Runner.WaitFor(ctx, pos)
}

// WaitWithin waits until the views have folded the log up to pos, at most
// d.
func (v RunnerViews) WaitWithin(ctx context.Context, pos eventstore.Position, d time.Duration) error {
	return v.Runner.WaitWithin(ctx, pos, d)
}

// Stations lists every station.
func (v RunnerViews) Stations(ctx context.Context) ([]projections.StationInfo, error) {
	if err := v.caughtUp(ctx); err != nil {
		return nil, err
	}
	return v.Runner.Stations(), nil
}

// Station shows one station, or not_found.
func (v RunnerViews) Station(ctx context.Context, code string) (projections.StationInfo, error) {
	if err := v.caughtUp(ctx); err != nil {
		return projections.StationInfo{}, err
	}
	st, ok := v.Runner.Station(code)
	if !ok {
		return st, domain.NotFound("no such station")
	}
	return st, nil
}

// Occupancy shows a station's beds and residents as of a.
func (v RunnerViews) Occupancy(ctx context.Context, code string, a AsOf) (projections.Occupancy, error) {
	if err := v.caughtUpAt(ctx, a); err != nil {
		return projections.Occupancy{}, err
	}
	return v.Runner.Occupancy(code, asOf(a))
}

// Safety shows the safety board of f as of a.
func (v RunnerViews) Safety(ctx context.Context, f Filter, a AsOf) (projections.SafetyBoard, error) {
	if err := v.caughtUpAt(ctx, a); err != nil {
		return projections.SafetyBoard{}, err
	}
	return v.Runner.Safety(filter(f), asOf(a))
}

// Worklist shows the worklist of f as of a.
func (v RunnerViews) Worklist(ctx context.Context, f Filter, a AsOf) (projections.Worklist, error) {
	if err := v.caughtUpAt(ctx, a); err != nil {
		return projections.Worklist{}, err
	}
	return v.Runner.Worklist(filter(f), asOf(a))
}

// Transfers shows the transfer board q selects as of a.
func (v RunnerViews) Transfers(ctx context.Context, q projections.TransferQuery, a AsOf) (projections.TransferBoard, error) {
	if err := v.caughtUpAt(ctx, a); err != nil {
		return projections.TransferBoard{}, err
	}
	return v.Runner.Transfers(q, asOf(a))
}

// SearchCases searches cases.
func (v RunnerViews) SearchCases(ctx context.Context, q CaseQuery) (projections.CasePage, error) {
	if err := v.caughtUp(ctx); err != nil {
		return projections.CasePage{}, err
	}
	return v.Runner.SearchCases(projections.CaseQuery{
		Station: q.Station, Region: q.Region, Status: string(q.Status), Q: q.Q, Number: q.Number,
		Limit: q.Limit, Cursor: q.Cursor,
	})
}

// Stats answers the statistics of f over p.
func (v RunnerViews) Stats(ctx context.Context, f Filter, p projections.Period) (projections.Stats, error) {
	if err := v.caughtUp(ctx); err != nil {
		return projections.Stats{}, err
	}
	return v.Runner.Stats(filter(f), p)
}

// History shows a case's timeline and state as of a, or up to version.
func (v RunnerViews) History(ctx context.Context, id uuid.UUID, a AsOf, version uint64) (projections.History, error) {
	if err := v.caughtUp(ctx); err != nil {
		return projections.History{}, err
	}
	return v.Runner.History(id, asOf(a), int(version))
}

// Person lists the cases linked to case id's person, from the live views.
func (v RunnerViews) Person(ctx context.Context, id uuid.UUID) ([]projections.PersonCase, error) {
	if err := v.caughtUp(ctx); err != nil {
		return nil, err
	}
	return v.Runner.Person(id)
}

// Matches lists the cases the person index links to p, from the live
// views.
func (v RunnerViews) Matches(ctx context.Context, p domain.Person) ([]projections.PersonCase, error) {
	if err := v.caughtUp(ctx); err != nil {
		return nil, err
	}
	return v.Runner.Matches(p), nil
}

// RepeatVisitors lists a page of the repeat visitors whose latest case q
// selects, from the live views.
func (v RunnerViews) RepeatVisitors(ctx context.Context, q RepeatVisitorQuery) (projections.RepeatVisitorPage, error) {
	if err := v.caughtUp(ctx); err != nil {
		return projections.RepeatVisitorPage{}, err
	}
	return v.Runner.RepeatVisitors(projections.RepeatVisitorQuery{
		Filter: filter(q.Filter), Limit: q.Limit, Cursor: q.Cursor,
	})
}
