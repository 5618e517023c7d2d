package domain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"

	"github.com/google/uuid"
)

// nameBased turns a SHA-256 digest into a name-based UUID: version 8
// (custom, RFC 9562 section 5.8) with the RFC 9562 variant. Derived IDs are
// not time-ordered, so they carry no time-based version.
func nameBased(sum [32]byte) uuid.UUID {
	return stamp(sum, 0x80)
}

// legacyNameBased is the version 7 form of nameBased, which the derived IDs
// of requests stored before version 8 carry; the Service looks them up too
// when it checks whether a keyed request was already written.
func legacyNameBased(sum [32]byte) uuid.UUID {
	return stamp(sum, 0x70)
}

// stamp returns the first 16 bytes of sum as a UUID of version (the high
// nibble of byte 6) with the RFC 9562 variant.
func stamp(sum [32]byte, version byte) uuid.UUID {
	var u uuid.UUID
	copy(u[:], sum[:16])
	u[6] = (u[6] & 0x0f) | version
	u[8] = (u[8] & 0x3f) | 0x80
	return u
}

// digest is the SHA-256 of parts, each preceded by its length as 8
// big-endian bytes. Short inputs are framed in a buffer on the stack.
func digest(parts ...string) [32]byte {
	var buf [256]byte
	b := buf[:0]
	for _, p := range parts {
		b = binary.BigEndian.AppendUint64(b, uint64(len(p)))
		b = append(b, p...)
	}
	return sha256.Sum256(b)
}

// KeyedEventID returns the ID of event index (from 0) of the request that
// actor made with idempotency key, a version 8 UUID. The same actor, key
// and index always give the same ID, so a retried request writes nothing
// new.
func KeyedEventID(actorID, key string, index int) uuid.UUID {
	return nameBased(keyedEventDigest(actorID, key, index))
}

func keyedEventDigest(actorID, key string, index int) [32]byte {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(index))
	return digest("waystation/event", actorID, key, string(n[:]))
}

// KeyedCaseID returns the ID of the case an intake with idempotency key
// opens, a version 8 UUID.
func KeyedCaseID(actorID, key string) uuid.UUID {
	return nameBased(keyedCaseDigest(actorID, key))
}

func keyedCaseDigest(actorID, key string) [32]byte {
	return digest("waystation/case", actorID, key)
}

// legacyKeyedEventID and legacyKeyedCaseID are KeyedEventID and
// KeyedCaseID in the version 7 form of the requests stored before IDs
// were stamped version 8.
func legacyKeyedEventID(actorID, key string, index int) uuid.UUID {
	return legacyNameBased(keyedEventDigest(actorID, key, index))
}

func legacyKeyedCaseID(actorID, key string) uuid.UUID {
	return legacyNameBased(keyedCaseDigest(actorID, key))
}

// DerivedEventID returns the ID of the event that follows from event parent
// for purpose (for example the bed release after an exit), a version 8
// UUID, so completing it again is idempotent.
func DerivedEventID(parent uuid.UUID, purpose string) uuid.UUID {
	return nameBased(digest("waystation/derived", parent.String(), purpose))
}

// requestHash fingerprints a request: the step, its target and the
// command's JSON. Two requests with the same hash are the same request.
func requestHash(step Step, target string, cmd Command) string {
	b, err := json.Marshal(cmd)
	if err != nil {
		b = []byte(err.Error())
	}
	d := digest("waystation/request", string(step), target, string(b))
	return hex.EncodeToString(d[:16])
}
