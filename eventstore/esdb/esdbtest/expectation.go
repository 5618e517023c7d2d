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
