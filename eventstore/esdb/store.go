// Package esdb is the EventStoreDB / KurrentDB backend of eventstore.Store,
// for a province that has outgrown one machine: several stateless
// Waystation replicas in front of a three- or five-node cluster. It speaks
// gRPC through github.com/EventStore/EventStore-Client-Go/v4 and maps the
// server's streams, $all log, catch-up subscriptions and errors onto the
// backend-neutral contract that the embedded store also keeps.
//
// Every concurrency rule (the bed race included) rests on the server's
// expected-revision check, never on process memory, so any number of
// replicas may append to the same cluster.
package esdb

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"waystation/eventstore"
)

// MaxEventSize is the largest Data plus Metadata one event may carry, the
// same as the embedded store's. A real server stores an event in one log
// record of at most 16 MiB less 10,000 bytes of overhead, counting twice
// the type name's length as well (KurrentDB's TFConsts.EffectiveMaxLogRecordSize
// and Event.SizeOnDisk), so an event is also refused when that count goes
// past maxRecordSize.
const MaxEventSize = 16 << 20

// maxRecordSize is a real server's EffectiveMaxLogRecordSize.
const maxRecordSize = 16<<20 - 10_000

// DefaultMaxAppendSize is a real server's MaxAppendSize unless it is
// configured (--max-append-size; KurrentDB's ClusterVNodeOptions:
// 1_024 * 1_024): the most bytes one append may carry, counted as the
// server counts them (data, metadata and twice the type name of each
// event).
const DefaultMaxAppendSize = 1 << 20

// Options tunes Open. The zero value works.
type Options struct {
	// Logger receives the client library's diagnostics (connection,
	// discovery and subscription drops) at debug and warn level. Nil
	// discards them.
	Logger *slog.Logger
	// ConnectTimeout bounds how long Open waits for the cluster to answer
	// before it gives up with an error. Zero means 15 seconds.
	ConnectTimeout time.Duration
	// RetryInterval is the first pause before a dropped subscription is
	// resubscribed; it doubles on each failed attempt up to 5 seconds.
	// Zero means 100 milliseconds.
	RetryInterval time.Duration
	// MaxAppendSize must be the cluster's MaxAppendSize (its
	// --max-append-size). An append larger than that, counted as the server
	// counts it, is refused with eventstore.ErrInvalid before it is sent.
	// Zero means the maxAppendSize parameter of the connection string,
	// else DefaultMaxAppendSize.
	MaxAppendSize int
	// Observer, when set, hears about every append that wrote events, for
	// metrics (the waystation_store_* series the embedded store feeds
	// too). Nil observes nothing.
	Observer Observer
}

// Observer hears about the appends a Store writes. Its method is the
// embedded store's (bolt.Observer), so one value serves both backends.
// Calls come from the appending goroutine and must return quickly.
type Observer interface {
	// ObserveBatch reports one append that wrote events: how many events,
	// always 1 request (the cluster commits each append on its own), 0 for
	// fsync (the cluster's durability is its own and not visible to a
	// client), and in total the time from sending the append to the
	// cluster's answer, the bounded retry lookup of an Any or
	// StreamExists append included. Recognised retries, refused appends
	// and empty appends are not reported.
	ObserveBatch(events, requests int, fsync, total time.Duration)
}

// Store is an eventstore.Store on an EventStoreDB / KurrentDB node or
// cluster. It is safe for concurrent use; Close ends every subscription.
type Store struct {
	config   *esdb.Configuration
	target   string // host list for error messages: never the credentials
	logger   *slog.Logger
	retry    time.Duration
	observer Observer
	maxSize  int // the cluster's MaxAppendSize

	// closed is cancelled by Close; every call derives from it.
	closed context.Context
	close  context.CancelFunc

	mu     sync.Mutex   // guards client and calls.Add
	client *esdb.Client // replaced when the client library gives up on a connection
	// calls counts operations inside the client library; Close waits for
	// them before closing the client, which would otherwise panic them.
	calls sync.WaitGroup
}

var _ eventstore.Store = (*Store)(nil)

// Open connects to the node or cluster named by url, an EventStoreDB
// connection string (esdb://host:2113?tls=false for one insecure node,
// esdb://user:pass@a:2113,b:2113,c:2113?tlsCAFile=ca.pem for a cluster, or
// esdb+discover://dns-name:2113; KurrentDB's kurrentdb:// and
// kurrentdb+discover:// name the same and are read as esdb://). TLS
// settings come from the string; writes always go to the leader. Open fails
// with a clear error, naming the hosts but never the credentials, when the
// cluster cannot be reached within opts.ConnectTimeout.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	if rest, ok := strings.CutPrefix(url, "kurrentdb"); ok && (strings.HasPrefix(rest, "://") || strings.HasPrefix(
		rest, "+discover://",
	)) {
		url = "esdb" + rest // the client library knows the scheme by its older name only
	}
	url, fromURL, err := cutMaxAppendSize(url)
	if err != nil {
		return nil, err
	}
	if opts.MaxAppendSize <= 0 {
		opts.MaxAppendSize = fromURL
	}
	config, err := esdb.ParseConnectionString(url)
	if err != nil {
		// The parser's message may quote the string, credentials included.
		return nil, fmt.Errorf(
			"esdb: connection string is not valid (expected esdb://host:port?tls=false or esdb://user:pass@host1,host2,host3)",
		)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	config.Logger = clientLogger(logger)
	if opts.ConnectTimeout <= 0 {
		opts.ConnectTimeout = 15 * time.Second
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = 100 * time.Millisecond
	}
	closed, cancel := context.WithCancel(context.Background())
	s := &Store{
		config:   config,
		target:   describeTarget(config),
		logger:   logger,
		retry:    opts.RetryInterval,
		observer: opts.Observer,
		maxSize:  opts.MaxAppendSize,
		closed:   closed,
		close:    cancel,
	}
	client, err := esdb.NewClient(config)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("esdb: connecting to %s: %w", s.target, err)
	}
	s.client = client

	// Ask the cluster something cheap so that an unreachable cluster is a
	// startup error rather than the first request's. The client library's
	// discovery does not watch a context, so the wait runs beside it.
	pingCtx, pingCancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer pingCancel()
	var (
		lastMu  sync.Mutex
		lastErr error // guarded by lastMu: why the latest attempt failed
	)
	answered := make(chan error, 1)
	go func() {
		for {
			_, err := s.Head(pingCtx)
			if err == nil || pingCtx.Err() != nil || !transient(err) {
				answered <- err
				return
			}
			lastMu.Lock()
			lastErr = err
			lastMu.Unlock()
			select {
			case <-pingCtx.Done():
			case <-time.After(s.retry):
			}
		}
	}()
	select {
	case err = <-answered:
	case <-pingCtx.Done():
		err = pingCtx.Err()
	}
	if err == nil {
		return s, nil
	}
	lastMu.Lock()
	if lastErr != nil && pingCtx.Err() != nil {
		err = lastErr
	}
	lastMu.Unlock()
	_ = s.Close()
	return nil, fmt.Errorf("esdb: cannot reach the EventStoreDB cluster at %s: %w", s.target, err)
}

// cutMaxAppendSize takes the maxAppendSize=N parameter, which is
// Waystation's and not the client library's, out of a connection string:
// the string without it and N (DefaultMaxAppendSize when absent).
func cutMaxAppendSize(url string) (string, int, error) {
	base, query, ok := strings.Cut(url, "?")
	if !ok {
		return url, DefaultMaxAppendSize, nil
	}
	size := DefaultMaxAppendSize
	var kept []string
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.EqualFold(k, "maxAppendSize") {
			kept = append(kept, kv)
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return "", 0, fmt.Errorf("esdb: connection string: maxAppendSize must be a positive number of bytes")
		}
		size = n
	}
	if len(kept) == 0 {
		return base, size, nil
	}
	return base + "?" + strings.Join(kept, "&"), size, nil
}

// MaxAppendSize returns the largest append the store sends, counted as
// the server counts it: the cluster's MaxAppendSize as Open was told it.
func (s *Store) MaxAppendSize() int { return s.maxSize }

func describeTarget(c *esdb.Configuration) string {
	if len(c.GossipSeeds) > 0 {
		hosts := make([]string, len(c.GossipSeeds))
		for i, seed := range c.GossipSeeds {
			hosts[i] = seed.String()
		}
		return strings.Join(hosts, ",")
	}
	return c.Address
}

func clientLogger(l *slog.Logger) esdb.LoggingFunc {
	return func(level esdb.LogLevel, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		switch level {
		case esdb.LogWarn, esdb.LogError:
			l.Warn("esdb client", "detail", msg)
		default:
			l.Debug("esdb client", "detail", msg)
		}
	}
}

// Close ends every subscription (they yield eventstore.ErrClosed) and
// releases the connection. Later calls return eventstore.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	s.close()
	client := s.client
	s.client = nil
	s.mu.Unlock()
	// Cancelling s.closed ends the calls in flight; only once they have
	// returned may the client's request channel close. Waiting here would
	// deadlock a caller that closes the store inside a range loop over one
	// of its iterators, so the client is closed in the background.
	if client != nil {
		go func() {
			s.calls.Wait()
			_ = client.Close()
		}()
	}
	return nil
}

func (s *Store) isClosed() bool { return s.closed.Err() != nil }

// Head implements eventstore.Store: the position of the last event that
// Waystation wrote (the server's own bookkeeping events are skipped).
func (s *Store) Head(ctx context.Context) (eventstore.Position, error) {
	for ev, err := range s.ReadAll(
		ctx, eventstore.ReadAllOptions{Direction: eventstore.Backwards, From: eventstore.End, Limit: 1},
	) {
		if err != nil {
			return eventstore.Position{}, err
		}
		return ev.Position, nil
	}
	return eventstore.Start, nil
}
