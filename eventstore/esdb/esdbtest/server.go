// Package esdbtest runs an in-process EventStoreDB / KurrentDB stand-in for
// tests: a gRPC server on a loopback TCP port, built on the generated
// streams, gossip, persistent-subscription and server-features interfaces
// shipped with the EventStoreDB Go client, so that the real client and the
// esdb adapter run unchanged against it.
//
// It keeps its log in memory and answers as a real server does, each
// behaviour with its source in a comment: expected revisions and the
// server's commit check (deleted events counted), idempotent appends by
// event ID, one commit position per event, $all reads inclusive forwards
// and exclusive backwards from a position, catch-up subscriptions with
// confirmation, caught-up marker and filter checkpoints, soft delete ($tb
// = max int64, rewritten on recreation) and tombstones ($streamDeleted),
// stream metadata ($maxCount, $maxAge, $tb) applied to reads, server-side
// filters with .NET regular expressions on reads and subscriptions of
// $all, MaxAppendSize (1 MiB unless Options say otherwise) and
// single-node gossip. Persistent subscriptions and BatchAppend are refused
// with UNIMPLEMENTED. It is for tests only.
package esdbtest

import (
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/persistent"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// Server is one in-memory node. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	addr string
	id   uuid.UUID // the node's instance ID in gossip

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
	records    []*record         // every event ever written, revision = index
	index      map[uuid.UUID]int // event ID → its first revision in records
	meta       streamMeta        // from the latest $metadata event of $$name
	tombstoned bool
}

// DefaultMaxAppendSize is a real server's MaxAppendSize unless configured
// (KurrentDB's ClusterVNodeOptions: MaxAppendSize = 1_024 * 1_024).
const DefaultMaxAppendSize = 1 << 20

// Options configures a node as a server's settings would. The zero value
// is a server's defaults.
type Options struct {
	// MaxAppendSize is the server's --max-append-size: the most bytes one
	// append may carry, counted as the server does. Zero means
	// DefaultMaxAppendSize.
	MaxAppendSize int
}

// Start serves a fresh node on 127.0.0.1 on a free port until the test
// ends, and returns it.
func Start(tb testing.TB) *Server { return StartWith(tb, Options{}) }

// StartWith is Start with a node configured by opts.
func StartWith(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s, err := ListenWith("127.0.0.1:0", opts)
	if err != nil {
		tb.Fatalf("esdbtest: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Listen serves a fresh node on addr (host:port, port 0 for a free one).
func Listen(addr string) (*Server, error) { return ListenWith(addr, Options{}) }

// ListenWith is Listen with a node configured by opts.
func ListenWith(addr string, opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if opts.MaxAppendSize <= 0 {
		opts.MaxAppendSize = DefaultMaxAppendSize
	}
	s := &Server{
		opts:    opts,
		id:      uuid.New(),
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
	// The client pings every 10 s by default (esdb/configuration.go:
	// KeepAliveInterval 10_000 ms) and a real server lets it; grpc-go's
	// default policy would answer GOAWAY "too_many_pings", which the
	// official client's own subscription tests ran into.
	g := grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
		MinTime: time.Second, PermitWithoutStream: true,
	}))
	api.RegisterStreamsServer(g, &streamsService{s: s})
	serverfeatures.RegisterServerFeaturesServer(g, &featuresService{})
	gossip.RegisterGossipServer(g, &gossipService{s: s, id: s.id})
	persistent.RegisterPersistentSubscriptionsServer(g, persistentService{})
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

// write appends records to the log; mu must be held. Every record gets
// its own position, commit and prepare alike, growing by the record's
// size: sparse, as on a real server. A real server writes each event of
// an append as its own self-committed prepare record, so every event of
// a multi-event append has a commit position of its own (KurrentDB's
// AllReader.ReadAllEventsForwardInternal: CommitEventRecord(eventRecord,
// prepare.LogPosition); EventStore-Client-Go's resources/test/all-e0-e10.json
// fixture: commit == prepare for every event of $all), and the append
// answers the position of its last event (EventStore-Client-Go issue #88:
// "AppendToStream returns the last event's commit position").
func (s *Server) write(st *stream, name string, events []*record) {
	for _, r := range events {
		r.stream = name
		r.prepare = s.next
		r.commit = s.next
		s.next += 64 + uint64(len(r.data)+len(r.metadata)+len(r.eventType)+len(name))
		r.created = time.Now().UTC()
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
		if strings.HasPrefix(name, "$$") {
			// A metastream keeps only its latest event (KurrentDB's
			// ESConsts.MetaStreamMaxCount = 1, the metadata of every
			// metastream in ReadIndex), which is why the Go client's
			// GetStreamMetadata reads one event forwards.
			one := uint64(1)
			st.meta.maxCount = &one
		}
		s.streams[name] = st
	}
	return st
}

type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
}

// GetSupportedMethods answers the client's first call on every connection
// with the methods the stand-in serves: no BatchAppend, no persistent
// subscriptions (KurrentDB's ServerFeatures lists what a node serves).
func (featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	methods := []*serverfeatures.SupportedMethod{}
	for _, m := range []string{"read", "append", "delete", "tombstone"} {
		methods = append(
			methods, &serverfeatures.SupportedMethod{ServiceName: "event_store.client.streams.streams", MethodName: m},
		)
	}
	methods = append(methods, &serverfeatures.SupportedMethod{ServiceName: "event_store.client.gossip.gossip", MethodName: "read"})
	return &serverfeatures.SupportedMethods{Methods: methods, EventStoreServerVersion: "24.10.0"}, nil
}

type streamsService struct {
	api.UnimplementedStreamsServer
	s *Server
}
