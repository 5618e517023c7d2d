package sealed

import (
	"crypto/cipher"
	"errors"
	"fmt"
	"strings"

	"waystation/eventstore"
)

// Errors of the key store; test them with errors.Is.
var (
	// ErrErased: the subject's data key was destroyed.
	ErrErased = errors.New("sealed: the data subject's key was destroyed")
	// ErrNoKey: a sealed value names a subject that has no key in the key
	// store (the key file is not the one the events were sealed with).
	ErrNoKey = errors.New("sealed: no data key for a sealed value")
	// ErrMasterKey: the master key does not open the key store, or is not
	// 32 bytes.
	ErrMasterKey = errors.New("sealed: wrong or malformed master key")
)

// Keys is what a Store needs from a key store: one data key per data
// subject, found by subject (to seal) or by the number a sealed value
// names (to open), and destroyed for good on erasure. KeyStore (a file in
// one data folder) and StreamKeys (streams of the event store itself,
// shared by every replica of a cluster) implement it. Implementations are
// safe for concurrent use.
type Keys interface {
	// SubjectKey returns the ID and opened data key of subject. With
	// create, a subject that has none is given a fresh key. A destroyed
	// subject is ErrErased (even with create: an erased subject never gets
	// a new key); a subject without a key, without create, is ErrNoKey; a
	// subject the store cannot hold is eventstore.ErrInvalid.
	SubjectKey(subject string, create bool) (uint64, cipher.AEAD, error)
	// KeyByID returns the opened data key numbered id, or ErrNoKey when
	// there is no such key (it was destroyed, or never made).
	KeyByID(id uint64) (cipher.AEAD, error)
	// Destroy destroys the data keys of subjects and the keys numbered
	// ids, and remembers the subjects as erased. Destroying a destroyed or
	// unknown subject is not an error.
	Destroy(subjects []string, ids ...uint64) error
	// Erased reports whether subject's data key was destroyed.
	Erased(subject string) bool
	// Has reports whether subject has a live data key.
	Has(subject string) bool
	// Close releases the key store; later calls fail with
	// eventstore.ErrClosed.
	Close() error
}

var (
	_ Keys = (*KeyStore)(nil)
	_ Keys = (*StreamKeys)(nil)
)

// checkSubject refuses a subject that the key file's lines cannot hold:
// a space would cut it short in an "e" line (so that, after a restart, the
// subject could be given a new key) and a line break would add lines.
// Its error does not repeat the subject.
func checkSubject(subject string) error {
	if subject == "" || strings.ContainsAny(subject, " \t\r\n") {
		return fmt.Errorf(
			"%w: sealed: a data subject must be non-empty, without spaces or line breaks", eventstore.ErrInvalid,
		)
	}
	return nil
}
