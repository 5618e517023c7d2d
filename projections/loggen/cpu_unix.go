//go:build unix

package loggen

import (
	"syscall"
	"time"
)

// CPUTime returns the user and system CPU time the process has used, for
// benchmark reports (which a loaded machine disturbs less than wall time).
func CPUTime() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
