package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// BundleReport is what VerifyBundle found.
type BundleReport struct {
	CaseID    uuid.UUID `json:"case_id"`
	TreeSize  int64     `json:"tree_size"`
	Events    int       `json:"events"`
	CaseEvent int       `json:"case_events"`
	// FirstVersion and LastVersion are the case's versions that the
	// bundle proves with no gap, numbered as the API numbers them (1 is
	// the intake, and LastVersion the version of GET /v1/cases/{id} when
	// nothing was recorded since the export).
	FirstVersion uint64 `json:"first_version"`
	LastVersion  uint64 `json:"last_version"`
	// KeyPinned is false when the bundle's own verifier key was used: the
	// bundle is then consistent, but only a pinned key (--key) ties it to
	// the station's log.
	KeyPinned bool `json:"key_pinned"`
}

// ErrBundleInvalid reports a bundle that does not verify.
var ErrBundleInvalid = errors.New("export does not verify")

// VerifyBundle checks a bundle offline: the tree head's signature and the
// bundle's own signature (against key when given, else the bundle's own
// verifier key), every event's leaf recomputed from its stored bytes and
// its inclusion proof in that tree, and that the events of the case's
// stream (caseStream of the bundle's case ID) run from its version 1 (the
// intake) with no gap (nothing removed). It needs no server and no data
// folder; any error wraps ErrBundleInvalid. The report and the errors
// number the case's events as the API does, by version.
func VerifyBundle(b []byte, key string, caseStream func(uuid.UUID) string) (BundleReport, error) {
	if err := checkNoDuplicateKeys(b); err != nil {
		return BundleReport{}, invalid("not a Waystation export: %v", err)
	}
	var e Bundle
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return BundleReport{}, invalid("not a Waystation export: %v", err)
	}
	if e.Format != BundleFormat {
		return BundleReport{}, invalid("format %q, want %q", e.Format, BundleFormat)
	}
	rep := BundleReport{CaseID: e.CaseID, KeyPinned: key != ""}
	if key == "" {
		key = e.VerifierKey
	}
	head, err := e.checkSignatures(key)
	if err != nil {
		return rep, err
	}
	rep.TreeSize = head.Size
	stream := caseStream(e.CaseID)
	next := uint64(0)
	for i, ev := range e.Events {
		rec, err := ev.record()
		if err != nil {
			return rep, invalid("event %d: %v", i+1, err)
		}
		proof := make(tlog.RecordProof, len(ev.Proof))
		for j, p := range ev.Proof {
			h, err := base64.StdEncoding.DecodeString(p)
			if err != nil || len(h) != len(tlog.Hash{}) {
				return rep, invalid("event %d: malformed proof", i+1)
			}
			copy(proof[j][:], h)
		}
		if err := CheckInclusion(proof, head.Tree(), ev.Index, LeafOf(rec)); err != nil {
			return rep, invalid("event %d (position %s) is not in the signed log as exported: %v",
				i+1, ev.Position, err)
		}
		if rec.Stream == stream {
			// The API's version of the case after its event of revision r
			// is r + 1; next is the revision due, so the last version
			// proven so far is next.
			switch {
			case rec.Revision != next && next == 0:
				return rep, invalid("the case's events begin at version %d, not 1: some were left out",
					rec.Revision+1)
			case rec.Revision != next:
				return rep, invalid("the case's version %d is followed by version %d, not %d: "+
					"events were left out or repeated", next, rec.Revision+1, next+1)
			}
			next++
			rep.CaseEvent++
		}
		rep.Events++
	}
	if rep.CaseEvent == 0 {
		return rep, invalid("no event of the case")
	}
	rep.FirstVersion, rep.LastVersion = 1, next
	return rep, nil
}

// checkSignatures opens e's tree head and checks e's own signature, both
// against key, and returns the head.
func (e Bundle) checkSignatures(key string) (SignedTreeHead, error) {
	head, err := OpenTreeHead([]byte(e.TreeHead.Note), key)
	if err != nil {
		return SignedTreeHead{}, invalid("tree head: %v", err)
	}
	if head.Size != e.TreeHead.Size || base64.StdEncoding.EncodeToString(head.Root[:]) != e.TreeHead.Root {
		return SignedTreeHead{}, invalid("the tree head's fields differ from its signed note")
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(key))
	if err != nil {
		return SignedTreeHead{}, invalid("malformed verifier key")
	}
	signed, err := note.Open([]byte(e.Signature), note.VerifierList(verifier))
	if err != nil {
		return SignedTreeHead{}, invalid("the bundle's signature: %v", err)
	}
	if want, err := e.noteText(); err != nil || signed.Text != want {
		return SignedTreeHead{}, invalid("the bundle was changed after it was signed")
	}
	return head, nil
}

// invalid returns an error wrapping ErrBundleInvalid with the message of
// format and args.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBundleInvalid, fmt.Sprintf(format, args...))
}

// checkNoDuplicateKeys refuses a JSON document in which an object names a
// member twice (compared as encoding/json matches names: without regard
// to case). The signature covers the bundle as decoded, where the last of
// two members wins; a reader or tool that keeps the first would show an
// unsigned value (say, a forged display section) next to a verified
// bundle.
func checkNoDuplicateKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	// One entry per open container: the member names seen so far in an
	// object, or nil for an array.
	var stack [][]string
	expectKey := func() bool {
		return len(stack) > 0 && stack[len(stack)-1] != nil
	}
	afterValue := true // in an object, whether the next string is a name
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, []string{})
				afterValue = true
				continue
			case '[':
				stack = append(stack, nil)
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		case string:
			if expectKey() && afterValue {
				names := stack[len(stack)-1]
				for _, n := range names {
					if strings.EqualFold(n, t) {
						return errors.New("an object names a member twice")
					}
				}
				stack[len(stack)-1] = append(names, t)
				afterValue = false
				continue
			}
		}
		afterValue = true
	}
}
