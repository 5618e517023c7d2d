package esdbtest_test

import (
	"context"
	"errors"
	"io"
	"math"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"waystation/eventstore/esdb/esdbtest"
)

// These tests drive the stand-in with the official Go client (or its
// generated gRPC stubs, where the client has no call for a feature) and
// check it against what the real server's behaviour is documented to be.

func client(t *testing.T, srv *esdbtest.Server) *esdb.Client {
	t.Helper()
	config, err := esdb.ParseConnectionString(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	c, err := esdb.NewClient(config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func appendN(t *testing.T, c *esdb.Client, stream string, n int, typ string) {
	t.Helper()
	events := make([]esdb.EventData, n)
	for i := range events {
		events[i] = esdb.EventData{EventID: uuid.New(), EventType: typ, ContentType: esdb.ContentTypeJson, Data: []byte(`{}`)}
	}
	if _, err := c.AppendToStream(context.Background(), stream, esdb.AppendToStreamOptions{}, events...); err != nil {
		t.Fatalf("append to %s: %v", stream, err)
	}
}

func revisions(t *testing.T, c *esdb.Client, stream string) []uint64 {
	t.Helper()
	rs, err := c.ReadStream(context.Background(), stream, esdb.ReadStreamOptions{}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []uint64
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("read %s: %v", stream, err)
		}
		out = append(out, ev.OriginalEvent().EventNumber)
	}
}

func setMeta(t *testing.T, c *esdb.Client, stream string, meta esdb.StreamMetadata) {
	t.Helper()
	if _, err := c.SetStreamMetadata(context.Background(), stream, esdb.AppendToStreamOptions{}, meta); err != nil {
		t.Fatalf("set metadata of %s: %v", stream, err)
	}
}

func equal(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Stream metadata is applied to reads: $maxCount keeps the newest events,
// $tb hides the revisions before it, $maxAge the events older than it
// (KurrentDB docs, "Stream metadata": $maxAge, $maxCount, $tb; esdbclient's
// test_stream_metadata_get_and_set reads "$tb" back).
func TestStreamMetadataLimitsReads(t *testing.T) {
	srv := esdbtest.Start(t)
	c := client(t, srv)

	appendN(t, c, "counted", 5, "test")
	var meta esdb.StreamMetadata
	meta.SetMaxCount(2)
	setMeta(t, c, "counted", meta)
	if got := revisions(t, c, "counted"); !equal(got, []uint64{3, 4}) {
		t.Fatalf("$maxCount 2: read revisions %v, want [3 4]", got)
	}

	appendN(t, c, "truncated", 5, "test")
	meta = esdb.StreamMetadata{}
	meta.SetTruncateBefore(3)
	setMeta(t, c, "truncated", meta)
	if got := revisions(t, c, "truncated"); !equal(got, []uint64{3, 4}) {
		t.Fatalf("$tb 3: read revisions %v, want [3 4]", got)
	}

	appendN(t, c, "aged", 2, "test")
	meta = esdb.StreamMetadata{}
	meta.SetMaxAge(time.Second)
	setMeta(t, c, "aged", meta)
	time.Sleep(1100 * time.Millisecond)
	appendN(t, c, "aged", 1, "test")
	if got := revisions(t, c, "aged"); !equal(got, []uint64{2}) {
		t.Fatalf("$maxAge 1s: read revisions %v, want [2]", got)
	}
}

// A soft delete leaves $tb = max int64 in the metadata, and a tombstoned
// stream's metadata cannot be read (esdbclient's
// test_stream_metadata_get_and_set).
func TestMetadataAfterDeleteAndTombstone(t *testing.T) {
	srv := esdbtest.Start(t)
	c := client(t, srv)
	ctx := context.Background()
	appendN(t, c, "deleted", 2, "test")
	if _, err := c.DeleteStream(ctx, "deleted", esdb.DeleteStreamOptions{ExpectedRevision: esdb.StreamExists{}}); err != nil {
		t.Fatal(err)
	}
	meta, err := c.GetStreamMetadata(ctx, "deleted", esdb.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// The Go client decodes metadata numbers through float64, so the
	// server's 9223372036854775807 arrives rounded up to 2^63.
	if tb := meta.TruncateBefore(); tb == nil || *tb < math.MaxInt64 {
		t.Fatalf("$tb after a delete: got %v, want %d", tb, int64(math.MaxInt64))
	}
	appendN(t, c, "deleted", 1, "test")
	meta, err = c.GetStreamMetadata(ctx, "deleted", esdb.ReadStreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tb := meta.TruncateBefore(); tb == nil || *tb != 2 {
		t.Fatalf("$tb after recreation: got %v, want 2", meta)
	}
	if got := revisions(t, c, "deleted"); !equal(got, []uint64{2}) {
		t.Fatalf("recreated stream: read revisions %v, want [2]", got)
	}
	if _, err := c.TombstoneStream(ctx, "deleted", esdb.TombstoneStreamOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetStreamMetadata(ctx, "deleted", esdb.ReadStreamOptions{})
	var e *esdb.Error
	if !errors.As(err, &e) || e.Code() != esdb.ErrorCodeStreamDeleted {
		t.Fatalf("metadata of a tombstoned stream: got %v, want stream deleted", err)
	}
}

// readAllFiltered reads $all forwards with a server-side event-type
// filter, through the generated stub (the Go client's ReadAll takes none).
func readAllFiltered(t *testing.T, srv *esdbtest.Server, regex string) ([]string, error) {
	t.Helper()
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rs, err := api.NewStreamsClient(conn).Read(context.Background(), &api.ReadReq{Options: &api.ReadReq_Options{
		StreamOption: &api.ReadReq_Options_All{All: &api.ReadReq_Options_AllOptions{
			AllOption: &api.ReadReq_Options_AllOptions_Start{Start: &shared.Empty{}},
		}},
		CountOption: &api.ReadReq_Options_Count{Count: 100},
		FilterOption: &api.ReadReq_Options_Filter{Filter: &api.ReadReq_Options_FilterOptions{
			Filter: &api.ReadReq_Options_FilterOptions_EventType{
				EventType: &api.ReadReq_Options_FilterOptions_Expression{Regex: regex},
			},
			Window: &api.ReadReq_Options_FilterOptions_Max{Max: 32},
		}},
		UuidOption: &api.ReadReq_Options_UUIDOption{
			Content: &api.ReadReq_Options_UUIDOption_String_{String_: &shared.Empty{}},
		},
	}})
	if err != nil {
		return nil, err
	}
	var types []string
	for {
		resp, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return types, nil
		}
		if err != nil {
			return types, err
		}
		if ev := resp.GetEvent().GetEvent(); ev != nil {
			types = append(types, ev.GetMetadata()["type"])
		}
	}
}

// A read of $all applies its server-side filter, and the filter's regular
// expression is .NET's: an exclusion with a negative lookahead, as
// esdbclient sends by default (test_read_all_filter_exclude_event_types),
// is compiled and applied, not refused.
func TestReadAllAppliesItsFilter(t *testing.T) {
	srv := esdbtest.Start(t)
	c := client(t, srv)
	appendN(t, c, "a", 2, "kept")
	appendN(t, c, "b", 1, "dropped")
	var meta esdb.StreamMetadata
	meta.SetMaxCount(10)
	setMeta(t, c, "a", meta) // a $metadata event in $all

	got, err := readAllFiltered(t, srv, `^(?!(\$|dropped)).*$`)
	if err != nil {
		t.Fatalf("filtered read with a lookahead: %v", err)
	}
	if len(got) != 2 || got[0] != "kept" || got[1] != "kept" {
		t.Fatalf("filtered read: event types %v, want [kept kept]", got)
	}
	if _, err := readAllFiltered(t, srv, `(`); status.Code(err) != codes.InvalidArgument {
		t.Fatalf("filter that does not compile: got %v, want InvalidArgument", err)
	}
}

// What the stand-in does not serve it refuses with UNIMPLEMENTED, never a
// silent answer: persistent subscriptions and BatchAppend. Gossip it
// serves as a single node, so a discovery connection string reaches it.
func TestUnservedCallsAreUnimplementedAndGossipIsServed(t *testing.T) {
	srv := esdbtest.Start(t)
	c := client(t, srv)
	ctx := context.Background()
	err := c.CreatePersistentSubscription(ctx, "s", "group", esdb.PersistentStreamSubscriptionOptions{})
	var e *esdb.Error
	if !errors.As(err, &e) || e.Code() != esdb.ErrorCodeUnsupportedFeature {
		t.Fatalf("create persistent subscription: got %v, want the unsupported-feature error of UNIMPLEMENTED", err)
	}

	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	batch, err := api.NewStreamsClient(conn).BatchAppend(ctx)
	if err == nil {
		_, err = batch.Recv()
	}
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("BatchAppend: got %v, want UNIMPLEMENTED", err)
	}

	config, err := esdb.ParseConnectionString("esdb+discover://" + srv.Addr() + "?tls=false")
	if err != nil {
		t.Fatal(err)
	}
	discovered, err := esdb.NewClient(config)
	if err != nil {
		t.Fatal(err)
	}
	defer discovered.Close()
	appendN(t, discovered, "through-gossip", 1, "test")
	if got := revisions(t, c, "through-gossip"); !equal(got, []uint64{0}) {
		t.Fatalf("append through a discovered connection: read revisions %v, want [0]", got)
	}
}
