package http_test

import (
	"waystation/domain"
	"waystation/eventstore/bolt"
	wshttp "waystation/http"
)

// The real implementations satisfy the ports the server is built on.
var (
	_ wshttp.Service = (*domain.Service)(nil)
	_ wshttp.Audit   = (*bolt.Store)(nil)
)
