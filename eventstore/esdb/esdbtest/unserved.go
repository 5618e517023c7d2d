package esdbtest

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/persistent"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// gossipService answers gossip as a single node does: one member, the
// node itself, alive and leader at its own address (esdbclient's
// test_gossip_read, cluster size 1: one member, NODE_STATE_LEADER, the
// target's address and port). It lets gossip seeds and esdb+discover://
// reach the stand-in.
type gossipService struct {
	gossip.UnimplementedGossipServer
	s  *Server
	id uuid.UUID
}

// Read implements the gossip Read call.
func (g *gossipService) Read(context.Context, *shared.Empty) (*gossip.ClusterInfo, error) {
	host, port, err := net.SplitHostPort(g.s.addr)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &gossip.ClusterInfo{Members: []*gossip.MemberInfo{{
		InstanceId:   protoUUID(g.id),
		TimeStamp:    time.Now().UnixNano() / 100,
		State:        gossip.MemberInfo_Leader,
		IsAlive:      true,
		HttpEndPoint: &gossip.EndPoint{Address: host, Port: uint32(p)},
	}}}, nil
}

// persistentService refuses every persistent-subscription call with
// UNIMPLEMENTED, the status a server gives for a call it does not serve
// (the Go client reads it as ErrorCodeUnsupportedFeature: errToCode in
// esdb/impl.go), rather than answering as if it kept subscription groups.
// Waystation uses catch-up subscriptions only.
type persistentService struct {
	persistent.UnimplementedPersistentSubscriptionsServer
}

func unserved(what string) error {
	return status.Errorf(codes.Unimplemented, "esdbtest does not serve %s", what)
}

// Create implements the persistent-subscription Create call: refused.
func (persistentService) Create(context.Context, *persistent.CreateReq) (*persistent.CreateResp, error) {
	return nil, unserved("persistent subscriptions")
}

// Read implements the persistent-subscription Read call: refused.
func (persistentService) Read(persistent.PersistentSubscriptions_ReadServer) error {
	return unserved("persistent subscriptions")
}

// BatchAppend is refused with UNIMPLEMENTED: the stand-in serves appends
// through Append only, and says so in its supported methods, so that a
// client falls back to Append (the Go client uses Append alone).
func (svc *streamsService) BatchAppend(api.Streams_BatchAppendServer) error {
	return unserved("BatchAppend")
}
