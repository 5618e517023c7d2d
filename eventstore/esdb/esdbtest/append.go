package esdbtest

import (
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func uuidOf(id *shared.UUID) (uuid.UUID, error) {
	if st := id.GetStructured(); st != nil {
		return esdb.ParseUUIDFromInt64(st.MostSignificantBits, st.LeastSignificantBits)
	}
	return uuid.Parse(id.GetString_())
}

func protoUUID(id uuid.UUID) *shared.UUID {
	most, least := esdb.UUIDAsInt64(id)
	return &shared.UUID{
		Value: &shared.UUID_Structured_{
			Structured: &shared.UUID_Structured{MostSignificantBits: most, LeastSignificantBits: least},
		},
	}
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
	size := 0
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
		// The server counts each event's data, metadata and type name (in
		// UTF-16 code units, twice) against MaxAppendSize as the events
		// arrive, and refuses the append once past it (KurrentDB's
		// Streams.Append: size += Event.SizeOnDisk(eventType, data,
		// metadata); RpcExceptions.MaxAppendSizeExceeded), which
		// EventStore-Client-Dotnet's append_to_stream_limits tests
		// (fails_when_size_exceeds_max_append_size) exercise.
		size += sizeOnDisk(msg.GetMetadata()["type"], msg.GetData(), msg.GetCustomMetadata())
		if size > svc.s.opts.MaxAppendSize {
			call.SetTrailer(metadata.Pairs(
				"exception", "maximum-append-size-exceeded",
				"maximum-append-size", strconv.Itoa(svc.s.opts.MaxAppendSize),
			))
			return status.Errorf(codes.InvalidArgument, "Maximum Append Size of %d Exceeded.", svc.s.opts.MaxAppendSize)
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
	ids := make([]uuid.UUID, len(events))
	for i, r := range events {
		ids[i] = r.id
	}
	d, stored := checkCommit(st, exp, ids)
	switch d {
	case commitDeleted:
		call.SetTrailer(deletedTrailer(name))
		return streamDeleted(name)
	case commitWrongVersion, commitCorrupted:
		return call.SendAndClose(wrongVersion(st, exp))
	case commitIdempotent:
		return call.SendAndClose(success(stored))
	}
	if len(events) == 0 {
		if st.lastNumber() < 0 {
			return call.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
				CurrentRevisionOption: &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}},
				PositionOption:        &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
			}}})
		}
		return call.SendAndClose(success(st.records[len(st.records)-1:]))
	}
	recreated := st.softDeleted()
	s.write(st, name, events)
	if recreated {
		// Appending to a soft-deleted stream brings it back from its new
		// events on: the server writes $tb = the first new revision
		// (esdbclient's test_stream_metadata_get_and_set: "$tb" is then 2
		// for a stream deleted after two events).
		s.setMeta(name, map[string]any{"$tb": events[0].revision})
	}
	if target, ok := strings.CutPrefix(name, "$$"); ok {
		if last := events[len(events)-1]; last.eventType == "$metadata" {
			s.stream(target).meta = parseMeta(last.data)
		}
	}
	return call.SendAndClose(success(events))
}

// setMeta writes a $metadata event for stream with the given values over
// its current ones, as the server's own bookkeeping does; mu must be held.
func (s *Server) setMeta(name string, values map[string]any) {
	st := s.stream(name)
	doc := map[string]any{}
	for k, v := range st.meta.raw {
		doc[k] = v
	}
	for k, v := range values {
		doc[k] = v
	}
	data, _ := json.Marshal(doc)
	r := &record{id: uuid.New(), eventType: "$metadata", contentType: "application/json", data: data}
	s.write(s.stream("$$"+name), "$$"+name, []*record{r})
	st.meta = parseMeta(data)
}

// sizeOnDisk is KurrentDB's Event.SizeOnDisk: data and metadata bytes
// plus twice the type name's length in UTF-16 code units.
func sizeOnDisk(eventType string, data, meta []byte) int {
	return len(data) + len(meta) + 2*len(utf16.Encode([]rune(eventType)))
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
	if cur := st.lastNumber(); cur >= 0 {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(cur)}
	} else {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
	}
	switch {
	case exp.any:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
	case exp.noStream:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case exp.exists:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{
			ExpectedStreamExists: &shared.Empty{},
		}
	default:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: exp.revision}
	}
	return &api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}
