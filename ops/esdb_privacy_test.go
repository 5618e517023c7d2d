package ops_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"iter"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/eventstore/esdb"
	"waystation/eventstore/esdb/esdbtest"
	"waystation/eventstore/sealed"
	"waystation/ops"
	"waystation/projections"
)

// TestReplicasOnOneClusterSealAndErasePersonalData: on EventStoreDB, two
// replicas share the data keys kept in the cluster. A person recorded on
// one reads with the personal values on the other; the cluster holds none
// of them in clear; erasing on the first answers 200 and, once the second
// has seen the erasure, shows the fields erased there too; the global log
// shows no key stream; and the first replica's audit index still verifies.
func TestReplicasOnOneClusterSealAndErasePersonalData(t *testing.T) {
	cluster := esdbtest.Start(t)
	r1 := startOn(t, t.TempDir(), cluster.URL())
	r2 := startOn(t, t.TempDir(), cluster.URL())
	staff := r1.seed(t)
	began := time.Now().Add(-time.Hour)
	id := r1.must(t, 201, staff, "POST", "/v1/cases", privIntake(began))["id"].(string)
	path := "/v1/cases/" + id
	r1.must(t, 200, staff, "POST", path+"/absconding", map[string]any{"notes": privName + " left at night"})
	r1.must(t, 200, staff, "POST", path+"/closure", map[string]any{})

	if got := r2.must(t, 200, adminToken, "GET", path, nil)["person"].(map[string]any)["name"]; got != privName {
		t.Fatalf("replica 2 reads the name %v, want the one recorded on replica 1", got)
	}

	// The cluster as stored, read by a client of its own.
	raw, err := esdb.Open(context.Background(), cluster.URL(), esdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	keyEvents := 0
	for rec, err := range raw.ReadAll(context.Background(), eventstore.ReadAllOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		noSecrets(t, "the event stored in "+rec.Stream, append(rec.Data, rec.Metadata...))
		if sealed.IsKeyStream(rec.Stream) {
			keyEvents++
		}
	}
	if keyEvents == 0 {
		t.Errorf("the cluster holds no key stream: the personal values are not sealed with keys kept there")
	}

	erased := r1.must(t, 200, adminToken, "POST", "/v1/people/"+id+"/erase", map[string]any{"reason": domain.ErasureSubjectRequest})
	if n := len(erased["cases"].([]any)); n != 1 {
		t.Fatalf("erased %d cases, want 1: %v", n, erased)
	}
	keys, ok := r2.main.Sealed.Keys().(*sealed.StreamKeys)
	if !ok {
		t.Fatalf("replica 2 keeps its keys in %T, want the cluster's key streams", r2.main.Sealed.Keys())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := keys.WaitForErasure(ctx, domain.CaseStream(uuid.MustParse(id))); err != nil {
		t.Fatalf("replica 2 never saw the erasure: %v", err)
	}
	for i, r := range []*running{r1, r2} {
		_, state := r.privGet(t, adminToken, path)
		noSecrets(t, "the erased case on replica "+string(rune('1'+i)), state)
		if !bytes.Contains(state, []byte(`"sex":"female"`)) {
			t.Errorf("replica %d lost the case's clear values: %s", i+1, state)
		}
		_, hist := r.privGet(t, adminToken, path+"/history")
		noSecrets(t, "the erased case's history on replica "+string(rune('1'+i)), hist)
	}

	for _, e := range r1.globalLog(t) {
		if sealed.IsKeyStream(e.Stream) {
			t.Errorf("the global log shows the key stream %s", e.Stream)
			break
		}
	}
	head, events := r1.auditedHead(t, adminToken)
	if int(head.Size) != len(events) {
		t.Fatalf("audit head of %d leaves for a global log of %d events", head.Size, len(events))
	}
	rep, err := r1.main.AuditIndex.Verify(context.Background())
	if err != nil {
		t.Errorf("verify after the erasure: %v (%+v)", err, rep)
	}
	noSecrets(t, "replica 1's logs", []byte(r1.logs.String()))
	noSecrets(t, "replica 2's logs", []byte(r2.logs.String()))
}

// TestRetentionOnTheCluster: the retention job erases on EventStoreDB as on
// the embedded store.
func TestRetentionOnTheCluster(t *testing.T) {
	cluster := esdbtest.Start(t)
	r := startWith(t, t.TempDir(), func(c *ops.Config) {
		c.Store = cluster.URL()
		c.MasterKey = clusterMasterKey
		c.Retention = 24 * time.Hour
		c.RetentionErase = true
	})
	staff := r.seed(t)
	id := r.must(t, 201, staff, "POST", "/v1/cases", privIntake(time.Now().Add(-time.Hour)))["id"].(string)
	r.must(t, 200, staff, "POST", "/v1/cases/"+id+"/absconding", map[string]any{})
	r.must(t, 200, staff, "POST", "/v1/cases/"+id+"/closure", map[string]any{})
	ctx := context.Background()
	if err := r.main.Views.WaitFor(ctx, mustHead(t, r)); err != nil {
		t.Fatal(err)
	}
	rep, err := r.main.RetentionPass(ctx, time.Now().Add(25*time.Hour))
	if err != nil || rep.Due != 1 || rep.Erased != 1 {
		t.Fatalf("a day and an hour later: %+v %v, want one due and erased", rep, err)
	}
	if !r.main.Sealed.Keys().Erased(domain.CaseStream(uuid.MustParse(id))) {
		t.Errorf("the case's key is not erased after the retention job")
	}
	_, state := r.privGet(t, adminToken, "/v1/cases/"+id)
	noSecrets(t, "the case erased by the retention job", state)
}

// TestAReplicaOnAClusterNeedsTheSharedMasterKey: a replica started on
// EventStoreDB without a master key is refused with the reason, and one
// with another master key than the cluster's keys were made with too.
func TestAReplicaOnAClusterNeedsTheSharedMasterKey(t *testing.T) {
	cluster := esdbtest.Start(t)
	open := func(key string) error {
		cfg := ops.DefaultConfig()
		cfg.Data = t.TempDir()
		cfg.Store = cluster.URL()
		cfg.MasterKey = key
		m := ops.NewMain(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		defer m.Close()
		return m.Open(context.Background())
	}
	err := open("")
	if err == nil || !strings.Contains(err.Error(), "WAYSTATION_MASTER_KEY") {
		t.Errorf("without a master key: err = %v, want a refusal naming WAYSTATION_MASTER_KEY", err)
	}
	if err := open(clusterMasterKey); err != nil {
		t.Fatalf("with the master key: %v", err)
	}
	if err := open(strings.Repeat("6b", 32)); !errors.Is(err, sealed.ErrMasterKey) {
		t.Errorf("with another master key: err = %v, want ErrMasterKey", err)
	}
}

// openedLog is the cluster's log with personal values opened but the key
// streams left in: what the views would fold without the sealed store's
// filter.
type openedLog struct {
	eventstore.Store // as stored
	sealed           *sealed.Store
}

func (o openedLog) ReadAll(ctx context.Context, opts eventstore.ReadAllOptions) iter.Seq2[eventstore.RecordedEvent, error] {
	return func(yield func(eventstore.RecordedEvent, error) bool) {
		for rec, err := range o.Store.ReadAll(ctx, opts) {
			if err == nil {
				rec, err = o.sealed.Open(rec)
			}
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}

func (o openedLog) SubscribeToAll(ctx context.Context, after eventstore.Position) iter.Seq2[eventstore.Message, error] {
	return func(yield func(eventstore.Message, error) bool) {
		for m, err := range o.Store.SubscribeToAll(ctx, after) {
			if err == nil && m.Event != nil {
				var rec eventstore.RecordedEvent
				rec, err = o.sealed.Open(*m.Event)
				m.Event = &rec
			}
			if !yield(m, err) || err != nil {
				return
			}
		}
	}
}

// TestViewsIgnoreKeyStreams: the views, folding the cluster's log with the
// key events in it, skip them (as events of a type they do not know) and
// show the case and its station.
func TestViewsIgnoreKeyStreams(t *testing.T) {
	cluster := esdbtest.Start(t)
	r := startOn(t, t.TempDir(), cluster.URL())
	staff := r.seed(t)
	id := uuid.MustParse(r.must(t, 201, staff, "POST", "/v1/cases", privIntake(time.Now().Add(-time.Hour)))["id"].(string))
	raw := openedLog{r.main.Sealed.Inner(), r.main.Sealed}
	cps, err := esdb.OpenCheckpoints(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	views := projections.NewRunner(raw, cps, projections.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- views.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	head, err := raw.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	defer wcancel()
	if err := views.WaitFor(wctx, head); err != nil {
		t.Fatalf("the views never folded the log with its key streams: %v", err)
	}
	if c, ok := views.Case(id); !ok || c.Station != "S01" {
		t.Errorf("the views show the case as %+v (found %v), want it at S01", c, ok)
	}
	if _, ok := views.Station("S01"); !ok {
		t.Errorf("the views lost station S01")
	}
	if lag, err := views.Lag(ctx); err != nil || lag.Undecodable == 0 {
		t.Errorf("the views skipped %d events (err %v): the key events never reached them, the test proves nothing", lag.Undecodable, err)
	}
}
