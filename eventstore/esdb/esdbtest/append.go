package esdbtest

import (
	"errors"
	"io"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
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
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{
			CurrentRevision: live[len(live)-1].revision,
		}
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
