//go:build !unix

package loggen

import "time"

// CPUTime returns 0: the platform's CPU time is not read here.
func CPUTime() time.Duration { return 0 }
