package sealed

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// KeyStreamPrefix begins the name of every stream StreamKeys writes. The
// rule "a stream whose name begins with KeyStreamPrefix is a key stream"
// is the one place that says which streams are the key store's records
// and not case records: Store leaves them out of the global log it shows,
// and the esdb audit index leaves them out of its Merkle tree (a scavenge
// removes erased keys from the cluster, which must not look like
// tampering). No domain stream begins with it.
const KeyStreamPrefix = "waystation-key"

// IsKeyStream reports whether stream is one of the key store's streams.
func IsKeyStream(stream string) bool { return strings.HasPrefix(stream, KeyStreamPrefix) }

// Stored names of the key streams and their event types. Never rename or
// reuse: replicas and stored keys depend on them.
const (
	keyStreamPrefix   = KeyStreamPrefix + "-"        // + subject: the subject's wrapped data key
	keyIDStreamPrefix = KeyStreamPrefix + "id-"      // + key ID (decimal): the subject the key was given to
	erasureStream     = KeyStreamPrefix + "s-erased" // one event per Destroy: what every replica evicts
	checkStream       = KeyStreamPrefix + "s-check"  // the check text, wrapped by the master key

	typeDataKey       = "waystation.data_key"
	typeDataKeyID     = "waystation.data_key_id"
	typeKeysDestroyed = "waystation.data_keys_destroyed"
	typeMasterCheck   = "waystation.master_key_check"
)

// streamOpTimeout bounds one read or write of the key streams, which the
// Keys methods make without a context of the caller's.
const streamOpTimeout = 30 * time.Second

// dataKeyEvent is the data of a key stream's event.
type dataKeyEvent struct {
	KeyID   string `json:"key_id"`
	Wrapped string `json:"wrapped"`
}

// keysDestroyedEvent is the data of an erasure event.
type keysDestroyedEvent struct {
	Subjects []string `json:"subjects"`
	KeyIDs   []string `json:"key_ids"`
}

// errLostRace: another replica gave the subject a key first.
var errLostRace = errors.New("sealed: another replica created the key first")

// readSubject reads and opens subject's key from its stream: ErrErased
// when the stream is tombstoned, ErrNoKey when there is none.
func (ks *StreamKeys) readSubject(ctx context.Context, subject string) (*streamKey, error) {
	rec, err := firstEvent(ctx, ks.store, keyStreamPrefix+subject)
	switch {
	case errors.Is(err, eventstore.ErrStreamDeleted):
		return nil, ErrErased
	case errors.Is(err, eventstore.ErrStreamNotFound):
		return nil, ErrNoKey
	case err != nil:
		return nil, fmt.Errorf("sealed: reading a data key: %w", err)
	}
	var ev dataKeyEvent
	if err := json.Unmarshal(rec.Data, &ev); err != nil {
		return nil, fmt.Errorf("sealed: a data key event is malformed: %w", err)
	}
	id, err := strconv.ParseUint(ev.KeyID, 10, 64)
	if err != nil {
		return nil, errors.New("sealed: a data key event is malformed")
	}
	raw, err := unwrapWith(ks.master, []byte(ev.Wrapped), streamKeyLabel(id, subject))
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	aead, err := newAEAD(raw)
	if err != nil {
		return nil, err
	}
	return &streamKey{id: id, subject: subject, aead: aead}, nil
}

// create gives subject a fresh key: it claims a random ID, then writes the
// key stream. errLostRace means another replica wrote it first.
func (ks *StreamKeys) create(ctx context.Context, subject string) (*streamKey, error) {
	var id uint64
	for attempt := 0; ; attempt++ {
		if attempt == 8 {
			return nil, errors.New("sealed: no free data key ID after 8 draws")
		}
		var b [8]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		if id = binary.BigEndian.Uint64(b[:]) >> 1; id == 0 {
			continue
		}
		_, err := ks.store.Append(
			ctx, keyIDStream(id), eventstore.NoStream, newEvent(typeDataKeyID, map[string]string{"subject": subject}),
		)
		if err == nil {
			break
		}
		if !errors.Is(err, eventstore.ErrWrongExpectedVersion) && !errors.Is(err, eventstore.ErrStreamDeleted) {
			return nil, fmt.Errorf("sealed: claiming a data key ID: %w", err)
		}
	}
	raw := make([]byte, 32)
	defer clear(raw)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	w, err := wrapWith(ks.master, raw, streamKeyLabel(id, subject))
	if err != nil {
		return nil, err
	}
	_, err = ks.store.Append(ctx, keyStreamPrefix+subject, eventstore.NoStream,
		newEvent(typeDataKey, dataKeyEvent{KeyID: strconv.FormatUint(id, 10), Wrapped: string(w)}))
	switch {
	case errors.Is(err, eventstore.ErrWrongExpectedVersion):
		// The claimed ID seals nothing: release it (a failure leaves a
		// harmless claim).
		_ = ks.store.Tombstone(ctx, keyIDStream(id), eventstore.Any)
		return nil, errLostRace
	case errors.Is(err, eventstore.ErrStreamDeleted):
		_ = ks.store.Tombstone(ctx, keyIDStream(id), eventstore.Any)
		return nil, ErrErased
	case err != nil:
		return nil, fmt.Errorf("sealed: writing a data key: %w", err)
	}
	aead, err := newAEAD(raw)
	if err != nil {
		return nil, err
	}
	return &streamKey{id: id, subject: subject, aead: aead}, nil
}

// streamKeyLabel binds a wrapped key to its ID and subject.
func streamKeyLabel(id uint64, subject string) string {
	return "key:" + strconv.FormatUint(id, 10) + ":" + subject
}

func keyIDStream(id uint64) string { return keyIDStreamPrefix + strconv.FormatUint(id, 10) }

// newEvent returns an event of type typ whose data is v as JSON.
func newEvent(typ string, v any) eventstore.EventData {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err) // v is one of this file's own types
	}
	return eventstore.EventData{ID: uuid.Must(uuid.NewV7()), Type: typ, Data: data, Metadata: []byte(`{}`)}
}

// firstEvent returns the first event of stream, or the store's error
// (eventstore.ErrStreamNotFound, eventstore.ErrStreamDeleted, ...).
func firstEvent(ctx context.Context, store eventstore.Store, stream string) (eventstore.RecordedEvent, error) {
	for rec, err := range store.ReadStream(ctx, stream, eventstore.ReadStreamOptions{Limit: 1}) {
		return rec, err
	}
	return eventstore.RecordedEvent{}, eventstore.ErrStreamNotFound
}

// nextRevision returns the revision after the last event of stream (0
// when it has none).
func nextRevision(ctx context.Context, store eventstore.Store, stream string) (uint64, error) {
	for rec, err := range store.ReadStream(
		ctx, stream, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd, Limit: 1},
	) {
		if errors.Is(err, eventstore.ErrStreamNotFound) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		return rec.Revision + 1, nil
	}
	return 0, nil
}

// tombstone tombstones stream whatever its state; one already tombstoned
// is not an error.
func tombstone(ctx context.Context, store eventstore.Store, stream string) error {
	err := store.Tombstone(ctx, stream, eventstore.Any)
	if err == nil || errors.Is(err, eventstore.ErrStreamDeleted) {
		return nil
	}
	return fmt.Errorf("sealed: destroying a data key: %w", err)
}
