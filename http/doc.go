// Package http is Waystation's JSON API (docs/api.md) on gorilla/mux: bearer-token
// authentication against the access stream, role and scope checks through the
// domain's policy, strict request decoding, problem answers, idempotency,
// ETags, read-your-writes, the access log of case reads, server-sent events of
// the global log, Prometheus metrics and an OpenAPI 3.1 description generated
// from the same route table that the router is built from.
package http
