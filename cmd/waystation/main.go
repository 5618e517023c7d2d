// Command waystation runs the Waystation case-management service and its
// operator tools. It only picks the subcommand, turns SIGINT and SIGTERM into
// cancellation and errors into exit codes; the work is in package ops.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"waystation/ops"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := ops.RunCommand(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, ops.ErrUsage):
		fmt.Fprintln(os.Stderr, "waystation:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "waystation:", err)
		os.Exit(1)
	}
}
