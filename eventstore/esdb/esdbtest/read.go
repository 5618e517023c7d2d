package esdbtest

import (
	"math"
	"strconv"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/dlclark/regexp2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

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
		// The metadata of a tombstoned stream cannot be read either
		// (esdbclient's test_stream_metadata_get_and_set: StreamIsDeleted
		// from get_stream_metadata after tombstone_stream).
		target, meta := strings.CutPrefix(name, "$$")
		if t := s.streams[target]; meta && t != nil && t.tombstoned || st != nil && st.tombstoned {
			s.mu.Unlock()
			call.SetTrailer(deletedTrailer(name))
			return streamDeleted(name)
		}
		// A stream that never had events, or is soft-deleted, is not found;
		// one whose events $maxAge, $maxCount or $tb hide reads as empty
		// (EventStore-Client-Go's read_stream_test.go readStreamWithMaxAge:
		// io.EOF on the first receive, not "stream not found").
		var live []*record
		if st != nil {
			live = st.live()
		}
		if st == nil || st.lastNumber() < 0 || st.softDeleted() {
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
		f, err := newFilter(opts.GetFilter())
		if err != nil {
			s.mu.Unlock()
			return err
		}
		ao := opts.GetAll()
		pos := ao.GetPosition()
		switch {
		case backwards:
			// Backwards from a position reads what lies before it: the
			// event at the position is left out (EventStore-Client-Go's
			// read_all_test.go readAllEventsBackwardsFromNonZeroPosition:
			// from 3386/3386 the first event is the one at 3256/3256).
			for i := len(s.log) - 1; i >= 0 && uint64(len(out)) < count; i-- {
				if (pos == nil || before(s.log[i], pos.CommitPosition, pos.PreparePosition)) && f.allows(s.log[i]) {
					out = append(out, s.log[i])
				}
			}
		case ao.GetEnd() != nil:
		default:
			// Forwards from a position includes the event at it
			// (read_all_test.go readAllEventsForwardsFromNonZeroPosition:
			// from 1788/1788 the first event is the one at 1788/1788;
			// KurrentDB's AllReader: TFPos(prepare.LogPosition,
			// prepare.LogPosition) >= pos).
			for _, r := range s.log {
				if uint64(len(out)) >= count {
					break
				}
				if (pos == nil || !before(r, pos.CommitPosition, pos.PreparePosition)) && f.allows(r) {
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
	regex    *regexp2.Regexp
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
		// The server compiles the expression with .NET's regular
		// expressions (KurrentDB's EventFilter: new Regex(...)), which
		// have lookaround, as in the exclusion filters clients send
		// (esdbclient's DEFAULT_EXCLUDE_FILTER, "^(?!...)"-style
		// patterns; its test_read_all_filter_exclude_* tests); regexp2
		// is a port of that engine, where Go's regexp would refuse them.
		re, err := regexp2.Compile(expr.GetRegex(), regexp2.None)
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

// allows reports whether a read with filter f (nil: none) returns r: a
// read of $all applies the server-side filter as a subscription does
// (esdbclient's test_read_all_filter_include_event_types and
// test_read_all_filter_exclude_stream_identifiers read $all with one).
func (f *filter) allows(r *record) bool { return f == nil || f.match(r) }

func (f *filter) match(r *record) bool {
	subject := r.stream
	if f.onType {
		subject = r.eventType
	}
	if f.regex != nil {
		if ok, err := f.regex.MatchString(subject); err == nil && ok {
			return true
		}
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(subject, p) {
			return true
		}
	}
	return false
}

func checkpoint(r *record) *api.ReadResp {
	return &api.ReadResp{
		Content: &api.ReadResp_Checkpoint_{
			Checkpoint: &api.ReadResp_Checkpoint{CommitPosition: r.commit, PreparePosition: r.prepare},
		},
	}
}
