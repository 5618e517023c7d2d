// Command gendecode regenerates decode_gen.go in the current directory, the domain
// package's (run by go generate ./domain).
package main

import (
	"fmt"
	"os"

	"waystation/domain/internal/gendecode"
)

func main() {
	if err := gendecode.Write("."); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
