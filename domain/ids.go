package domain

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"

	"github.com/google/uuid"
)

// uuid7Shape turns a digest into a UUID with version 7 and the RFC 9562
// variant, so derived IDs look like the random UUIDv7s used elsewhere.
func uuid7Shape(sum [32]byte) uuid.UUID {
	var u uuid.UUID
	copy(u[:], sum[:16])
	u[6] = (u[6] & 0x0f) | 0x70
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
// actor made with idempotency key. The same actor, key and index always give
// the same ID, so a retried request writes nothing new.
func KeyedEventID(actorID, key string, index int) uuid.UUID {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(index))
	return uuid7Shape(digest("waystation/event", actorID, key, string(n[:])))
}

// KeyedCaseID returns the ID of the case an intake with idempotency key
// opens.
func KeyedCaseID(actorID, key string) uuid.UUID {
	return uuid7Shape(digest("waystation/case", actorID, key))
}

// DerivedEventID returns the ID of the event that follows from event parent
// for purpose (for example the bed release after an exit), so completing it
// again is idempotent.
func DerivedEventID(parent uuid.UUID, purpose string) uuid.UUID {
	return uuid7Shape(digest("waystation/derived", parent.String(), purpose))
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
