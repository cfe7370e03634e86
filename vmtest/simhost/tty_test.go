// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// TestUpgradeMergeReviewNeedsTerminal: freebsd-update asks about the files
// it merged with `continuep < /dev/tty`. Run without a controlling terminal,
// as a daemon or a careless automation would, the question cannot be asked
// and the upgrade stops, whatever standard input holds.
func TestUpgradeMergeReviewNeedsTerminal(t *testing.T) {
	m, err := New(t.TempDir(), Spec{Preset: "bios", Release: "14.2-RELEASE"}, simhostBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(m.LinkPath("/usr/sbin/freebsd-update"), "--not-running-from-cron", "-r", "14.3-RELEASE", "upgrade")
	cmd.Env = append(m.Env(), "PAGER=cat")
	cmd.Stdin = strings.NewReader(strings.Repeat("y\n", 10))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err == nil || !strings.Contains(out.String(), "cannot open /dev/tty") {
		t.Errorf("upgrade without a terminal: err %v, output:\n%s", err, out.String())
	}
	if r := m.Exec(t.Context(), []string{"freebsd-update", "updatesready"}, nil, &bytes.Buffer{}, &bytes.Buffer{}, nil); r != 2 {
		t.Errorf("updatesready = %d after the failed upgrade, want 2 (nothing fetched)", r)
	}
}
