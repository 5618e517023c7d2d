// Package domain is Waystation's model of assistance stations: the events of
// a case from arrival to exit, of stations and their beds, and of access
// tokens; the commands and pure deciders that turn a request into events or
// a rule violation; the folds that turn events into state; the authorization
// policy; and the Service that loads, decides and appends through the
// eventstore.Store interface. It imports no infrastructure.
package domain
