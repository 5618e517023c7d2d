package esdbtest

import (
	"context"
	"fmt"
	"math"
	"strconv"

	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

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
		return nil, status.Error(
			codes.FailedPrecondition,
			fmt.Sprintf(
				"Delete failed due to WrongExpectedVersion. Stream: %s, Expected version: %s, Actual version: %s",
				name, exp, actual,
			),
		)
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
	r, err := svc.s.remove(
		ctx, string(opts.GetStreamIdentifier().GetStreamName()), deleteExpectation(opts.ExpectedStreamRevision), false,
	)
	if err != nil {
		return nil, err
	}
	return &api.DeleteResp{
		PositionOption: &api.DeleteResp_Position_{
			Position: &api.DeleteResp_Position{CommitPosition: r.commit, PreparePosition: r.prepare},
		},
	}, nil
}

// Tombstone implements the streams Tombstone call (hard delete).
func (svc *streamsService) Tombstone(ctx context.Context, req *api.TombstoneReq) (*api.TombstoneResp, error) {
	opts := req.GetOptions()
	r, err := svc.s.remove(
		ctx, string(opts.GetStreamIdentifier().GetStreamName()), deleteExpectation(opts.ExpectedStreamRevision), true,
	)
	if err != nil {
		return nil, err
	}
	return &api.TombstoneResp{
		PositionOption: &api.TombstoneResp_Position_{
			Position: &api.TombstoneResp_Position{CommitPosition: r.commit, PreparePosition: r.prepare},
		},
	}, nil
}
