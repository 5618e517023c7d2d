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

func asOf(a AsOf) projections.AsOf { return projections.AsOf{At: a.At, Known: a.Known} }

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
func (v RunnerViews) Stations(context.Context) (any, error) {
	return map[string]any{"items": v.Runner.Stations()}, nil
}

// Station shows one station, or not_found.
func (v RunnerViews) Station(_ context.Context, code string) (any, error) {
	st, ok := v.Runner.Station(code)
	if !ok {
		return nil, domain.NotFound("no such station")
	}
	return st, nil
}

// Occupancy shows a station's beds and residents as of a.
func (v RunnerViews) Occupancy(_ context.Context, code string, a AsOf) (any, error) {
	return v.Runner.Occupancy(code, asOf(a))
}

// Safety shows the safety board of f as of a.
func (v RunnerViews) Safety(_ context.Context, f Filter, a AsOf) (any, error) {
	return v.Runner.Safety(filter(f), asOf(a))
}

// Transfers shows the transfers in flight in region as of a.
func (v RunnerViews) Transfers(_ context.Context, region string, a AsOf) (any, error) {
	return v.Runner.Transfers(region, asOf(a))
}

// SearchCases searches cases.
func (v RunnerViews) SearchCases(_ context.Context, q CaseQuery) (any, error) {
	return v.Runner.SearchCases(projections.CaseQuery{Station: q.Station, Region: q.Region, Status: string(q.Status), Q: q.Q, Limit: q.Limit, Cursor: q.Cursor})
}

// Stats answers the statistics of f over [from, to).
func (v RunnerViews) Stats(_ context.Context, f Filter, from, to time.Time) (any, error) {
	return v.Runner.Stats(filter(f), from, to)
}

// History shows a case's timeline and state as of a, or up to version.
func (v RunnerViews) History(_ context.Context, id uuid.UUID, a AsOf, version uint64) (any, error) {
	return v.Runner.History(id, asOf(a), int(version))
}
