// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"fmt"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// VersionKRUCommand is the command line whose output ParseVersionsKRU
// reads; it names the command in every *host.ParseError.
const VersionKRUCommand = "freebsd-version -kru"

// Versions is what freebsd-version(1) reports: the installed kernel (-k),
// the running kernel (-r) and the installed userland (-u).
type Versions struct {
	// Kernel is the kernel installed in /boot, the one the next boot runs.
	Kernel Release
	// Running is the kernel running now.
	Running Release
	// Userland is the installed world.
	Userland Release
}

// Newest returns the newest of the releases in v, the name freebsd-update's
// CreateBootEnv gives the boot environment it makes (freebsd-version -ku |
// sort -V | tail -n 1).
func (v Versions) Newest() Release {
	newest := v.Kernel
	for _, r := range []Release{v.Running, v.Userland} {
		if newest.Before(r) {
			newest = r
		}
	}
	return newest
}

// ParseVersionsKRU parses the output of `freebsd-version -kru`: three lines,
// installed kernel, running kernel, userland, in that order (the order is
// fixed by freebsd-version(1), whatever the order of the flags).
func ParseVersionsKRU(out []byte) (Versions, error) {
	rs, err := parseVersionLines(VersionKRUCommand, out, 3)
	if err != nil {
		return Versions{}, err
	}
	return Versions{Kernel: rs[0], Running: rs[1], Userland: rs[2]}, nil
}

// parseVersionLines reads exactly want release names, one per line. White
// space around a name (a trailing space, a CR) is tolerated, and so is a
// missing final newline; blank lines and extra lines are not.
func parseVersionLines(command string, out []byte, want int) ([]Release, error) {
	text := strings.TrimSuffix(string(out), "\n")
	if strings.TrimSpace(text) == "" {
		return nil, &host.ParseError{Command: command, Reason: "empty output"}
	}
	lines := strings.Split(text, "\n")
	if len(lines) != want {
		return nil, &host.ParseError{Command: command, Reason: lineCountReason(len(lines), want)}
	}
	rs := make([]Release, want)
	for i, line := range lines {
		r, err := ParseRelease(line)
		if err != nil {
			return nil, &host.ParseError{Command: command, Line: i + 1, Text: line, Reason: err.Error()}
		}
		rs[i] = r
	}
	return rs, nil
}

func lineCountReason(got, want int) string {
	meaning := "installed kernel, running kernel, userland"
	if want == 2 {
		meaning = "installed kernel, userland"
	}
	return fmt.Sprintf("got %d lines, want %d (%s)", got, want, meaning)
}
