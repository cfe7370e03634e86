// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/steps"
)

// TestExitCodeSwitch: every sentinel and typed error maps to its code,
// wrapped or not; a failed step is exit 1 whatever caused it.
func TestExitCodeSwitch(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("context: %w", err) }
	for _, c := range []struct {
		err  error
		want int
	}{
		{nil, ExitOK},
		{errors.New("plain"), ExitFailed},
		{usageErrorf("bad"), ExitUsage},
		{wrap(&steps.StateDirError{Dir: "/x", Reason: "r"}), ExitUsage},
		{wrap(&steps.JournalError{}), ExitUsage},
		{wrap(&facts.NameError{Kind: "disk", Name: "-x"}), ExitUsage},
		{mark(ErrCheckpoint, errors.New("reboot")), ExitCheckpoint},
		{wrap(mark(ErrBlocked, errors.New("blocked"))), ExitBlocked},
		{wrap(&steps.LockedError{Path: "/x/lock"}), ExitLocked},
		{mark(ErrStale, errors.New("stale")), ExitStale},
		{wrap(mark(ErrInterrupted, errors.New("stopped"))), ExitInterrupted},
		{wrap(&steps.StepError{Step: "s", Err: &facts.NameError{Kind: "disk", Name: "-x"}}), ExitFailed},
	} {
		if got := exitCode(c.err); got != c.want {
			t.Errorf("exitCode(%v) = %d, want %d", c.err, got, c.want)
		}
	}
	if got := mark(ErrStale, errors.New("the message")).Error(); got != "the message" {
		t.Errorf("a marked error says %q, want its own message", got)
	}
}

// TestHelpListsExitCodes: each command's help lists the exit codes it
// returns, with their meaning.
func TestHelpListsExitCodes(t *testing.T) {
	for name, codes := range commandExits {
		var out, errb bytes.Buffer
		code := Main(context.Background(), []string{"zupgrade", "help", name}, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb})
		if code != 0 {
			t.Fatalf("help %s: exit %d: %s", name, code, errb.String())
		}
		_, section, ok := strings.Cut(out.String(), "Exit status:")
		if !ok {
			t.Errorf("help %s has no exit status:\n%s", name, out.String())
			continue
		}
		for _, c := range codes {
			if !regexp.MustCompile(`\n\s+` + strconv.Itoa(c) + `  ` + regexp.QuoteMeta(exitMeanings[c]) + `\n`).MatchString(section) {
				t.Errorf("help %s does not list exit %d:\n%s", name, c, section)
			}
		}
	}
	app := testApp()
	for _, c := range app.Commands {
		if _, ok := commandExits[c.Name]; !ok && !c.Hidden {
			t.Errorf("command %s has no exit codes in commandExits", c.Name)
		}
	}
}
