package projections

import (
	"context"
	"fmt"
	"time"

	"waystation/domain"
	"waystation/eventstore"
)

// AsOf selects the moment a read describes. The zero AsOf is now, from the
// live views. With At set, the views are rebuilt from the log keeping the
// events that had happened by At (occurred_at), with everything recorded
// since ("what was true then"); with Known also set, only the events that
// had also been recorded by At ("what staff could have known then").
// Station registrations are reference data and are kept whatever their
// dates, so a station registered after a back-dated record is known as of
// that record's moment; its zone changes count from when they happened.
// Position, when not zero, further keeps only events at or before it; with
// At zero such a read is evaluated at the present time.
type AsOf struct {
	At       time.Time
	Known    bool
	Position eventstore.Position
}

// IsLive reports whether a is the present moment of the live views.
func (a AsOf) IsLive() bool { return a.At.IsZero() && a.Position.IsZero() }

// foldInto folds the log into m, keeping the events that asOf selects.
func (r *Runner) foldInto(ctx context.Context, m *model, asOf AsOf) error {
	var stop func(eventstore.Position) bool
	if !asOf.Position.IsZero() {
		stop = func(p eventstore.Position) bool { return asOf.Position.Before(p) }
	}
	var keep func(domain.Envelope) bool
	if !asOf.At.IsZero() {
		// Events that the moment filters out are not worth their payload.
		keep = asOf.happened
	}
	read := r.readCase(ctx, keep)
	err := readAll(ctx, r.store, m.pos, r.onUndecodable, keep, stop, func(envs []domain.Envelope) error {
		start := r.batchStart()
		for _, env := range envs {
			if !asOf.At.IsZero() && !asOf.keeps(env) {
				m.pos = env.Position
				continue
			}
			if err := m.apply(env, read); err != nil {
				return err
			}
		}
		r.batchDone(start, len(envs))
		return nil
	})
	if err != nil {
		return fmt.Errorf("projections: folding the log: %w", err)
	}
	return nil
}

// keeps reports whether env belongs to the world as of a.At: it had
// happened by then (see happened), or it is reference data.
func (a AsOf) keeps(env domain.Envelope) bool {
	if env.Event == nil {
		return false
	}
	return referenceType(env.Event.EventType()) || a.happened(env)
}

// referenceType reports whether events of the stored type typ are
// reference data, which an "as of" replay applies whatever their date: a
// station's registration. A station may be registered in Waystation after
// the first records of its cases (back-dated paperwork of a station that
// existed before), and a board as of such a record's moment must still know
// the station and its region. Zone changes stay bound to their date: a
// seasonal zone opened later was not there before it opened.
func referenceType(typ string) bool { return typ == domain.TypeStationRegistered }

// happened reports whether the event of env had happened by a.At (and,
// for a Known read, had been recorded by then), from its metadata alone.
func (a AsOf) happened(env domain.Envelope) bool {
	if env.Meta.OccurredAt.After(a.At) {
		return false
	}
	if a.Known {
		rec := env.Meta.RecordedAt
		if rec.IsZero() {
			rec = env.RecordedAt
		}
		return !rec.After(a.At)
	}
	return true
}

// view runs read against the model asOf selects: the live one under the
// read lock, or one folded afresh. It returns the evaluation time.
func (r *Runner) view(ctx context.Context, asOf AsOf, read func(m *model, at time.Time) error) error {
	if asOf.IsLive() {
		r.mu.RLock()
		defer r.mu.RUnlock()
		return read(r.live, r.opts.Now())
	}
	m := newModel()
	if err := r.foldInto(ctx, m, asOf); err != nil {
		return domain.Internal(err, "building the view as of a past moment failed")
	}
	at := asOf.At
	if at.IsZero() {
		at = r.opts.Now()
	}
	return read(m, at)
}
