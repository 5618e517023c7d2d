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

// remove decides a delete or tombstone request as a real server does and
// writes the bookkeeping event it writes (KurrentDB's StorageWriterService,
// WriteDelete): the commit check of an append of one fresh event first,
// then, for a soft delete, a refusal when the stream never existed and
// otherwise $metadata {"$tb": 9223372036854775807} in $$stream, replacing
// its metadata; for a tombstone, $streamDeleted in the stream itself. So,
// as esdbclient's tests/test_client.py shows (test_stream_delete_with_*,
// test_tombstone_stream_*): a delete of a stream that never existed is
// refused (wrong expected version, actual -1; esdbclient reports
// NotFound), a delete repeated at the same revision or with Any succeeds,
// a delete with StreamExists after a delete answers stream deleted, and a
// tombstone of a stream that never existed succeeds with Any.
func (s *Server) remove(ctx context.Context, name string, exp expectation, hard bool) (*record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stream(name)
	d, _ := checkCommit(st, exp, []uuid.UUID{uuid.New()})
	if d == commitOK && !hard && st.lastNumber() < 0 && st.meta.raw == nil {
		d = commitWrongVersion
	}
	switch d {
	case commitDeleted:
		_ = grpc.SetTrailer(ctx, deletedTrailer(name))
		return nil, streamDeleted(name)
	case commitWrongVersion, commitCorrupted:
		actual := strconv.FormatInt(st.lastNumber(), 10)
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
	data := []byte(fmt.Sprintf(`{"$tb":%d}`, deletedStream))
	r := &record{id: uuid.New(), eventType: "$metadata", contentType: "application/json", data: data}
	s.write(s.stream("$$"+name), "$$"+name, []*record{r})
	st.meta = parseMeta(data)
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
