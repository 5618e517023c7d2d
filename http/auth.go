package http

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"waystation/domain"
	"waystation/eventstore"
	"waystation/internal/credential"
)

// BootstrapAdminID is the actor ID of the bootstrap admin token
// (WAYSTATION_ADMIN_TOKEN); events it writes name this actor.
const BootstrapAdminID = domain.BootstrapAdminID

// HashToken returns the SHA-256 (hex) of a bearer token: the only form in
// which tokens are stored or kept in memory.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newToken returns a fresh random bearer token and a token ID.
func newToken() (token, id string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	var i [8]byte
	_, _ = rand.Read(i[:])
	return "wst_" + base64.RawURLEncoding.EncodeToString(b[:]), "tok_" + hex.EncodeToString(i[:])
}

// tokens is the index of token hash to actor, folded from the access
// stream and kept current by a stream subscription, so a revocation written
// by another replica takes effect here too.
type tokens struct {
	admin string // hash of the bootstrap admin token, or ""
	// revoked, when set, is called with the ID of every token the index
	// folds a revocation of (once the index refuses the token, before
	// waitFor reports the revocation folded): the server ends the token's
	// live sessions with it.
	revoked func(id string)
	// people, when set, folds the account events of the access stream.
	people *people

	mu      sync.RWMutex
	access  domain.Access // guarded by mu
	applied uint64        // guarded by mu; the version waitFor reports: folded, and its revocations acted on
	changed chan struct{} // guarded by mu; closed and replaced on every event
	err     error         // guarded by mu; the last subscription error
}

func newTokens(adminToken string, revoked func(id string)) *tokens {
	t := &tokens{changed: make(chan struct{}), revoked: revoked}
	if adminToken != "" {
		t.admin = HashToken(adminToken)
	}
	return t
}

// follow folds the access stream into the index until ctx ends,
// resubscribing after failures.
func (t *tokens) follow(ctx context.Context, store eventstore.Store, log *slog.Logger) {
	for ctx.Err() == nil {
		t.mu.RLock()
		from := t.access.Version
		t.mu.RUnlock()
		for msg, err := range store.SubscribeToStream(ctx, domain.AccessStream, from) {
			if err != nil {
				if ctx.Err() == nil && !errors.Is(err, eventstore.ErrClosed) {
					log.Error("following the access stream", "err", err)
				}
				t.mu.Lock()
				t.err = err
				t.mu.Unlock()
				break
			}
			if msg.Event == nil {
				continue
			}
			env, err := domain.Decode(*msg.Event)
			if err != nil {
				log.Error("decoding an access event", "position", msg.Event.Position.String(), "err", err)
				continue
			}
			t.fold(env)
		}
		if errors.Is(t.lastErr(), eventstore.ErrClosed) {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// fold applies env to the index; for a revocation it then calls revoked,
// outside the lock (ending sessions waits for their deliveries, which
// authenticate through the index), and only after that reports the
// version to waitFor.
func (t *tokens) fold(env domain.Envelope) {
	t.mu.Lock()
	t.access.Evolve(env)
	version := t.access.Version
	t.err = nil
	t.mu.Unlock()
	if t.people != nil {
		t.people.foldAccess(env)
	}
	if e, ok := env.Event.(domain.TokenRevoked); ok && t.revoked != nil {
		t.revoked(e.ID)
	}
	t.mu.Lock()
	t.applied = version
	close(t.changed)
	t.changed = make(chan struct{})
	t.mu.Unlock()
}

func (t *tokens) lastErr() error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.err
}

// waitFor returns once the index has folded the access stream up to
// version events, and ended the sessions of the tokens they revoke, or ctx
// ends.
func (t *tokens) waitFor(ctx context.Context, version uint64) error {
	for {
		t.mu.RLock()
		v, ch := t.applied, t.changed
		t.mu.RUnlock()
		if v >= version {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// actor returns the actor of a bearer token, or false for an unknown or
// revoked one.
func (t *tokens) actor(token string) (domain.Actor, bool) {
	h := HashToken(token)
	if t.admin != "" && subtle.ConstantTimeCompare([]byte(h), []byte(t.admin)) == 1 {
		return domain.Actor{ID: BootstrapAdminID, Role: domain.RoleAdmin}, true
	}
	t.mu.RLock()
	tok, ok := t.access.ByHash(h)
	t.mu.RUnlock()
	if !ok {
		return domain.Actor{}, false
	}
	return tok.Actor(), true
}

// active reports whether the principal id (an actor ID) still
// authenticates: the bootstrap admin while its token is configured, a
// token until it is revoked.
func (t *tokens) active(id string) bool {
	if id == BootstrapAdminID {
		return t.admin != ""
	}
	t.mu.RLock()
	tok, ok := t.access.Token(id)
	t.mu.RUnlock()
	return ok && !tok.Revoked
}

// list returns every token issued, revoked ones included, without hashes.
func (t *tokens) list() []domain.Token {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.access.Tokens()
}

func (t *tokens) token(id string) (domain.Token, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.access.Token(id)
}

// authenticate reads the credential of r (a bearer token, else the
// session cookie) and returns r carrying its actor (see actorOf), or an
// unauthorized error.
func (s *Server) authenticate(r *http.Request) (*http.Request, error) {
	header := r.Header.Get("Authorization")
	if header == "" {
		if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
			return s.authenticateSession(r, c.Value)
		}
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return r, errorf(domain.CodeUnauthorized, "", "send Authorization: Bearer <token>, or log in (POST /v1/session)")
	}
	actor, ok := s.tokens.actor(strings.TrimSpace(token))
	if !ok {
		return r, errorf(domain.CodeUnauthorized, "", "the token is unknown or revoked")
	}
	return withActor(r, actor, ""), nil
}

// authenticateSession authenticates r by the session whose cookie secret
// is secret.
func (s *Server) authenticateSession(r *http.Request, secret string) (*http.Request, error) {
	digest := credential.Digest(secret)
	acc, _, ok := s.people.authenticate(digest)
	if !ok {
		return r, errorf(domain.CodeUnauthorized, "", "the session has ended: log in again")
	}
	return withActor(r, acc.Actor(), digest), nil
}

// withActor returns r carrying actor and, for a session, the digest of its
// cookie's secret.
func withActor(r *http.Request, actor domain.Actor, session string) *http.Request {
	if in, ok := r.Context().Value(keyInfo).(*reqInfo); ok {
		// The outer middleware's record of the request carries the actor,
		// which spares a copy of the request.
		in.actor, in.authenticated, in.session = actor, true, session
		return r
	}
	in := &reqInfo{actor: actor, authenticated: true, session: session}
	return r.WithContext(context.WithValue(r.Context(), keyInfo, in))
}

// infoOf returns the outer middleware's record of r, or nil.
func infoOf(r *http.Request) *reqInfo {
	in, _ := r.Context().Value(keyInfo).(*reqInfo)
	return in
}

// actorOf returns the authenticated actor of r.
func actorOf(r *http.Request) domain.Actor {
	v := r.Context().Value(keyInfo)
	if in, ok := v.(*reqInfo); ok && in.authenticated {
		return in.actor
	}
	a, _ := r.Context().Value(keyActor).(domain.Actor)
	return a
}
