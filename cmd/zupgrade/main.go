// SPDX-License-Identifier: BSD-2-Clause

// Command zupgrade upgrades FreeBSD hosts whose root is on ZFS, end to end
// and safely. See README.md and docs/.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// The first SIGINT or SIGTERM asks zupgrade to stop (Env.Interrupt);
	// a second one has its default action and ends zupgrade at once, as
	// a crash would (the commands it runs are in sessions of their own
	// and finish what they do).
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	interrupt := make(chan struct{})
	go func() {
		<-sigs
		signal.Stop(sigs)
		close(interrupt)
	}()
	os.Exit(Main(context.Background(), os.Args, Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Environ: os.Environ(), Interrupt: interrupt}))
}
