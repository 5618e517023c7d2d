package http

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"

	"waystation/domain"
	"waystation/eventstore"
)

// checkpoint is the answer of GET /v1/audit/checkpoint.
type checkpoint struct {
	Size        int64  `json:"size" doc:"Number of events the signed tree covers."`
	Root        string `json:"root" doc:"The tree's root hash, base64."`
	Note        string `json:"note" doc:"The signed checkpoint note, to verify with the verifier key."`
	VerifierKey string `json:"verifier_key" doc:"The public key that verifies the note."`
}

// auditCheckpoint answers the signed tree head of the log:
// GET /v1/audit/checkpoint (admins, inspectors).
func (s *Server) auditCheckpoint(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Audit == nil {
		return domain.NotFound("this store keeps no Merkle tree")
	}
	h, err := s.cfg.Audit.TreeHead(r.Context())
	if err != nil {
		return err
	}
	s.writeJSON(w, r, http.StatusOK, checkpoint{
		Size: h.Size, Root: base64.StdEncoding.EncodeToString(h.Root[:]),
		Note: string(h.Note), VerifierKey: s.cfg.Audit.VerifierKey(),
	})
	return nil
}

// inclusion is the answer of GET /v1/audit/proof.
type inclusion struct {
	Position string `json:"position" doc:"The event's position in the log."`
	// Leaf is the event's leaf index in the tree, which an inspector passes
	// to the proof check with the event: position minus one on the
	// embedded store, looked up on a cluster, whose positions are sparse.
	Leaf  int64    `json:"leaf" doc:"The event's leaf index in the tree, to pass to the proof check."`
	Size  int64    `json:"size" doc:"The size of the tree the proof is against."`
	Proof []string `json:"proof" doc:"The inclusion proof's hashes, base64, from the leaf up."`
}

// leafIndexer is an Audit source whose leaf indexes are not the positions
// minus one (the cluster's index: its positions are sparse). LeafIndex
// returns an error wrapping eventstore.ErrInvalid for a position it does
// not hold.
type leafIndexer interface {
	LeafIndex(ctx context.Context, pos eventstore.Position) (int64, error)
}

// leafIndex returns the leaf index of the event at pos in the Audit source.
func (s *Server) leafIndex(ctx context.Context, pos eventstore.Position) (int64, error) {
	if x, ok := s.cfg.Audit.(leafIndexer); ok {
		return x.LeafIndex(ctx, pos)
	}
	return int64(pos.Commit) - 1, nil
}

// auditProof answers the inclusion proof of the event at position in the
// tree of the first size events: GET /v1/audit/proof (admins, inspectors).
func (s *Server) auditProof(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Audit == nil {
		return domain.NotFound("this store keeps no Merkle tree")
	}
	pos, err := positionParam(r, "position")
	if err != nil || pos.IsZero() {
		return errorf(domain.CodeInvalid, "position", "position must be a log position from 1")
	}
	size, err := uintParam(r, "size", 0, 1<<62)
	if err != nil || size == 0 {
		return errorf(domain.CodeInvalid, "size", "size must be a tree size from 1")
	}
	leaf, err := s.leafIndex(r.Context(), pos)
	if errors.Is(err, eventstore.ErrInvalid) {
		return errorf(domain.CodeInvalid, "position", "no event at this position has been indexed")
	}
	if err != nil {
		return err
	}
	if uint64(leaf) >= size {
		return errorf(domain.CodeInvalid, "position", "position must not be beyond size")
	}
	proof, err := s.cfg.Audit.InclusionProof(r.Context(), pos, int64(size))
	if errors.Is(err, eventstore.ErrInvalid) {
		return errorf(domain.CodeInvalid, "size", "the log is not that long yet")
	}
	if err != nil {
		return err
	}
	out := inclusion{Position: pos.String(), Leaf: leaf, Size: int64(size), Proof: make([]string, len(proof))}
	for i, h := range proof {
		out.Proof[i] = base64.StdEncoding.EncodeToString(h[:])
	}
	s.writeJSON(w, r, http.StatusOK, out)
	return nil
}
