package sealed

import (
	"errors"
	"strconv"
	"testing"
)

// BenchmarkKeyFirstUse measures opening a data key the first time it is
// used after a start (unwrap under the master key, then the cipher set
// up), which a rebuild pays once per case.
func BenchmarkKeyFirstUse(b *testing.B) {
	dir := b.TempDir()
	ks, err := OpenKeyStore(dir, make([]byte, 32))
	if err != nil {
		b.Fatal(err)
	}
	defer ks.Close()
	const n = 4096
	ids := make([]uint64, n)
	for i := range ids {
		if ids[i], _, err = ks.SubjectKey("case-"+strconv.Itoa(i), true); err != nil {
			b.Fatal(err)
		}
	}
	ks.cache.clear()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == n {
			b.StopTimer()
			ks.cache.clear()
			b.StartTimer()
			i = 0
		}
		if _, err := ks.KeyByID(ids[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// TestSubjectKeyDuringErasure: an erasure that lands after SubjectKey has
// found the subject's key ID and before it opens the key makes SubjectKey
// answer ErrErased (so an append is refused as erased), not ErrNoKey.
func TestSubjectKeyDuringErasure(t *testing.T) {
	ks, err := OpenKeyStore(t.TempDir(), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	if _, _, err := ks.SubjectKey("case-a", true); err != nil {
		t.Fatal(err)
	}
	ks.afterLookup = func() {
		if err := ks.Destroy([]string{"case-a"}); err != nil {
			t.Errorf("destroy: %v", err)
		}
	}
	if _, _, err := ks.SubjectKey("case-a", true); !errors.Is(err, ErrErased) {
		t.Errorf("SubjectKey with an erasure in between: err = %v, want ErrErased", err)
	}
}
