package esdbtest

import (
	"math"
	"time"

	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

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
			for cursor < len(s.log) && !before(
				&record{commit: p.CommitPosition, prepare: p.PreparePosition}, s.log[cursor].commit, s.log[cursor].prepare,
			) {
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

	confirm := &api.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()}
	if err := call.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: confirm}}); err != nil {
		return err
	}
	caughtUp, examined := false, 0
	for {
		s.mu.Lock()
		batch := make([]*record, 0, 64)
		var truncateBefore uint64
		if st := s.streams[name]; name != "" && st != nil {
			truncateBefore = st.firstLive(time.Now())
			if st.softDeleted() {
				truncateBefore = math.MaxUint64
			}
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
			if err := call.Send(
				&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}},
			); err != nil {
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
