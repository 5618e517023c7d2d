package credential

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"waystation/domain"
)

// Password rules (NIST SP 800-63B): at least MinPasswordLen characters, at
// most MaxPasswordLen, not a common password, not the username; no other
// composition rule.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 128
)

// commonPasswords is the lowercased list of common passwords of at least
// MinPasswordLen characters, sorted bytewise, one per line (the sources and
// how the list is built are in common-passwords.md).
//
//go:embed common-passwords.txt.gz
var commonPasswords []byte

var common = sync.OnceValue(func() []string {
	r, err := gzip.NewReader(bytes.NewReader(commonPasswords))
	if err != nil {
		panic("credential: the embedded password list is not gzip: " + err.Error())
	}
	b, err := io.ReadAll(r)
	if err != nil {
		panic("credential: the embedded password list is corrupt: " + err.Error())
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
})

// IsCommon reports whether password, ignoring case, is on the list of
// common passwords.
func IsCommon(password string) bool {
	list := common()
	p := strings.ToLower(password)
	i := sort.SearchStrings(list, p)
	return i < len(list) && list[i] == p
}

// CheckPassword returns an error naming the field "password" when password
// breaks a password rule for the account username, else nil. The error
// never repeats the password.
func CheckPassword(password, username string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return domain.Invalid("password", "must be valid UTF-8 text")
	case n < MinPasswordLen:
		return domain.Invalid("password", "must be at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return domain.Invalid("password", "must be at most %d characters", MaxPasswordLen)
	case strings.EqualFold(password, username) || len(username) >= 4 && strings.Contains(strings.ToLower(password), strings.ToLower(username)):
		return domain.Invalid("password", "must not contain the username")
	case IsCommon(password):
		return domain.Invalid("password", "is too common: it is on a list of passwords that attackers try first")
	}
	return nil
}
