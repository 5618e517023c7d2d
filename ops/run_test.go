package ops_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestAFailureOfTheViewsEndsTheRunWithIt: when the projections stop with an
// error (here, the store closed under them), Run shuts down as on a signal
// and returns that error.
func TestAFailureOfTheViewsEndsTheRunWithIt(t *testing.T) {
	m := testMain(t.TempDir(), nil, io.Discard)
	done := make(chan error, 1)
	go func() { done <- m.Run(context.Background()) }()
	t.Cleanup(func() { m.Close() })
	waitCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if m.Addr(waitCtx) == "" {
		t.Fatalf("Main did not start listening: %v", <-done)
	}
	if err := m.Views.WaitReady(waitCtx, 0); err != nil {
		t.Fatal(err)
	}
	m.Embedded.Close()
	select {
	case err := <-done:
		if err == nil || !strings.HasPrefix(err.Error(), "projections: ") {
			t.Errorf("Run = %v, want the projections' error", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run still runs 30 s after its projections failed")
	}
}
