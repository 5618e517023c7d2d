package audit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"waystation/eventstore"
)

// BundleFormat names the layout of an inspector's bundle; a new layout
// gets a new name and never reuses this one.
const BundleFormat = "waystation-export/v1"

// Bundle is an inspector's self-contained bundle of one case: every event
// of the case's stream and every station event about it, as stored
// (sealed personal values stay sealed: the proof is about the stored
// record), each with what its Merkle leaf is made of and its inclusion
// proof in the tree of one signed tree head; the verifier key; and, apart
// and not proven, the events as they read now (personal values opened, or
// null once erased) for display. VerifyBundle checks it with no server.
type Bundle struct {
	Format      string         `json:"format" doc:"The bundle's format and version."`
	CaseID      uuid.UUID      `json:"case_id" doc:"The exported case."`
	ExportedAt  time.Time      `json:"exported_at" doc:"When the bundle was made."`
	TreeHead    BundleTreeHead `json:"tree_head" doc:"The signed tree head every proof is against."`
	VerifierKey string         `json:"verifier_key" doc:"The public key that verifies the tree head and the bundle's signature."`
	Events      []BundleEvent  `json:"events" doc:"The case's events and the station events about it, as stored, each with its proof."`
	// Opened is for display only: it is not covered by the proofs (the
	// signature covers it, so it is what the server showed).
	Opened []OpenedEvent `json:"opened,omitempty" doc:"The same events as they read now, for display: not covered by the proofs."`
	// Signature is a note signed with the log's signing key over the
	// SHA-256 of the bundle with Signature empty: a change anywhere in the
	// bundle, the display section included, fails verification.
	Signature string `json:"signature" doc:"Signed note over the SHA-256 of the bundle with this field empty."`
}

// BundleTreeHead is the signed tree head a bundle's proofs are against.
type BundleTreeHead struct {
	Size int64  `json:"size" doc:"Number of events the tree covers."`
	Root string `json:"root" doc:"The tree's root hash, base64."`
	Note string `json:"note" doc:"The signed checkpoint note."`
}

// BundleEvent is one stored event with its leaf index and inclusion
// proof. Data and Metadata are the stored bytes, base64; RecordedAtNanos
// is the recorded time in Unix nanoseconds, and Revision the event's
// number in its stream from 0, as the leaf has them (the API's version of
// the stream after the event is Revision + 1).
type BundleEvent struct {
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

// BundleSource is where NewBundle finds what it proves and shows. Each
// function's error is returned by NewBundle as it is.
type BundleSource struct {
	// LeafIndex returns the leaf index of the event at a position.
	LeafIndex func(ctx context.Context, pos eventstore.Position) (int64, error)
	// Proof returns the inclusion proof of the event at a position in the
	// tree of treeSize leaves.
	Proof func(ctx context.Context, pos eventstore.Position, treeSize int64) (tlog.RecordProof, error)
	// Open returns the event's data as it reads now; data that is not
	// JSON is shown as null.
	Open func(rec eventstore.RecordedEvent) ([]byte, error)
}

// NewBundle returns the unsigned bundle of case caseID made at at: events
// in log order, each proven against head (signed by the key whose verifier
// key is vkey) through src, and shown as src opens it. Events committed
// after head was signed are left out. It sorts events in place.
func NewBundle(
	ctx context.Context, caseID uuid.UUID, at time.Time,
	head SignedTreeHead, vkey string, events []eventstore.RecordedEvent, src BundleSource,
) (Bundle, error) {
	slices.SortFunc(events, func(a, b eventstore.RecordedEvent) int { return a.Position.Compare(b.Position) })
	b := Bundle{
		Format: BundleFormat, CaseID: caseID, ExportedAt: at.UTC(), VerifierKey: vkey,
		TreeHead: BundleTreeHead{
			Size: head.Size, Root: base64.StdEncoding.EncodeToString(head.Root[:]), Note: string(head.Note),
		},
		Events: []BundleEvent{},
	}
	for _, rec := range events {
		idx, err := src.LeafIndex(ctx, rec.Position)
		if err != nil {
			return Bundle{}, err
		}
		if idx >= head.Size {
			continue
		}
		proof, err := src.Proof(ctx, rec.Position, head.Size)
		if err != nil {
			return Bundle{}, err
		}
		b.Events = append(b.Events, bundleEvent(idx, rec, proof))
		opened, err := src.Open(rec)
		if err != nil {
			return Bundle{}, err
		}
		data := json.RawMessage(opened)
		if !json.Valid(data) {
			data = json.RawMessage("null")
		}
		b.Opened = append(b.Opened, OpenedEvent{Position: rec.Position.String(), Type: rec.Type, Data: data})
	}
	return b, nil
}

// bundleEvent returns the bundle's record of rec at leaf index idx.
func bundleEvent(idx int64, rec eventstore.RecordedEvent, proof tlog.RecordProof) BundleEvent {
	ps := make([]string, len(proof))
	for i, h := range proof {
		ps[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	return BundleEvent{
		Index: idx, Position: rec.Position.String(), Stream: rec.Stream, Revision: rec.Revision,
		ID: rec.ID.String(), Type: rec.Type, RecordedAtNanos: rec.RecordedAt.UnixNano(),
		Data:     base64.StdEncoding.EncodeToString(rec.Data),
		Metadata: base64.StdEncoding.EncodeToString(rec.Metadata),
		Proof:    ps,
	}
}

// Sign signs b with the signing key in folder dir (KeyFile, the key that
// signs the tree heads), setting Signature. It creates no key.
func (b *Bundle) Sign(dir string) error {
	skey, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		return errors.New("the signing key is malformed")
	}
	text, err := b.noteText()
	if err != nil {
		return err
	}
	msg, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		return err
	}
	b.Signature = string(msg)
	return nil
}

// noteText returns the signed text of b: distinct from a tree head's, so
// that one can never pass for the other.
func (b Bundle) noteText() (string, error) {
	b.Signature = ""
	j, err := json.Marshal(b)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(j)
	return BundleFormat + "\ncase " + b.CaseID.String() + "\nsha256 " + hex.EncodeToString(sum[:]) + "\n", nil
}

// record rebuilds the stored event ev describes.
func (ev BundleEvent) record() (eventstore.RecordedEvent, error) {
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
	return eventstore.RecordedEvent{
		ID: id, Stream: ev.Stream, Revision: ev.Revision, Position: pos, Type: ev.Type,
		Data: data, Metadata: meta, RecordedAt: time.Unix(0, ev.RecordedAtNanos).UTC(),
	}, nil
}
