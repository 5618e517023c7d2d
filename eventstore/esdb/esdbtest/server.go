// Package esdbtest runs an in-process EventStoreDB stand-in for tests: a
// gRPC server on a loopback TCP port, built on the generated streams and
// server-features interfaces shipped with the EventStoreDB Go client, so
// that the real client and the esdb adapter run unchanged against it.
//
// It keeps its log in memory and implements the server behaviour that
// Waystation relies on: expected revisions, idempotent appends by event
// ID, commit/prepare positions in $all (sparse, and different from each
// other within a multi-event append), reads in both directions, catch-up
// subscriptions with confirmation, caught-up marker and filter
// checkpoints, soft delete ($tb metadata) and tombstones ($streamDeleted),
// each with the bookkeeping events a real server writes to $all, and the
// "created" timestamp the client requires. It is for tests only.
package esdbtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Server is one in-memory node. Its methods are safe for concurrent use.
type Server struct {
	addr string

	life sync.Mutex   // guards grpc
	grpc *grpc.Server // nil while stopped

	read atomic.Int64 // events sent by reads (not subscriptions)

	mu      sync.Mutex
	log     []*record          // guarded by mu: the global log, in position order
	streams map[string]*stream // guarded by mu
	next    uint64             // guarded by mu: the next free log position
	commits chan struct{}      // guarded by mu: closed and replaced on every write
	drop    chan struct{}      // guarded by mu: closed and replaced by DropSubscriptions
	subs    int                // guarded by mu: subscriptions being served
}

type record struct {
	id              uuid.UUID
	stream          string
	revision        uint64
	commit, prepare uint64
	eventType       string
	contentType     string
	data, metadata  []byte
	created         time.Time
}

type stream struct {
	records        []*record         // every event ever written, revision = index
	index          map[uuid.UUID]int // event ID → its first revision in records
	truncateBefore uint64            // revisions below are soft-deleted
	tombstoned     bool
}

// live returns the events a read sees.
func (s *stream) live() []*record { return s.records[min(s.truncateBefore, uint64(len(s.records))):] }

// Start serves a fresh node on 127.0.0.1 on a free port until the test
// ends, and returns it.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := Listen("127.0.0.1:0")
	if err != nil {
		tb.Fatalf("esdbtest: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Listen serves a fresh node on addr (host:port, port 0 for a free one).
func Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		addr:    ln.Addr().String(),
		streams: map[string]*stream{},
		next:    1 << 10, // a real log starts with its own records too
		commits: make(chan struct{}),
		drop:    make(chan struct{}),
	}
	s.serve(ln)
	return s, nil
}

// serve starts a gRPC server on ln; life must be held or s unshared.
func (s *Server) serve(ln net.Listener) {
	g := grpc.NewServer()
	api.RegisterStreamsServer(g, &streamsService{s: s})
	serverfeatures.RegisterServerFeaturesServer(g, &featuresService{})
	s.grpc = g
	go func() { _ = g.Serve(ln) }()
}

// Addr is the host:port the node listens on.
func (s *Server) Addr() string { return s.addr }

// URL is the connection string of the node: one insecure node.
func (s *Server) URL() string { return "esdb://" + s.addr + "?tls=false" }

// Close stops the node, ending every call in flight and closing every
// connection. The log is kept: Restart serves it again.
func (s *Server) Close() {
	s.life.Lock()
	defer s.life.Unlock()
	if s.grpc != nil {
		s.grpc.Stop()
		s.grpc = nil
	}
}

// Restart serves the node again on the same address after Close, with
// the log it held, as a node restarted on its database does. It is a
// no-op while the node is serving.
func (s *Server) Restart() error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.grpc != nil {
		return nil
	}
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	s.serve(ln)
	return nil
}

// EventsRead returns how many events the node has sent in answer to reads
// of streams and of $all since it started (subscriptions not counted):
// what reads cost the cluster.
func (s *Server) EventsRead() int64 { return s.read.Load() }

// DropSubscriptions ends every subscription being served with an
// "unavailable" status, as a node restart or a leader election does, and
// returns how many there were. Clients must resubscribe.
func (s *Server) DropSubscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.drop)
	s.drop = make(chan struct{})
	return s.subs
}

// Subscriptions returns how many subscriptions are being served.
func (s *Server) Subscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subs
}

// write appends records to the log; mu must be held. The records of one
// write share their commit position, which follows all their prepares,
// and positions grow by the record's size: sparse, as on a real server.
func (s *Server) write(st *stream, name string, events []*record) {
	for _, r := range events {
		r.stream = name
		r.prepare = s.next
		s.next += 64 + uint64(len(r.data)+len(r.metadata)+len(r.eventType)+len(name))
		r.created = time.Now().UTC()
	}
	commit := s.next
	s.next += 32
	for _, r := range events {
		r.commit = commit
		if st != nil {
			r.revision = uint64(len(st.records))
			st.records = append(st.records, r)
			if _, ok := st.index[r.id]; !ok {
				st.index[r.id] = int(r.revision)
			}
		}
		s.log = append(s.log, r)
	}
	close(s.commits)
	s.commits = make(chan struct{})
}

func (s *Server) stream(name string) *stream {
	st := s.streams[name]
	if st == nil {
		st = &stream{index: map[uuid.UUID]int{}}
		s.streams[name] = st
	}
	return st
}

// expectation is an expected revision from a request.
type expectation struct {
	any, noStream, exists bool
	revision              uint64
}

func (e expectation) String() string {
	switch {
	case e.any:
		return "any"
	case e.noStream:
		return "no stream"
	case e.exists:
		return "stream exists"
	}
	return strconv.FormatUint(e.revision, 10)
}

// check reports whether st is in the expected state; mu must be held.
func (e expectation) check(st *stream) bool {
	live := st.live()
	switch {
	case e.any:
		return true
	case e.noStream:
		return len(live) == 0
	case e.exists:
		return len(live) > 0
	}
	return len(live) > 0 && live[len(live)-1].revision == e.revision
}

func streamDeleted(name string) error {
	return status.Error(codes.FailedPrecondition, fmt.Sprintf("Event stream '%s' is deleted.", name))
}

func deletedTrailer(name string) metadata.MD {
	return metadata.Pairs("exception", "stream-deleted", "stream-name", name)
}

type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
}

// GetSupportedMethods answers the client's first call on every connection.
func (featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	methods := []*serverfeatures.SupportedMethod{}
	for _, m := range []string{"read", "append", "delete", "tombstone"} {
		methods = append(methods, &serverfeatures.SupportedMethod{ServiceName: "event_store.client.streams.streams", MethodName: m})
	}
	return &serverfeatures.SupportedMethods{Methods: methods, EventStoreServerVersion: "24.10.0"}, nil
}

type streamsService struct {
	api.UnimplementedStreamsServer
	s *Server
}

func uuidOf(id *shared.UUID) (uuid.UUID, error) {
	if st := id.GetStructured(); st != nil {
		return esdb.ParseUUIDFromInt64(st.MostSignificantBits, st.LeastSignificantBits)
	}
	return uuid.Parse(id.GetString_())
}

func protoUUID(id uuid.UUID) *shared.UUID {
	most, least := esdb.UUIDAsInt64(id)
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least}}}
}

// Append implements the streams Append call: options, then the proposed
// events, then one answer.
func (svc *streamsService) Append(call api.Streams_AppendServer) error {
	first, err := call.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "append must start with options")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	var exp expectation
	switch o := opts.ExpectedStreamRevision.(type) {
	case *api.AppendReq_Options_Revision:
		exp.revision = o.Revision
	case *api.AppendReq_Options_NoStream:
		exp.noStream = true
	case *api.AppendReq_Options_StreamExists:
		exp.exists = true
	default:
		exp.any = true
	}
	var events []*record
	for {
		req, err := call.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		msg := req.GetProposedMessage()
		if msg == nil {
			return status.Error(codes.InvalidArgument, "expected a proposed message")
		}
		id, err := uuidOf(msg.GetId())
		if err != nil {
			return status.Error(codes.InvalidArgument, "event id is not a UUID")
		}
		events = append(events, &record{
			id:          id,
			eventType:   msg.GetMetadata()["type"],
			contentType: msg.GetMetadata()["content-type"],
			data:        msg.GetData(),
			metadata:    msg.GetCustomMetadata(),
		})
	}

	s := svc.s
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stream(name)
	if st.tombstoned {
		call.SetTrailer(deletedTrailer(name))
		return streamDeleted(name)
	}
	if done, ok := idempotent(st, exp, events); ok {
		return call.SendAndClose(success(done))
	} else if done != nil {
		return call.SendAndClose(wrongVersion(st, exp))
	}
	if !exp.check(st) {
		return call.SendAndClose(wrongVersion(st, exp))
	}
	if len(events) == 0 {
		live := st.live()
		if len(live) == 0 {
			return call.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
				CurrentRevisionOption: &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}},
				PositionOption:        &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
			}}})
		}
		return call.SendAndClose(success(live[len(live)-1:]))
	}
	s.write(st, name, events)
	return call.SendAndClose(success(events))
}

// idempotent looks for events already written where the expectation puts
// them, as the server's commit check does: ok with the stored records when
// all are there, a non-nil prefix without ok when only some are (the
// server's "corrupted idempotency", answered as a wrong version).
func idempotent(st *stream, exp expectation, events []*record) ([]*record, bool) {
	if len(events) == 0 {
		return nil, false
	}
	start := -1
	switch {
	case exp.any || exp.exists:
		if i, ok := st.index[events[0].id]; ok {
			start = i
		}
	case exp.noStream:
		if len(st.records) > 0 {
			start = int(min(st.truncateBefore, uint64(len(st.records))))
			if start < len(st.records) && st.records[start].id != events[0].id {
				start = -1
			}
		}
	default:
		start = int(exp.revision + 1)
	}
	if start < 0 || start >= len(st.records) {
		return nil, false
	}
	matched := 0
	for i, ev := range events {
		if start+i >= len(st.records) || st.records[start+i].id != ev.id {
			break
		}
		matched++
	}
	if matched == 0 {
		return nil, false
	}
	if matched < len(events) {
		return st.records[start : start+matched], false
	}
	return st.records[start : start+matched], true
}

func success(written []*record) *api.AppendResp {
	last := written[len(written)-1]
	return &api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
		CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: last.revision},
		PositionOption: &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{
			CommitPosition: last.commit, PreparePosition: last.prepare,
		}},
	}}}
}

func wrongVersion(st *stream, exp expectation) *api.AppendResp {
	w := &api.AppendResp_WrongExpectedVersion{}
	if live := st.live(); len(live) > 0 {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: live[len(live)-1].revision}
	} else {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
	}
	switch {
	case exp.any:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
	case exp.noStream:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case exp.exists:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
	default:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: exp.revision}
	}
	return &api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}

func deleteExpectation(rev any) expectation {
	switch o := rev.(type) {
	case *api.DeleteReq_Options_Revision:
		return expectation{revision: o.Revision}
	case *api.TombstoneReq_Options_Revision:
		return expectation{revision: o.Revision}
	case *api.DeleteReq_Options_NoStream, *api.TombstoneReq_Options_NoStream:
		return expectation{noStream: true}
	case *api.DeleteReq_Options_StreamExists, *api.TombstoneReq_Options_StreamExists:
		return expectation{exists: true}
	}
	return expectation{any: true}
}

// remove checks a delete or tombstone request and writes the bookkeeping
// event a real server writes: $metadata with $tb in $$stream for a soft
// delete, $streamDeleted in the stream itself for a tombstone.
func (s *Server) remove(ctx context.Context, name string, exp expectation, hard bool) (*record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stream(name)
	if st.tombstoned {
		_ = grpc.SetTrailer(ctx, deletedTrailer(name))
		return nil, streamDeleted(name)
	}
	if !exp.check(st) {
		actual := "-1"
		if live := st.live(); len(live) > 0 {
			actual = strconv.FormatUint(live[len(live)-1].revision, 10)
		}
		_ = grpc.SetTrailer(ctx, metadata.Pairs("exception", "wrong-expected-version", "stream-name", name,
			"expected-version", exp.String(), "actual-version", actual))
		return nil, status.Error(codes.FailedPrecondition, fmt.Sprintf("Delete failed due to WrongExpectedVersion. Stream: %s, Expected version: %s, Actual version: %s", name, exp, actual))
	}
	if hard {
		st.tombstoned = true
		r := &record{id: uuid.New(), eventType: "$streamDeleted", contentType: "application/octet-stream"}
		s.write(nil, name, []*record{r})
		r.revision = math.MaxInt64
		return r, nil
	}
	st.truncateBefore = uint64(len(st.records))
	meta := s.stream("$$" + name)
	r := &record{
		id:          uuid.New(),
		eventType:   "$metadata",
		contentType: "application/json",
		data:        []byte(fmt.Sprintf(`{"$tb":%d}`, st.truncateBefore)),
	}
	s.write(meta, "$$"+name, []*record{r})
	return r, nil
}

// Delete implements the streams Delete call (soft delete).
func (svc *streamsService) Delete(ctx context.Context, req *api.DeleteReq) (*api.DeleteResp, error) {
	opts := req.GetOptions()
	r, err := svc.s.remove(ctx, string(opts.GetStreamIdentifier().GetStreamName()), deleteExpectation(opts.ExpectedStreamRevision), false)
	if err != nil {
		return nil, err
	}
	return &api.DeleteResp{PositionOption: &api.DeleteResp_Position_{Position: &api.DeleteResp_Position{CommitPosition: r.commit, PreparePosition: r.prepare}}}, nil
}

// Tombstone implements the streams Tombstone call (hard delete).
func (svc *streamsService) Tombstone(ctx context.Context, req *api.TombstoneReq) (*api.TombstoneResp, error) {
	opts := req.GetOptions()
	r, err := svc.s.remove(ctx, string(opts.GetStreamIdentifier().GetStreamName()), deleteExpectation(opts.ExpectedStreamRevision), true)
	if err != nil {
		return nil, err
	}
	return &api.TombstoneResp{PositionOption: &api.TombstoneResp_Position_{Position: &api.TombstoneResp_Position{CommitPosition: r.commit, PreparePosition: r.prepare}}}, nil
}

func readEvent(r *record) *api.ReadResp {
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
		Event: &api.ReadResp_ReadEvent_RecordedEvent{
			Id:               protoUUID(r.id),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
			StreamRevision:   r.revision,
			PreparePosition:  r.prepare,
			CommitPosition:   r.commit,
			Metadata: map[string]string{
				"type":         r.eventType,
				"content-type": r.contentType,
				// .NET ticks (100 ns) since the Unix epoch; the client
				// exits the process when this is missing.
				"created": strconv.FormatInt(r.created.UnixNano()/100, 10),
			},
			CustomMetadata: r.metadata,
			Data:           r.data,
		},
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.commit},
	}}}
}

func before(r *record, commit, prepare uint64) bool {
	return r.commit < commit || r.commit == commit && r.prepare < prepare
}

// Read implements the streams Read call: a read of a stream or of $all,
// forwards or backwards, or a catch-up subscription to either.
func (svc *streamsService) Read(req *api.ReadReq, call api.Streams_ReadServer) error {
	opts := req.GetOptions()
	if opts.GetSubscription() != nil {
		return svc.subscribe(opts, call)
	}
	backwards := opts.GetReadDirection() == api.ReadReq_Options_Backwards
	count := opts.GetCount()
	var out []*record

	s := svc.s
	s.mu.Lock()
	if so := opts.GetStream(); so != nil {
		name := string(so.GetStreamIdentifier().GetStreamName())
		st := s.streams[name]
		if st != nil && st.tombstoned {
			s.mu.Unlock()
			call.SetTrailer(deletedTrailer(name))
			return streamDeleted(name)
		}
		var live []*record
		if st != nil {
			live = st.live()
		}
		if len(live) == 0 {
			s.mu.Unlock()
			return call.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
				StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
			}}})
		}
		switch {
		case backwards:
			from := uint64(math.MaxUint64)
			if so.GetRevisionOption() != nil {
				if r, ok := so.GetRevisionOption().(*api.ReadReq_Options_StreamOptions_Revision); ok {
					from = r.Revision
				}
			}
			for i := len(live) - 1; i >= 0 && uint64(len(out)) < count; i-- {
				if live[i].revision <= from {
					out = append(out, live[i])
				}
			}
		default:
			from := uint64(0)
			if r, ok := so.GetRevisionOption().(*api.ReadReq_Options_StreamOptions_Revision); ok {
				from = r.Revision
			} else if so.GetEnd() != nil {
				from = math.MaxUint64
			}
			for _, r := range live {
				if uint64(len(out)) >= count {
					break
				}
				if r.revision >= from {
					out = append(out, r)
				}
			}
		}
	} else {
		ao := opts.GetAll()
		pos := ao.GetPosition()
		switch {
		case backwards:
			for i := len(s.log) - 1; i >= 0 && uint64(len(out)) < count; i-- {
				// Backwards from a position reads what lies before it.
				if pos == nil || before(s.log[i], pos.CommitPosition, pos.PreparePosition) {
					out = append(out, s.log[i])
				}
			}
		default:
			for _, r := range s.log {
				if uint64(len(out)) >= count || ao.GetEnd() != nil {
					break
				}
				// Forwards from a position includes the event at it.
				if pos == nil || !before(r, pos.CommitPosition, pos.PreparePosition) {
					out = append(out, r)
				}
			}
		}
	}
	s.mu.Unlock()
	s.read.Add(int64(len(out)))
	for _, r := range out {
		if err := call.Send(readEvent(r)); err != nil {
			return err
		}
	}
	return nil
}

// filter is a subscription's server-side filter.
type filter struct {
	onType   bool
	prefixes []string
	regex    *regexp.Regexp
	interval int // events examined between two checkpoints
}

func newFilter(f *api.ReadReq_Options_FilterOptions) (*filter, error) {
	if f == nil {
		return nil, nil
	}
	expr := f.GetStreamIdentifier()
	out := &filter{}
	if expr == nil {
		expr, out.onType = f.GetEventType(), true
	}
	out.prefixes = expr.GetPrefix()
	if expr.GetRegex() != "" {
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return nil, status.Error(codes.InvalidArgument, "filter regex does not compile")
		}
		out.regex = re
	}
	window := int(f.GetMax())
	if window == 0 {
		window = 32
	}
	out.interval = window * int(max(f.GetCheckpointIntervalMultiplier(), 1))
	return out, nil
}

func (f *filter) match(r *record) bool {
	subject := r.stream
	if f.onType {
		subject = r.eventType
	}
	if f.regex != nil && f.regex.MatchString(subject) {
		return true
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(subject, p) {
			return true
		}
	}
	return false
}

func checkpoint(r *record) *api.ReadResp {
	return &api.ReadResp{Content: &api.ReadResp_Checkpoint_{Checkpoint: &api.ReadResp_Checkpoint{CommitPosition: r.commit, PreparePosition: r.prepare}}}
}

// subscribe serves a catch-up subscription: the confirmation, the history
// after the start (exclusive), the caught-up marker, then live events,
// until the client goes away, the server stops or DropSubscriptions.
func (svc *streamsService) subscribe(opts *api.ReadReq_Options, call api.Streams_ReadServer) error {
	s := svc.s
	var f *filter
	if ff := opts.GetFilter(); ff != nil {
		var err error
		if f, err = newFilter(ff); err != nil {
			return err
		}
	}

	// cursor is the index in the log of the next record to look at.
	s.mu.Lock()
	cursor := 0
	name := ""
	var fromRevision uint64 // stream subscriptions: first revision to send
	if so := opts.GetStream(); so != nil {
		name = string(so.GetStreamIdentifier().GetStreamName())
		if st := s.streams[name]; st != nil && st.tombstoned {
			s.mu.Unlock()
			call.SetTrailer(deletedTrailer(name))
			return streamDeleted(name)
		}
		switch o := so.GetRevisionOption().(type) {
		case *api.ReadReq_Options_StreamOptions_Revision:
			fromRevision = o.Revision + 1
		case *api.ReadReq_Options_StreamOptions_End:
			cursor = len(s.log)
		}
	} else {
		ao := opts.GetAll()
		switch {
		case ao.GetEnd() != nil:
			cursor = len(s.log)
		case ao.GetPosition() != nil:
			p := ao.GetPosition()
			for cursor < len(s.log) && !before(&record{commit: p.CommitPosition, prepare: p.PreparePosition}, s.log[cursor].commit, s.log[cursor].prepare) {
				cursor++
			}
		}
	}
	s.subs++
	drop := s.drop
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.subs--
		s.mu.Unlock()
	}()

	if err := call.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{
		SubscriptionId: uuid.NewString(),
	}}}); err != nil {
		return err
	}
	caughtUp, examined := false, 0
	for {
		s.mu.Lock()
		batch := make([]*record, 0, 64)
		var truncateBefore uint64
		if st := s.streams[name]; name != "" && st != nil {
			truncateBefore = st.truncateBefore
		}
		for cursor < len(s.log) && len(batch) < cap(batch) {
			batch = append(batch, s.log[cursor])
			cursor++
		}
		commits := s.commits
		s.mu.Unlock()

		for _, r := range batch {
			switch {
			case name != "":
				if r.stream != name || r.revision < max(fromRevision, truncateBefore) && r.eventType != "$streamDeleted" {
					continue
				}
				if err := call.Send(readEvent(r)); err != nil {
					return err
				}
				if r.eventType == "$streamDeleted" {
					call.SetTrailer(deletedTrailer(name))
					return streamDeleted(name)
				}
			case f != nil:
				examined++
				if f.match(r) {
					if err := call.Send(readEvent(r)); err != nil {
						return err
					}
				}
				if examined%f.interval == 0 {
					if err := call.Send(checkpoint(r)); err != nil {
						return err
					}
				}
			default:
				if err := call.Send(readEvent(r)); err != nil {
					return err
				}
			}
		}
		if len(batch) > 0 {
			continue
		}
		if !caughtUp {
			caughtUp = true
			if err := call.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-commits:
		case <-drop:
			return status.Error(codes.Unavailable, "node is restarting")
		case <-call.Context().Done():
			return call.Context().Err()
		}
	}
}
