package console

import (
	"encoding/base64"
	"net/http"

	"waystation/eventstore/audit"
)

// The log's signed checkpoint (GET /v1/audit/checkpoint): the size and
// root of the Merkle tree over every event, signed by the server's key,
// with what it proves and how `waystation verify` checks the whole log
// offline.

type checkpointAnswer struct {
	Size        int64  `json:"size"`
	Root        string `json:"root"`
	Note        string `json:"note"`
	VerifierKey string `json:"verifier_key"`
}

// checkpointPage is the checkpoint and whether its signature checks with
// the key the server names and says what the note says.
type checkpointPage struct {
	checkpointAnswer
	Signed bool
	Origin string
}

func (c *Console) checkpointPage(q *req) error {
	var cp checkpointAnswer
	if _, err := c.api.call(q.r, "GET", "/v1/audit/checkpoint", nil, nil, &cp); err != nil {
		return err
	}
	p := checkpointPage{checkpointAnswer: cp}
	if h, err := audit.OpenTreeHead([]byte(cp.Note), cp.VerifierKey); err == nil {
		p.Signed = h.Size == cp.Size && base64.StdEncoding.EncodeToString(h.Root[:]) == cp.Root
		p.Origin = h.Origin
	}
	c.render(q, http.StatusOK, "admin_checkpoint", "admin.checkpoint.title", p)
	return nil
}
