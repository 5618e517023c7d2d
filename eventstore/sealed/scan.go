package sealed

import (
	"bytes"
	"errors"
	"fmt"
)

var errMalformed = errors.New("sealed: event data is not a JSON object")

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i].
func skipString(b []byte, i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return 0, errMalformed
		}
		j += k
		// The quote ends the string unless an odd run of backslashes
		// escapes it.
		n := 0
		for m := j - 1; m > i && b[m] == '\\'; m-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, nil
		}
		j++
	}
}

// skipValue returns the index after the JSON value that starts at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errMalformed
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errMalformed
	}
	j := i
loop:
	for ; j < len(b); j++ {
		switch b[j] {
		case ',', '}', ']', ' ', '\n', '\t', '\r':
			break loop
		}
	}
	if j == i {
		return 0, fmt.Errorf("%w at byte %d", errMalformed, i)
	}
	return j, nil
}

// indexPrefix returns the index of the first sealed value in b, or -1. It
// looks for the rarer "ws1:" and checks the quote before it, since quotes
// are everywhere in JSON.
func indexPrefix(b []byte) int {
	off := 0
	for {
		i := bytes.Index(b[off:], prefixBytes[1:])
		if i < 0 {
			return -1
		}
		if j := off + i; j > 0 && b[j-1] == '"' {
			return j - 1
		}
		off += i + 1
	}
}
