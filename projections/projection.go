package projections

import (
	"strconv"

	"waystation/domain"
)

// ViewsName and ViewsVersion name the built-in views' checkpoint. Bump
// ViewsVersion when a change to the views' fold must not be mixed with
// state folded by an earlier version.
const (
	ViewsName    = "views"
	ViewsVersion = 1
)

// Projection is a named, versioned fold over the global log whose state
// lives outside the process (a file, a table): the Runner feeds it every
// event after its saved checkpoint, in order, and saves its checkpoint in
// batches. Each version has its own checkpoint: a Projection given in
// Options.Projections with a new Version starts again from the first event
// into whatever fresh state it keeps for that version, and answers reads
// from that state while it catches up. To keep the previous version
// answering reads until the new one has caught up, give both as an
// Upgrade instead.
type Projection interface {
	// Name is the projection's stable name.
	Name() string
	// Version is the fold's version.
	Version() int
	// Apply folds one event. An error stops the Runner.
	Apply(env domain.Envelope) error
	// Flush makes everything applied so far durable; the Runner calls it
	// before saving the projection's checkpoint, so that after a restart
	// nothing is applied twice or skipped.
	Flush() error
}

// checkpointName is the name a projection's checkpoint is saved under.
func checkpointName(name string, version int) string {
	return "projections." + name + ".v" + strconv.Itoa(version)
}
