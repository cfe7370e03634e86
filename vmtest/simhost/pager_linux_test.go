package simhost

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair (Linux).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no pseudo-terminals here: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// TestFreebsdUpdatePager checks that, on a terminal, lists go through $PAGER, which
// waits for the reader; PAGER=cat does not.
func TestFreebsdUpdatePager(t *testing.T) {
	for _, pager := range []string{"", "cat"} {
		t.Run("PAGER="+pager, func(t *testing.T) {
			tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
			master, slave := openPTY(t)
			go io.Copy(io.Discard, master)
			if pager != "" {
				tm.env["PAGER"] = pager
			}
			inR, inW := io.Pipe()
			done := make(chan int, 1)
			go func() {
				var errb strings.Builder
				done <- tm.Exec(context.Background(), []string{"freebsd-update", "--not-running-from-cron", "-r", "14.3-RELEASE", "upgrade"}, inR, slave, &errb, tm.env)
			}()
			io.WriteString(inW, "y\ny\n")
			select {
			case code := <-done:
				if pager == "" {
					t.Fatalf("upgrade ended (exit %d) without waiting for the pager", code)
				}
				if code != 0 {
					t.Fatalf("exit %d", code)
				}
				return
			case <-time.After(300 * time.Millisecond):
				if pager == "cat" {
					t.Fatalf("PAGER=cat waited for input")
				}
			}
			io.WriteString(inW, "q\n")
			inW.Close()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("exit %d after leaving the pager", code)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("upgrade did not end after the pager was left")
			}
		})
	}
}
