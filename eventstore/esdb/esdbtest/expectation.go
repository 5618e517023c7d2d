package esdbtest

import (
	"fmt"
	"strconv"

	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

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
