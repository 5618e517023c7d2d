package bolt_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
	"waystation/eventstore/bolt"
	"waystation/eventstore/storetest"
)

// crashDirEnv, when set, makes the test binary act as the crash test's
// child: it appends to the store in that folder until it is killed.
const crashDirEnv = "WAYSTATION_BOLT_CRASH_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

// crashChild appends from many goroutines with fsync on, printing one
// line "ID POSITION" to stdout after each acknowledged append.
func crashChild(dir string) {
	s, err := bolt.Open(dir, bolt.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := os.Stdout
	for g := range 32 {
		go func() {
			for i := 0; ; i++ {
				e := storetest.Event("case.note_added", i)
				res, err := s.Append(ctx, "case-crash-"+strconv.Itoa(g), eventstore.Any, e)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "%s %d\n", e.ID, res.Position.Commit)
				mu.Unlock()
			}
		}()
	}
	select {}
}

func TestCrashKeepsEveryAcknowledgedAppend(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts child processes")
	}
	dir := t.TempDir()
	acked := map[uuid.UUID]uint64{}
	for run := range 5 {
		killAfter := time.Duration(20+rand.IntN(300)) * time.Millisecond
		got := runAndKill(t, dir, killAfter)
		if len(got) == 0 {
			t.Fatalf("run %d: the child acknowledged nothing before the kill", run)
		}
		for id, pos := range got {
			acked[id] = pos
		}

		s, err := bolt.Open(dir, bolt.Options{})
		if err != nil {
			t.Fatalf("run %d: reopen after SIGKILL: %v", run, err)
		}
		stored := map[uuid.UUID]uint64{}
		var n uint64
		for e, err := range s.ReadAll(ctx, eventstore.ReadAllOptions{}) {
			if err != nil {
				t.Fatalf("run %d: read all: %v", run, err)
			}
			n++
			if e.Position != eventstore.At(n) {
				t.Fatalf("run %d: positions not dense: %s where %d was due", run, e.Position, n)
			}
			stored[e.ID] = e.Position.Commit
		}
		for g := range 32 {
			var rev uint64
			for e, err := range s.ReadStream(ctx, "case-crash-"+strconv.Itoa(g), eventstore.ReadStreamOptions{}) {
				if err != nil {
					t.Fatalf("run %d: read stream %d: %v", run, g, err)
				}
				if e.Revision != rev || stored[e.ID] != e.Position.Commit {
					t.Fatalf(
						"run %d: stream %d: revision %d at %s, want revision %d at %d", run, g, e.Revision, e.Position, rev, stored[e.ID],
					)
				}
				rev++
			}
		}
		for id, pos := range acked {
			if got, ok := stored[id]; !ok || got != pos {
				t.Fatalf("run %d: acknowledged event %s at %d is missing or moved (found at %d)", run, id, pos, got)
			}
		}
		rep, err := s.Verify(ctx)
		if err != nil {
			t.Fatalf("run %d: verify after SIGKILL: %v", run, err)
		}
		if uint64(rep.Events) != n {
			t.Fatalf("run %d: verified %d events of %d", run, rep.Events, n)
		}
		t.Logf("run %d: killed after %v; %d acknowledged, %d stored", run, killAfter, len(acked), n)
		s.Close()
	}
}

// runAndKill starts a child appending into dir, kills it with SIGKILL
// killAfter its first acknowledgement, and returns what it acknowledged.
func runAndKill(t *testing.T, dir string, killAfter time.Duration) map[uuid.UUID]uint64 {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[uuid.UUID]uint64{}
	first := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		once := sync.Once{}
		for sc.Scan() {
			id, pos, ok := strings.Cut(sc.Text(), " ")
			if !ok {
				continue
			}
			u, err1 := uuid.Parse(id)
			p, err2 := strconv.ParseUint(pos, 10, 64)
			if err1 != nil || err2 != nil {
				continue // a line cut short by the kill
			}
			acked[u] = p
			once.Do(func() { close(first) })
		}
	}()
	select {
	case <-first:
	case <-done:
		cmd.Wait()
		t.Fatalf("child exited before acknowledging: %s", stderr.String())
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("child acknowledged nothing")
	}
	time.Sleep(killAfter)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	cmd.Wait()
	if stderr.Len() > 0 {
		t.Fatalf("child reported: %s", stderr.String())
	}
	return acked
}
