//go:build !unix

package ops

import "time"

// cpuTime returns 0 where the platform does not say.
func cpuTime() time.Duration { return 0 }
