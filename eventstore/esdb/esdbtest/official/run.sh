#!/usr/bin/env bash
# Runs the official Go client's own tests (EventStore-Client-Go v4, from the
# module cache) against the in-process stand-in. The client's tests start a
# server in Docker (containers_test.go); this script leaves that file and
# client_test.go out and puts in their place a small harness that serves
# esdbtest on a loopback port and hands the client's suites a client of
# it. Nothing of the client is copied into this repository: the files are
# read from the module cache into a scratch directory at run time.
#
#   eventstore/esdb/esdbtest/official/run.sh [go test flags, e.g. -v -run TestOfficial/Append]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../../.." && pwd)
cd "$repo"
go mod download github.com/EventStore/EventStore-Client-Go/v4
client=$(go list -m -f '{{.Dir}}' github.com/EventStore/EventStore-Client-Go/v4)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/esdb" "$work/resources"
cp -r "$client/resources/." "$work/resources/"
# The suites that need only a server at an address. The others need a
# Docker container (TLS, certificates, cluster), a populated database
# image, projections or persistent subscriptions.
for f in append_test.go delete_test.go read_stream_test.go subscriptions_test.go \
	connection_test.go auth_insecure_test.go read_all_test.go position_parsing_test.go \
	uuid_parsing_test.go configuration_test.go; do
	cp "$client/esdb/$f" "$work/esdb/"
done
chmod -R u+w "$work"
cp "$repo/eventstore/esdb/esdbtest/official/harness_test.go.in" "$work/esdb/harness_test.go"
cat > "$work/go.mod" <<MOD
module officialtests

go 1.26

require (
	waystation v0.0.0
	github.com/EventStore/EventStore-Client-Go/v4 $(go list -m -f '{{.Version}}' github.com/EventStore/EventStore-Client-Go/v4)
)

replace waystation => $repo
MOD
cd "$work"
GOFLAGS=-mod=mod go mod tidy >/dev/null
go test ./esdb/ -run "${RUN:-TestOfficial\$}" "$@"
