// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bufio"
	"errors"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
)

// errNotConfirmed is the admin's no to a question of confirm.
var errNotConfirmed = errors.New("not confirmed: nothing was changed")

// asks reports whether apply and rollback ask before they change the host:
// only when standard input is a terminal, and neither --yes nor --resume
// was given. Without a terminal (the boot hook, CI, fleet tools, cron) they
// go on as they always did: nobody could answer.
func asks(env Env, yes bool) bool {
	if yes {
		return false
	}
	f, ok := env.Stdin.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

// questionEnv is env as confirm and what is shown before a question see
// it: with --json, standard output carries only JSON Lines, so the plan
// and the question go to standard error, which a program reading the
// events leaves alone.
func questionEnv(env Env, asJSON bool) Env {
	if asJSON {
		env.Stdout = env.Stderr
	}
	return env
}

// confirm asks question on the terminal and waits for the answer: y or
// yes goes on; anything else, or the end of input, is no
// (errNotConfirmed). A SIGINT or SIGTERM while it waits stops the command
// (ErrInterrupted).
func confirm(env Env, question string) error {
	fprintf(env.Stdout, "%s [y/N] ", question)
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(env.Stdin).ReadString('\n')
		answer <- line
	}()
	select {
	case line := <-answer:
		switch strings.ToLower(strings.TrimSpace(line)) {
		case "y", "yes":
			return nil
		}
		return errNotConfirmed
	case <-env.stop.Done():
		fprintf(env.Stdout, "\n")
		return mark(ErrInterrupted, errors.New("interrupted at the question: nothing was changed"))
	}
}
