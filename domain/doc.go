// Package domain is Waystation's model of assistance stations: the events
// of cases, stations and access tokens, the commands and pure deciders that
// turn requests into events, the folds, and the Service that runs them.
package domain

// Commands are named after docs/api.md's steps; where a name is taken by an
// event or a state type the command has the suffix Cmd (EligibilityCmd,
// SecurityCheckCmd, LongStayCmd, ...) or a verb form (Correct,
// IdentityVerification, RelativesContact). NewCommand(step) returns a fresh
// one for any step. The domain imports no infrastructure: it reaches the
// event store through the eventstore.Store interface.
