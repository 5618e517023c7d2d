package eventstore

import (
	"fmt"
	"strconv"
	"strings"
)

// Position is a place in the global log. On the embedded store Commit and
// Prepare are equal and dense (1, 2, 3, ...); on EventStoreDB they are the
// server's commit and prepare positions. Code outside a backend compares
// positions and never does arithmetic on them. The zero Position is "before
// the first event".
type Position struct {
	Commit  uint64
	Prepare uint64
}

// Start is the position before the first event of the global log.
var Start = Position{}

// End is the position after the last event of the global log, for reading
// backwards from the end.
var End = Position{Commit: ^uint64(0), Prepare: ^uint64(0)}

// At returns the position whose commit and prepare parts are both n, as the
// embedded store assigns them.
func At(n uint64) Position { return Position{Commit: n, Prepare: n} }

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Position) Compare(q Position) int {
	switch {
	case p.Commit < q.Commit:
		return -1
	case p.Commit > q.Commit:
		return 1
	case p.Prepare < q.Prepare:
		return -1
	case p.Prepare > q.Prepare:
		return 1
	}
	return 0
}

// Before reports whether p comes before q in the global log.
func (p Position) Before(q Position) bool { return p.Compare(q) < 0 }

// IsZero reports whether p is Start.
func (p Position) IsZero() bool { return p == Start }

// String renders p as "N" when commit and prepare agree, else "C/P". It is
// the form clients see and hand back (ParsePosition reads it).
func (p Position) String() string {
	if p.Commit == p.Prepare {
		return strconv.FormatUint(p.Commit, 10)
	}
	return strconv.FormatUint(p.Commit, 10) + "/" + strconv.FormatUint(p.Prepare, 10)
}

// ParsePosition reads the form that String writes.
func ParsePosition(s string) (Position, error) {
	c, p, two := strings.Cut(s, "/")
	commit, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("position %q: not a log position", s)
	}
	if !two {
		return At(commit), nil
	}
	prepare, err := strconv.ParseUint(p, 10, 64)
	if err != nil {
		return Position{}, fmt.Errorf("position %q: not a log position", s)
	}
	return Position{Commit: commit, Prepare: prepare}, nil
}

// MarshalText implements encoding.TextMarshaler with String's form.
func (p Position) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParsePosition.
func (p *Position) UnmarshalText(b []byte) error {
	q, err := ParsePosition(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}
