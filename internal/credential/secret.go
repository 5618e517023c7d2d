package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// NewSessionID returns a fresh random 256-bit session ID, base64url without
// padding (43 characters): the cookie's value.
func NewSessionID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Digest returns the hex SHA-256 of a high-entropy secret (a session ID, an
// activation code, a recovery code): what is kept in place of the secret.
// Such secrets are random, so a fast hash suffices; passwords are not and
// take HashPassword.
func Digest(secret string) string {
	d := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(d[:])
}

// SameDigest reports whether secret's Digest is digest, in constant time.
func SameDigest(digest, secret string) bool {
	return subtle.ConstantTimeCompare([]byte(Digest(secret)), []byte(digest)) == 1
}

// codeEncoding spells codes people type: Crockford's base32, lowercase,
// which leaves out the letters read as digits (i, l, o) and u.
var codeEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewCode returns a random code of 16 characters (80 bits) in four groups
// of four ("k7qm-2xpt-9hrw-3fva"): an activation or a recovery code.
func NewCode() string {
	b := make([]byte, 10)
	rand.Read(b)
	s := codeEncoding.EncodeToString(b)
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// NormalizeCode returns code as NewCode spells it, whatever case, spaces or
// dashes a person typed, reading o as 0 and i or l as 1 (as Crockford's
// base32 does), so that its Digest matches the one kept.
func NormalizeCode(code string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(code) {
		switch r {
		case '-', ' ':
			continue
		case 'o':
			r = '0'
		case 'i', 'l':
			r = '1'
		}
		b.WriteRune(r)
	}
	s := b.String()
	if len(s) != 16 {
		return s
	}
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}
