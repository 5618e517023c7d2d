package domain

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"

	"waystation/eventstore"
)

// Accounts returns the accounts as the access stream holds them now,
// without their sessions.
func (s *Service) Accounts(ctx context.Context) (Accounts, error) {
	var a Accounts
	_, err := s.readStream(ctx, AccessStream, a.Evolve)
	return a, err
}

// AccountCommand decides cmd (CreateAccount, ResetAccount, DisableAccount,
// ActivateAccount, EnrolTOTP, UseRecoveryCode) on the access stream and
// appends its events. Creating, resetting and disabling are admins'; a
// person enrols and spends recovery codes only for their own account;
// activation needs no actor (it proves itself by its code). The Result's
// ID is the account's.
func (s *Service) AccountCommand(ctx context.Context, actor Actor, cmd Command, opts Options) (Result, error) {
	if err := cmd.Validate(); err != nil {
		return Result{}, err
	}
	if err := authorizeAccount(actor, cmd); err != nil {
		return Result{}, err
	}
	return accessCommand(ctx, s, actor, cmd, opts, "", DecideAccount)
}

// authorizeAccount applies the account steps' policy (AccountCommand).
func authorizeAccount(actor Actor, cmd Command) error {
	switch v := cmd.(type) {
	case *CreateAccount, *ResetAccount, *DisableAccount:
		if actor.Role != RoleAdmin {
			return Forbidden("only admins manage accounts")
		}
	case *EnrolTOTP:
		if actor.ID != v.ID {
			return Forbidden("a person enrols two-factor only for their own account")
		}
	case *UseRecoveryCode:
		if actor.ID != v.ID {
			return Forbidden("a recovery code is spent only by its own account")
		}
	case *ActivateAccount:
	default:
		return Internal(nil, "the step %q is not an account step", cmd.Step())
	}
	return nil
}

// accountOf returns the account ID an account event names.
func accountOf(e Event) string {
	switch v := e.(type) {
	case AccountCreated:
		return v.ID
	case AccountActivated:
		return v.ID
	case AccountReset:
		return v.ID
	case AccountDisabled:
		return v.ID
	case TOTPEnrolled:
		return v.ID
	case RecoveryCodeUsed:
		return v.ID
	}
	return ""
}

// RecordSessions appends session events (LoggedIn, LoggedOut, LoginFailed,
// SessionsSeen) for actor to SessionsStream. expected is the number of
// events of the stream the caller's decision saw, or nil when the events
// do not depend on it; a mismatch is a conflict Error, after which the
// caller folds the stream's tail and decides again.
func (s *Service) RecordSessions(ctx context.Context, actor Actor, expected *uint64, events ...Event) (Result, error) {
	exp := eventstore.Any
	if expected != nil {
		exp = expectedFor(*expected)
	}
	now := s.now()
	ids := make([]uuid.UUID, len(events))
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
	}
	meta := Metadata{SchemaVersion: 1, OccurredAt: now, RecordedAt: now, Actor: actor.ID, Role: actor.Role,
		Station: actor.Station, Region: actor.Region}
	res, err := s.append(ctx, SessionsStream, exp, ids, events, meta)
	if errors.Is(err, eventstore.ErrWrongExpectedVersion) {
		return Result{}, &Error{Code: CodeConflict, Message: "the sessions changed since they were read"}
	}
	if err != nil {
		return Result{}, storeErr(err)
	}
	return Result{Version: res.NextExpectedRevision + 1, Position: res.Position}, nil
}

// SessionsSince folds into a the events of SessionsStream recorded at or
// after since (read from the stream's end backwards, so the cost is the
// recent tail's, however long the stream), and returns the stream's
// length.
func (s *Service) SessionsSince(ctx context.Context, a *Accounts, since time.Time) (uint64, error) {
	var tail []Envelope
	var length uint64
	for rec, err := range s.store.ReadStream(ctx, SessionsStream, eventstore.ReadStreamOptions{Direction: eventstore.Backwards, From: eventstore.StreamEnd}) {
		if err != nil {
			if errors.Is(err, eventstore.ErrStreamNotFound) || errors.Is(err, eventstore.ErrStreamDeleted) {
				return 0, nil
			}
			return 0, storeErr(err)
		}
		env, err := Decode(rec)
		if err != nil {
			return 0, Internal(err, "a stored event cannot be read")
		}
		if length == 0 {
			length = env.Revision + 1
		}
		if env.Meta.RecordedAt.Before(since) {
			break
		}
		tail = append(tail, env)
	}
	for i := len(tail) - 1; i >= 0; i-- {
		a.Evolve(tail[i])
	}
	return length, nil
}
