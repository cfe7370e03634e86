// SPDX-License-Identifier: BSD-2-Clause

package host

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestDialogAnswersOnTheTerminal(t *testing.T) {
	script := `printf 'first (y/n)? '; read a </dev/tty; echo "got $a"; printf 'second (y/n)? '; read b </dev/tty; echo "got $b"; exit 3`
	asked := 0
	dialog := func(screen string) (string, bool) {
		if strings.HasSuffix(screen, "(y/n)? ") {
			asked++
			return "y\n", false
		}
		return "", false
	}
	res, err := ExecRunner{}.Run(context.Background(), Command{Args: []string{"sh", "-c", script}, Dialog: dialog})
	if err != nil {
		t.Fatal(err)
	}
	out := strings.ReplaceAll(string(res.Stdout), "\r", "")
	if asked != 2 || res.ExitCode != 3 || strings.Count(out, "got y\n") != 2 {
		t.Errorf("asked %d times, exit %d, output %q", asked, res.ExitCode, out)
	}
}

func TestDialogStops(t *testing.T) {
	start := time.Now()
	dialog := func(screen string) (string, bool) { return "", strings.Contains(screen, "Press Enter to edit") }
	_, err := ExecRunner{}.Run(context.Background(), Command{Args: []string{"sh", "-c", "echo 'Press Enter to edit this file'; read x </dev/tty; sleep 60"}, Dialog: dialog})
	if !errors.Is(err, ErrStopped) {
		t.Errorf("err = %v, want ErrStopped", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stopping took %s", d)
	}
}

// Without a dialog a command has no controlling terminal: what would ask on
// /dev/tty fails at once instead of waiting.
func TestNoTerminalWithoutDialog(t *testing.T) {
	res, err := ExecRunner{}.Run(context.Background(), Command{Args: []string{"sh", "-c", "read x </dev/tty && echo read"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode == 0 || strings.Contains(string(res.Stdout), "read") {
		t.Errorf("read from /dev/tty without a terminal: exit %d, %q", res.ExitCode, res.Stdout)
	}
}
