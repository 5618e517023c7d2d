package sealed

import (
	"bytes"
	"crypto/cipher"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// sealedDoc seals the values of a, b and c of doc under a fresh key and
// returns the sealed document and a resolver for that key.
func sealedDoc(tb testing.TB, doc string, id uuid.UUID) ([]byte, resolver) {
	tb.Helper()
	key, err := newAEAD(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	data, err := seal([]byte(doc), newPathTree([]string{"a", "b", "c"}), 9, key, id)
	if err != nil {
		tb.Fatal(err)
	}
	return data, func(uint64) (cipher.AEAD, error) { return key, nil }
}

// TestOpenInPlace: opening over the stored bytes gives what opening into a
// copy gives, also for a document whose references repeat a long value
// (the opened form then outgrows the sealed one midway, and must not be
// written over bytes not read yet), and a failed open leaves the bytes as
// they were.
func TestOpenInPlace(t *testing.T) {
	id := uuid.New()
	long := strings.Repeat("L", 300)
	tail := `"n":"` + strings.Repeat("t", 2000) + `"}` // plain, so the buffer has room to be overrun
	sealedForm, resolve := sealedDoc(t, `{"a":"x","b":"`+long+`","c":"y",`+tail, id)
	first, rest, ok := bytes.Cut(sealedForm, []byte(`,"b":`))
	if !ok {
		t.Fatalf("sealed form %s has no b", sealedForm)
	}
	repeated := string(first) + `,"d":"ws1:#1","e":"ws1:#1","f":"ws1:#1","b":` + string(rest)
	for _, tc := range []struct {
		name, data, want string
	}{
		{"as sealed", string(sealedForm), `{"a":"x","b":"` + long + `","c":"y",` + tail},
		{
			"repeated long value",
			repeated,
			`{"a":"x","d":"` + long + `","e":"` + long + `","f":"` + long + `","b":"` + long + `","c":"y",` + tail,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			copied, err := open([]byte(tc.data), resolve, id, false)
			if err != nil {
				t.Fatalf("open into a copy: %v", err)
			}
			buf := []byte(tc.data)
			inPlace, err := open(buf, resolve, id, true)
			if err != nil {
				t.Fatalf("open in place: %v", err)
			}
			if string(copied) != tc.want || string(inPlace) != tc.want {
				t.Fatalf("opened\n copy:     %s\n in place: %s\nwant %s", copied, inPlace, tc.want)
			}
		})
	}
	t.Run("dangling reference", func(t *testing.T) {
		bad := bytes.Replace(sealedForm, []byte(`"ws1:#2"`), []byte(`"ws1:#7"`), 1)
		buf := bytes.Clone(bad)
		if _, err := open(buf, resolve, id, true); err == nil {
			t.Fatal("a reference to a value that is not there opened")
		}
		if !bytes.Equal(buf, bad) {
			t.Fatalf("a failed open changed the stored bytes:\n%s\nwas\n%s", buf, bad)
		}
	})
}
