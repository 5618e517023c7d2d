// Package domain is Waystation's model of assistance stations: the events of
// a case from arrival to exit, of stations and their beds, and of access
// tokens; the commands and pure deciders that turn a request into events or
// a rule violation; the folds that turn events into state; the authorization
// policy; and the Service that loads, decides and appends through the
// eventstore.Store interface. It imports no infrastructure.
//
// Streams: "case-<uuid>" holds one case (it moves with the person between
// stations), "station-<code>" a station's registration, zones and the
// allocation of every bed, "access" the access tokens.
//
// Beds are decided on the station stream (DecideBed, appended with the
// station stream's revision as the expected revision), so two concurrent
// assignments of one bed, or more assignments than a zone has beds, cannot
// both succeed. A case's bed is therefore read from its station
// (Service.Case fills Case.Bed in; Evolve leaves it nil). A case step that
// ends the claim to a bed (an exit, a hospital admission, a handover) is a
// pair of writes: the case event, then a station.bed_released whose ID is
// derived from the placement and the case event's ID. The Service completes
// the second write at once; if that fails (Result.BedReleasePending), it is
// completed by repeating the request with its idempotency key, by
// Service.Reconcile (ops calls it for every station at start), or when an
// assignment finds the zone full. An assignment that races with an exit
// reads the case again after writing and frees the bed if the case may no
// longer hold it, so no interleaving leaves an exited case in a bed.
//
// Commands are named after docs/api.md's steps; where a name is taken by an event
// or a state type the command has the suffix Cmd (EligibilityCmd,
// SecurityCheckCmd, LongStayCmd, ...) or a verb form (Correct,
// IdentityVerification, RelativesContact). NewCommand(step) returns a fresh
// one for any step.
package domain
