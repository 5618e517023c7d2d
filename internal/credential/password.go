package credential

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Params are the Argon2id cost parameters of a password hash: Time passes
// over Memory KiB with Threads lanes.
type Params struct {
	Time    uint32
	Memory  uint32
	Threads uint8
}

// DefaultParams are the costs of new password hashes: one hash takes
// 50-150 ms of one core on the project's 2-core machine
// (BenchmarkHashPassword; docs/benchmarks.md gives the measured figure)
// and 64 MiB of memory, more than each of OWASP's recommended Argon2id
// minimums it compares with (m=46 MiB t=1, m=19 MiB t=2, one lane). A hash
// keeps the costs it was made with, so changing them leaves every stored
// hash verifiable (ParamsOf reads them back).
var DefaultParams = Params{Time: 2, Memory: 64 * 1024, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32
)

// ErrMalformedHash is returned by Verify for a stored hash it cannot read.
var ErrMalformedHash = errors.New("credential: malformed password hash")

// HashPassword returns the PHC string of password under p
// ("$argon2id$v=19$m=65536,t=2,p=1$<salt>$<key>", unpadded base64), with a
// fresh random salt.
func HashPassword(password string, p Params) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// VerifyPassword reports whether password matches the PHC string hash. The
// comparison takes constant time in the key; the cost is the hash's own.
func VerifyPassword(hash, password string) (bool, error) {
	p, salt, key, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// ParamsOf returns the cost parameters of a stored hash, so a caller can
// rehash at login when DefaultParams have grown.
func ParamsOf(hash string) (Params, error) {
	p, _, _, err := parseHash(hash)
	return p, err
}

// decoyHash is verified for a username that has no password, so that an
// unknown username costs what a wrong password costs.
var decoyHash = sync.OnceValue(func() string { return HashPassword("waystation decoy", DefaultParams) })

// VerifyDecoy spends the time of one VerifyPassword under DefaultParams.
func VerifyDecoy(password string) {
	VerifyPassword(decoyHash(), password)
}

func parseHash(hash string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, ErrMalformedHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, ErrMalformedHash
	}
	if p.Time == 0 || p.Threads == 0 || p.Memory < 8*uint32(p.Threads) || p.Memory > 1<<22 || p.Time > 64 {
		return p, nil, nil, ErrMalformedHash
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, ErrMalformedHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, ErrMalformedHash
	}
	return p, salt, key, nil
}
