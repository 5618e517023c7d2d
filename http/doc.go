// Package http is Waystation's JSON API (docs/api.md): one route table builds the
// router and the OpenAPI description, the wrapper that registers each route enforces
// its roles, and handlers return errors that one Server.Error answers as problems.
package http
