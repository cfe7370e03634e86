// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

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
// waits for the reader; PAGER=cat does not. It waits on events only: what
// the command shows on the terminal (its questions, the pager's "(END)"),
// and standard input being read (a write to a pipe returns only once the
// command read it).
func TestFreebsdUpdatePager(t *testing.T) {
	const question, end = "Does this look reasonable (y/n)? ", "(END)"
	for _, pager := range []string{"", "cat"} {
		t.Run("PAGER="+pager, func(t *testing.T) {
			tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
			master, slave := openPTY(t)
			// shown carries each question and each (END), in order.
			shown := make(chan string, 64)
			go func() {
				var seen strings.Builder
				buf := make([]byte, 4096)
				for {
					n, err := master.Read(buf)
					seen.Write(buf[:n])
					text := seen.String()
					for {
						q, e := strings.Index(text, question), strings.Index(text, end)
						switch {
						case q >= 0 && (e < 0 || q < e):
							shown <- question
							text = text[q+len(question):]
							continue
						case e >= 0:
							shown <- end
							text = text[e+len(end):]
							continue
						}
						break
					}
					seen.Reset()
					seen.WriteString(text)
					if err != nil {
						return
					}
				}
			}()
			if pager != "" {
				tm.env["PAGER"] = pager
			}
			inR, inW := io.Pipe()
			t.Cleanup(func() { inR.Close() })
			done := make(chan int, 1)
			go func() {
				var errb strings.Builder
				done <- tm.Exec(context.Background(), []string{"freebsd-update", "--not-running-from-cron", "-r", "14.3-RELEASE", "upgrade"}, inR, slave, &errb, tm.env)
			}()
			pages := 0
			for {
				select {
				case what := <-shown:
					key := "y\n"
					if what == end {
						if pager == "cat" {
							t.Fatal("PAGER=cat shows (END) and waits for a key")
						}
						pages++
						key = "q\n"
					}
					// The command waits: the key is read before it goes on.
					read := make(chan struct{})
					go func() { io.WriteString(inW, key); close(read) }()
					select {
					case <-read:
					case code := <-done:
						t.Fatalf("upgrade ended (exit %d) without reading the answer to %q", code, what)
					}
				case code := <-done:
					if code != 0 {
						t.Fatalf("exit %d", code)
					}
					if pager == "" && pages == 0 {
						t.Fatal("upgrade ended without waiting for the pager")
					}
					return
				}
			}
		})
	}
}
