// Package projections is Waystation's read side: it folds the global log into
// the views that station staff, coordinators and inspectors read, and rebuilds
// them from the start or as of a past moment.
package projections
