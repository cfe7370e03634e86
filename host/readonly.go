// SPDX-License-Identifier: BSD-2-Clause

package host

import (
	"context"
	"fmt"
	"strings"
)

// ExitNotFound is the exit status recorded for a program that is not
// installed, as a shell reports it.
const ExitNotFound = 127

// ReadOnly reports whether args is a command known not to change the host.
// Anything it does not know is treated as mutating: the list is an allow
// list, so a new command must be added here deliberately before plan may
// run it.
func ReadOnly(args []string) bool {
	if len(args) == 0 {
		return false
	}
	rest := args[1:]
	sub := ""
	if len(rest) > 0 {
		sub = rest[0]
	}
	switch args[0] {
	case "id", "uname", "freebsd-version", "ls", "cat", "sha256", "cmp", "df", "grep":
		return true
	case "dd":
		// dd writes only with of=; without it, it copies to standard output.
		for _, a := range rest {
			if strings.HasPrefix(a, "of=") {
				return false
			}
		}
		return true
	case "file":
		return !hasFlag(rest, "-C") // -C compiles a magic file
	case "kenv":
		return !anyContains(rest, "=") && !hasFlag(rest, "-u")
	case "sysctl":
		return !anyContains(rest, "=")
	case "mount":
		return len(rest) == 0 || (len(rest) == 1 && rest[0] == "-p")
	case "zpool":
		switch sub {
		case "status", "get", "list", "version", "iostat":
			return true
		case "upgrade":
			return onlyFlags(rest[1:], "-v")
		}
	case "zfs":
		switch sub {
		case "get", "list", "version":
			return true
		case "upgrade":
			return onlyFlags(rest[1:], "-v")
		}
	case "gpart":
		return sub == "list" || sub == "show" || sub == "status"
	case "glabel", "geli", "gmirror":
		return sub == "status" || sub == "list"
	case "bectl":
		return sub == "check" || sub == "list"
	case "freebsd-update":
		return len(rest) == 1 && sub == "updatesready"
	case "pkg", "pkg-static":
		switch sub {
		case "-N", "config", "which", "query", "info", "-v", "--version":
			return true
		}
	case "efibootmgr":
		return onlyFlags(rest, "-v")
	case "sysrc":
		return !anyContains(rest, "=") && !hasFlag(rest, "-x")
	}
	return false
}

func hasFlag(args []string, flag string) bool {
	for _, a := range args {
		if a == flag {
			return true
		}
	}
	return false
}

func anyContains(args []string, s string) bool {
	for _, a := range args {
		if strings.Contains(a, s) {
			return true
		}
	}
	return false
}

// onlyFlags reports whether args holds nothing but the given flags.
func onlyFlags(args []string, flags ...string) bool {
	for _, a := range args {
		if !hasFlag(flags, a) {
			return false
		}
	}
	return true
}

// ReadOnlyRunner passes read-only commands to Next and refuses every other
// command without running it. Plan and inspect run through it, so they cannot
// change the host whatever the code above them asks for.
type ReadOnlyRunner struct {
	Next Runner
}

// Run implements Runner.
func (r ReadOnlyRunner) Run(ctx context.Context, cmd Command) (Result, error) {
	if !ReadOnly(cmd.Args) {
		return Result{}, fmt.Errorf("%s: %w", cmd.Line(), ErrMutationRefused)
	}
	return r.Next.Run(ctx, cmd)
}
