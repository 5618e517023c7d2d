package ops

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/audit"
	"waystation/projections"
)

// ExportFormat names the layout of an inspector's bundle; a new layout
// gets a new name.
const ExportFormat = "waystation-export/v1"

// Export is an inspector's self-contained bundle of one case: every event
// of the case's stream and every station event about it, as stored
// (sealed personal values stay sealed: the proof is about the stored
// record), each with what its Merkle leaf is made of and its inclusion
// proof in the tree of one signed tree head; the verifier key; and, apart
// and not proven, the events as they read now (personal values opened, or
// null once erased) for display. VerifyExport checks it with no server.
type Export struct {
	Format      string          `json:"format" doc:"The bundle's format and version."`
	CaseID      uuid.UUID       `json:"case_id" doc:"The exported case."`
	ExportedAt  time.Time       `json:"exported_at" doc:"When the bundle was made."`
	TreeHead    ExportTreeHead  `json:"tree_head" doc:"The signed tree head every proof is against."`
	VerifierKey string          `json:"verifier_key" doc:"The public key that verifies the tree head and the bundle's signature."`
	Events      []ExportedEvent `json:"events" doc:"The case's events and the station events about it, as stored, each with its proof."`
	// Opened is for display only: it is not covered by the proofs (the
	// signature covers it, so it is what the server showed).
	Opened []OpenedEvent `json:"opened,omitempty" doc:"The same events as they read now, for display: not covered by the proofs."`
	// Signature is a note signed with the log's signing key over the
	// SHA-256 of the bundle with Signature empty: a change anywhere in the
	// bundle, the display section included, fails verification.
	Signature string `json:"signature" doc:"Signed note over the SHA-256 of the bundle with this field empty."`
}

// exportNoteText is the signed text of a bundle: distinct from a tree
// head's, so that one can never pass for the other.
func exportNoteText(e Export) (string, error) {
	e.Signature = ""
	b, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return ExportFormat + "\ncase " + e.CaseID.String() + "\nsha256 " + hex.EncodeToString(sum[:]) + "\n", nil
}

// ExportTreeHead is the signed tree head the proofs are against.
type ExportTreeHead struct {
	Size int64  `json:"size" doc:"Number of events the tree covers."`
	Root string `json:"root" doc:"The tree's root hash, base64."`
	Note string `json:"note" doc:"The signed checkpoint note."`
}

// ExportedEvent is one stored event with its leaf index and inclusion
// proof. Data and Metadata are the stored bytes, base64; RecordedAtNanos
// is the recorded time in Unix nanoseconds, and Revision the event's
// number in its stream from 0, as the leaf has them (the API's version of
// the stream after the event is Revision + 1).
type ExportedEvent struct {
	Index           int64    `json:"leaf_index" doc:"The event's leaf index in the tree."`
	Position        string   `json:"position" doc:"Its position in the global log."`
	Stream          string   `json:"stream" doc:"Its stream."`
	Revision        uint64   `json:"revision" doc:"Its revision in the stream, from 0."`
	ID              string   `json:"id" doc:"Its ID."`
	Type            string   `json:"type" doc:"Its stored type."`
	RecordedAtNanos int64    `json:"recorded_at_unix_nano" doc:"When it was recorded, in Unix nanoseconds, as the leaf has it."`
	Data            string   `json:"data" doc:"Its data as stored (personal values sealed), base64."`
	Metadata        string   `json:"metadata" doc:"Its metadata as stored, base64."`
	Proof           []string `json:"proof" doc:"Its inclusion proof's hashes, base64."`
}

// OpenedEvent is an event as it reads now, for display.
type OpenedEvent struct {
	Position string          `json:"position" doc:"The event's position in the global log."`
	Type     string          `json:"type" doc:"Its stored type."`
	Data     json.RawMessage `json:"data" doc:"Its data as it reads now."`
}

// proofSource is the tamper-evidence side of a backend.
type proofSource interface {
	TreeHead(ctx context.Context) (audit.SignedTreeHead, error)
	InclusionProof(ctx context.Context, pos eventstore.Position, treeSize int64) (tlog.RecordProof, error)
	VerifierKey() string
}

// leafIndex returns the leaf index of the event at pos in the backend's
// tree.
func (m *Main) leafIndex(ctx context.Context, pos eventstore.Position) (int64, error) {
	if m.AuditIndex != nil {
		return m.AuditIndex.LeafIndex(ctx, pos)
	}
	return int64(pos.Commit) - 1, nil
}

// Export builds the inspector's bundle of case id: the case's stream and
// the station events about it (from the history view), as stored, proven
// against the current signed tree head.
func (m *Main) Export(ctx context.Context, id uuid.UUID) (Export, error) {
	var src proofSource
	switch {
	case m.Embedded != nil:
		src = m.Embedded
	case m.AuditIndex != nil:
		src = m.AuditIndex
	default:
		return Export{}, domain.NotFound("this store keeps no Merkle tree")
	}
	head, err := src.TreeHead(ctx)
	if err != nil {
		return Export{}, domain.Internal(err, "no signed tree head")
	}
	raw := m.rawStore()
	var recs []eventstore.RecordedEvent
	for rec, err := range raw.ReadStream(ctx, domain.CaseStream(id), eventstore.ReadStreamOptions{}) {
		if err != nil {
			if errors.Is(err, eventstore.ErrStreamNotFound) {
				return Export{}, domain.NotFound("no such case")
			}
			return Export{}, domain.Internal(err, "reading the case")
		}
		recs = append(recs, rec)
	}
	if h, err := m.Views.History(id, projections.AsOf{}, 0); err == nil {
		for _, ev := range h.Events {
			if ev.Stream == domain.CaseStream(id) {
				continue
			}
			for rec, err := range raw.ReadStream(ctx, ev.Stream, eventstore.ReadStreamOptions{From: ev.Version - 1, Limit: 1}) {
				if err != nil {
					return Export{}, domain.Internal(err, "reading a station event")
				}
				recs = append(recs, rec)
			}
		}
	}
	slices.SortFunc(recs, func(a, b eventstore.RecordedEvent) int { return a.Position.Compare(b.Position) })
	out := Export{
		Format: ExportFormat, CaseID: id, ExportedAt: m.Now().UTC(), VerifierKey: src.VerifierKey(),
		TreeHead: ExportTreeHead{Size: head.Size, Root: base64.StdEncoding.EncodeToString(head.Root[:]), Note: string(head.Note)},
		Events:   []ExportedEvent{},
	}
	for _, rec := range recs {
		idx, err := m.leafIndex(ctx, rec.Position)
		if err != nil {
			return Export{}, domain.Internal(err, "no leaf index")
		}
		if idx >= head.Size {
			continue // committed after the head was signed
		}
		proof, err := src.InclusionProof(ctx, rec.Position, head.Size)
		if err != nil {
			return Export{}, domain.Internal(err, "no inclusion proof")
		}
		ps := make([]string, len(proof))
		for i, h := range proof {
			ps[i] = base64.StdEncoding.EncodeToString(h[:])
		}
		out.Events = append(out.Events, ExportedEvent{
			Index: idx, Position: rec.Position.String(), Stream: rec.Stream, Revision: rec.Revision, ID: rec.ID.String(),
			Type: rec.Type, RecordedAtNanos: rec.RecordedAt.UnixNano(),
			Data: base64.StdEncoding.EncodeToString(rec.Data), Metadata: base64.StdEncoding.EncodeToString(rec.Metadata), Proof: ps,
		})
		opened, err := m.openForDisplay(rec)
		if err != nil {
			return Export{}, domain.Internal(err, "opening an event for display")
		}
		data := json.RawMessage(opened.Data)
		if !json.Valid(data) {
			data = json.RawMessage("null")
		}
		out.Opened = append(out.Opened, OpenedEvent{Position: rec.Position.String(), Type: rec.Type, Data: data})
	}
	if err := m.signExport(&out); err != nil {
		return Export{}, domain.Internal(err, "signing the export")
	}
	return out, nil
}

// signExport signs e with the data folder's signing key (the one that
// signs tree heads).
func (m *Main) signExport(e *Export) error {
	skey, err := os.ReadFile(filepath.Join(m.Config.Data, audit.KeyFile))
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return errors.New("the signing key is malformed")
	}
	text, err := exportNoteText(*e)
	if err != nil {
		return err
	}
	msg, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		return err
	}
	e.Signature = string(msg)
	return nil
}

// ExportReport is what VerifyExport found.
type ExportReport struct {
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

// ErrExportInvalid reports a bundle that does not verify.
var ErrExportInvalid = errors.New("export does not verify")

// VerifyExport checks a bundle offline: the tree head's signature and the
// bundle's own signature (against key when given, else the bundle's own
// verifier key), every event's leaf recomputed from its stored bytes and
// its inclusion proof in that tree, and that the case's own events run
// from its version 1 (the intake) with no gap (nothing removed). It needs
// no server and no data folder; any error wraps ErrExportInvalid. The
// report and the errors number the case's events as the API does, by
// version.
func VerifyExport(b []byte, key string) (ExportReport, error) {
	if err := checkNoDuplicateKeys(b); err != nil {
		return ExportReport{}, fmt.Errorf("%w: not a Waystation export: %v", ErrExportInvalid, err)
	}
	var e Export
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return ExportReport{}, fmt.Errorf("%w: not a Waystation export: %v", ErrExportInvalid, err)
	}
	if e.Format != ExportFormat {
		return ExportReport{}, fmt.Errorf("%w: format %q, want %q", ErrExportInvalid, e.Format, ExportFormat)
	}
	rep := ExportReport{CaseID: e.CaseID, KeyPinned: key != ""}
	if key == "" {
		key = e.VerifierKey
	}
	head, err := audit.OpenTreeHead([]byte(e.TreeHead.Note), key)
	if err != nil {
		return rep, fmt.Errorf("%w: tree head: %v", ErrExportInvalid, err)
	}
	if head.Size != e.TreeHead.Size || base64.StdEncoding.EncodeToString(head.Root[:]) != e.TreeHead.Root {
		return rep, fmt.Errorf("%w: the tree head's fields differ from its signed note", ErrExportInvalid)
	}
	rep.TreeSize = head.Size
	verifier, err := note.NewVerifier(strings.TrimSpace(key))
	if err != nil {
		return rep, fmt.Errorf("%w: malformed verifier key", ErrExportInvalid)
	}
	signed, err := note.Open([]byte(e.Signature), note.VerifierList(verifier))
	if err != nil {
		return rep, fmt.Errorf("%w: the bundle's signature: %v", ErrExportInvalid, err)
	}
	if want, err := exportNoteText(e); err != nil || signed.Text != want {
		return rep, fmt.Errorf("%w: the bundle was changed after it was signed", ErrExportInvalid)
	}
	stream := domain.CaseStream(e.CaseID)
	next := uint64(0)
	for i, ev := range e.Events {
		rec, err := ev.record()
		if err != nil {
			return rep, fmt.Errorf("%w: event %d: %v", ErrExportInvalid, i+1, err)
		}
		proof := make(tlog.RecordProof, len(ev.Proof))
		for j, p := range ev.Proof {
			h, err := base64.StdEncoding.DecodeString(p)
			if err != nil || len(h) != len(tlog.Hash{}) {
				return rep, fmt.Errorf("%w: event %d: malformed proof", ErrExportInvalid, i+1)
			}
			copy(proof[j][:], h)
		}
		if err := audit.CheckInclusion(proof, head.Tree(), ev.Index, audit.LeafOf(rec)); err != nil {
			return rep, fmt.Errorf("%w: event %d (position %s) is not in the signed log as exported: %v", ErrExportInvalid, i+1, ev.Position, err)
		}
		if rec.Stream == stream {
			// The API's version of the case after its event of revision r
			// is r + 1; next is the revision due, so the last version
			// proven so far is next.
			switch {
			case rec.Revision != next && next == 0:
				return rep, fmt.Errorf("%w: the case's events begin at version %d, not 1: some were left out", ErrExportInvalid, rec.Revision+1)
			case rec.Revision != next:
				return rep, fmt.Errorf("%w: the case's version %d is followed by version %d, not %d: events were left out or repeated", ErrExportInvalid, next, rec.Revision+1, next+1)
			}
			next++
			rep.CaseEvent++
		}
		rep.Events++
	}
	if rep.CaseEvent == 0 {
		return rep, fmt.Errorf("%w: no event of the case", ErrExportInvalid)
	}
	rep.FirstVersion, rep.LastVersion = 1, next
	return rep, nil
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

// record rebuilds the stored event an ExportedEvent describes.
func (ev ExportedEvent) record() (eventstore.RecordedEvent, error) {
	pos, err := eventstore.ParsePosition(ev.Position)
	if err != nil {
		return eventstore.RecordedEvent{}, err
	}
	id, err := uuid.Parse(ev.ID)
	if err != nil {
		return eventstore.RecordedEvent{}, errors.New("malformed event ID")
	}
	data, err := base64.StdEncoding.DecodeString(ev.Data)
	if err != nil {
		return eventstore.RecordedEvent{}, errors.New("malformed data")
	}
	meta, err := base64.StdEncoding.DecodeString(ev.Metadata)
	if err != nil {
		return eventstore.RecordedEvent{}, errors.New("malformed metadata")
	}
	return eventstore.RecordedEvent{ID: id, Stream: ev.Stream, Revision: ev.Revision, Position: pos, Type: ev.Type,
		Data: data, Metadata: meta, RecordedAt: time.Unix(0, ev.RecordedAtNanos).UTC()}, nil
}

// runVerifyExport is `waystation verify-export FILE [--key KEY]`.
func runVerifyExport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("verify-export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	key := fs.String("key", "", "the station's verifier key (audit.pub, or GET /v1/audit/checkpoint's verifier_key) to pin; a file name or the key itself")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	// The file may come before or after the flags.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: verify-export: %v", ErrUsage, err)
	}
	if file == "" && fs.NArg() > 0 {
		file = fs.Arg(0)
	}
	if file == "" {
		return fmt.Errorf("%w: verify-export: give the export FILE", ErrUsage)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("verify-export: %w", err)
	}
	k := strings.TrimSpace(*key)
	if k != "" {
		if kb, err := os.ReadFile(k); err == nil {
			k = strings.TrimSpace(string(kb))
		}
	}
	rep, err := VerifyExport(b, k)
	if err != nil {
		fmt.Fprintln(stdout, "NOT INTACT:", err)
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	pinned := "pinned key"
	if !rep.KeyPinned {
		pinned = "the bundle's own key (pin the station's key with --key to tie it to the station)"
	}
	fmt.Fprintf(stdout, "intact: case %s, %d events (%d of the case, versions %d to %d, no gap) in the signed log of %d events, signature checked with %s\n",
		rep.CaseID, rep.Events, rep.CaseEvent, rep.FirstVersion, rep.LastVersion, rep.TreeSize, pinned)
	return nil
}
