package storetest

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// OpenCheckpoints returns a checkpoint store for RunCheckpoints, closing it
// with t.Cleanup as Open does.
type OpenCheckpoints func(t testing.TB) eventstore.CheckpointStore

// RunCheckpoints runs the checkpoint part of the contract against the
// stores that open returns, with projection names unique to the run.
func RunCheckpoints(t *testing.T, open OpenCheckpoints) {
	cs := open(t)
	prefix := "storetest-" + uuid.NewString()[:8] + "-"
	ctx := context.Background()
	load := func(t *testing.T, name string) (eventstore.Position, bool) {
		t.Helper()
		p, ok, err := cs.LoadCheckpoint(ctx, name)
		if err != nil {
			t.Fatalf("load checkpoint %s: %v", name, err)
		}
		return p, ok
	}
	save := func(t *testing.T, name string, p eventstore.Position) {
		t.Helper()
		if err := cs.SaveCheckpoint(ctx, name, p); err != nil {
			t.Fatalf("save checkpoint %s: %v", name, err)
		}
	}
	t.Run("unsaved_checkpoint_is_start_and_not_found", func(t *testing.T) {
		if p, ok := load(t, prefix+"never"); ok || p != eventstore.Start {
			t.Fatalf("got %s, %v; want start, false", p, ok)
		}
	})
	t.Run("saved_checkpoint_loads_back_and_is_overwritten", func(t *testing.T) {
		name := prefix + "board"
		want := eventstore.Position{Commit: 1234, Prepare: 1200}
		save(t, name, want)
		if p, ok := load(t, name); !ok || p != want {
			t.Fatalf("got %s, %v; want %s, true", p, ok, want)
		}
		save(t, name, eventstore.At(99))
		if p, ok := load(t, name); !ok || p != eventstore.At(99) {
			t.Fatalf("got %s, %v; want 99, true", p, ok)
		}
	})
	t.Run("checkpoints_are_kept_per_name", func(t *testing.T) {
		save(t, prefix+"a", eventstore.At(1))
		save(t, prefix+"b", eventstore.At(2))
		if p, _ := load(t, prefix+"a"); p != eventstore.At(1) {
			t.Fatalf("checkpoint a: got %s, want 1", p)
		}
	})
	t.Run("deleted_checkpoint_is_forgotten", func(t *testing.T) {
		name := prefix + "gone"
		save(t, name, eventstore.At(5))
		if err := cs.DeleteCheckpoint(ctx, name); err != nil {
			t.Fatalf("delete: %v", err)
		}
		if p, ok := load(t, name); ok || p != eventstore.Start {
			t.Fatalf("got %s, %v; want start, false", p, ok)
		}
	})
}
