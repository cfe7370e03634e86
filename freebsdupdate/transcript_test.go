// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/internal/transcript"
)

// blocks returns the runs of consecutive non-comment lines of a fixture, as
// in freebsd-version-kru-states.txt where each state is a block of three
// lines under a "# (X)" comment.
func blocks(t testing.TB, name string) []string {
	t.Helper()
	var bs []string
	var cur []string
	for _, line := range strings.Split(transcript.Read(t, name), "\n") {
		if strings.HasPrefix(line, "#") || line == "" {
			if len(cur) > 0 {
				bs = append(bs, strings.Join(cur, "\n")+"\n")
			}
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	if len(cur) > 0 {
		bs = append(bs, strings.Join(cur, "\n")+"\n")
	}
	return bs
}

func TestTranscriptSplitsFixtures(t *testing.T) {
	runs := transcript.Cut(t, "freebsd-update-major-upgrade-14.3-to-15.0-full-sequence.txt")
	var cmds []string
	for _, r := range runs {
		cmds = append(cmds, r.Command)
	}
	want := []string{
		"freebsd-update upgrade -r 15.0-RELEASE", "freebsd-update install", "freebsd-version -kru",
		"reboot", "freebsd-update install", "pkg bootstrap -f", "pkg upgrade",
		"freebsd-update install", "freebsd-version -kru",
	}
	if strings.Join(cmds, "|") != strings.Join(want, "|") {
		t.Errorf("commands = %q, want %q", cmds, want)
	}
	if got := len(blocks(t, "freebsd-version-kru-states.txt")); got != 7 {
		t.Errorf("kru states: %d blocks, want 7", got)
	}
}
