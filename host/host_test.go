// SPDX-License-Identifier: BSD-2-Clause

package host

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestQuoteArgs(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"zpool", "get", "-H", "-p", "all"}, "zpool get -H -p all"},
		{[]string{"grep", "-n", "-F", "-e", `P="[`, "-e", "libsys", "/usr/sbin/freebsd-update"},
			`grep -n -F -e 'P="[' -e libsys /usr/sbin/freebsd-update`},
		{[]string{"sed", "-i", "", "-e", "s/=_/=%@_/", "f"}, "sed -i '' -e s/=_/=%@_/ f"},
		{[]string{"echo", "it's"}, `echo 'it'\''s'`},
		{[]string{"a b"}, "'a b'"},
	}
	for _, tt := range tests {
		if got := QuoteArgs(tt.args); got != tt.want {
			t.Errorf("QuoteArgs(%q) = %s, want %s", tt.args, got, tt.want)
		}
	}
}

func TestReadOnly(t *testing.T) {
	tests := []struct {
		line string
		ro   bool
	}{
		{"zpool status", true},
		{"zpool get -H -p all", true},
		{"zpool upgrade", true},
		{"zpool upgrade -v", true},
		{"zpool upgrade zroot", false},
		{"zpool upgrade -a", false},
		{"zfs upgrade", true},
		{"zfs upgrade -r zroot", false},
		{"zfs snapshot -r zroot@x", false},
		{"gpart list", true},
		{"gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 2 ada0", false},
		{"bectl list -H", true},
		{"bectl create -r x", false},
		{"bectl activate -t x", false},
		{"freebsd-update updatesready", true},
		{"freebsd-update install", false},
		{"freebsd-update --not-running-from-cron fetch", false},
		{"sysctl machdep.bootmethod security.jail.jailed", true},
		{"sysctl kern.securelevel=0", false},
		{"kenv -q vfs.root.mountfrom", true},
		{"kenv foo=bar", false},
		{"mount -p", true},
		{"mount_msdosfs /dev/ada0p1 /mnt", false},
		{"mount -t msdosfs /dev/ada0p1 /mnt", false},
		{"efibootmgr -v", true},
		{"efibootmgr -a -b 0001", false},
		{"pkg -N", true},
		{"pkg config ABI", true},
		{"pkg upgrade -y", false},
		{"pkg-static bootstrap -f -y", false},
		{"sysrc -n zupgrade_enable", true},
		{"sysrc zupgrade_enable=YES", false},
		{"file -s /dev/ada0p1", true},
		{"file -C -m x", false},
		{"cp a b", false},
		{"dd if=/dev/ada0p2 bs=512 count=4", true},
		{"dd if=/boot/pmbr of=/dev/ada0 bs=446 count=1", false},
		{"shutdown -r now", false},
		{"rm -rf /", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ReadOnly(strings.Fields(tt.line)); got != tt.ro {
			t.Errorf("ReadOnly(%q) = %v, want %v", tt.line, got, tt.ro)
		}
	}
}

// fakeRunner answers every command with status 0 and counts the calls.
type fakeRunner struct{ calls []string }

func (f *fakeRunner) Run(_ context.Context, cmd Command) (Result, error) {
	f.calls = append(f.calls, cmd.Line())
	return Result{Stdout: []byte("ok\n")}, nil
}

func TestReadOnlyRunnerRefusesMutation(t *testing.T) {
	next := &fakeRunner{}
	r := ReadOnlyRunner{Next: next}
	ctx := context.Background()
	if _, err := r.Run(ctx, Command{Args: []string{"zpool", "status"}}); err != nil {
		t.Fatalf("read-only command refused: %v", err)
	}
	_, err := r.Run(ctx, Command{Args: []string{"zpool", "upgrade", "zroot"}})
	if !errors.Is(err, ErrMutationRefused) {
		t.Fatalf("mutating command: err = %v, want ErrMutationRefused", err)
	}
	if diff := cmp.Diff([]string{"zpool status"}, next.calls); diff != "" {
		t.Errorf("commands that reached the host (-want +got):\n%s", diff)
	}
}

func TestExecRunner(t *testing.T) {
	ctx := context.Background()
	r := ExecRunner{}
	res, err := r.Run(ctx, Command{Args: []string{"sh", "-c", `cat; echo err >&2; echo "$LC_ALL $X"; exit 3`}, Env: []string{"X=y"}, Stdin: []byte("in\n")})
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Stdout: []byte("in\nC y\n"), Stderr: []byte("err\n"), ExitCode: 3}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	res, err = r.Run(ctx, Command{Args: []string{"zupgrade-no-such-program"}})
	if err != nil || res.ExitCode != ExitNotFound {
		t.Errorf("missing program: res=%+v err=%v, want exit %d and no error", res, err, ExitNotFound)
	}
	var live bytes.Buffer
	if _, err := r.Run(ctx, Command{Args: []string{"echo", "streamed"}, Output: &live}); err != nil || live.String() != "streamed\n" {
		t.Errorf("streamed output = %q, err %v", live.String(), err)
	}
	if _, err := Output(ctx, r, "false"); err == nil || !strings.Contains(err.Error(), "false: exit status 1") {
		t.Errorf("Output(false) err = %v", err)
	}
}

// tableRunner answers from a fixed table.
type tableRunner map[string]Result

func (t tableRunner) Run(_ context.Context, cmd Command) (Result, error) {
	res, ok := t[cmd.Line()]
	if !ok {
		return Result{}, errors.New("unexpected " + cmd.Line())
	}
	return res, nil
}

func TestCaptureRoundTrip(t *testing.T) {
	host := tableRunner{
		"uname -s -r -m":              {Stdout: []byte("FreeBSD 14.1-RELEASE amd64\n")},
		"freebsd-update updatesready": {Stdout: []byte("No updates are available to install.\n"), ExitCode: 2},
		"efibootmgr -v":               {ExitCode: 1, Stderr: []byte("efibootmgr: efi variables not supported\n")},
		`grep -n -F -e 'P="[' -e libsys /usr/sbin/freebsd-update`: {Stdout: []byte("42:P=\"[-+./:=,%@_[~[:alnum:]]\"\n")},
		"sysctl -b kern.geom.confxml":                             {Stdout: []byte("<mesh>\x00")},
		"cat /x":                                                  {Stdout: []byte("-- not a member --\nno newline")},
		"bectl list -H":                                           {ExitCode: ExitNotFound, Stderr: []byte("not found\n")},
	}
	rec := &Recorder{Next: host}
	ctx := context.Background()
	for line := range host {
		args := splitForTest(line)
		if _, err := rec.Run(ctx, Command{Args: args}); err != nil {
			t.Fatal(err)
		}
	}
	data := rec.Capture(time.Date(2026, 11, 26, 13, 5, 9, 0, time.UTC), "host: test")
	if !bytes.HasPrefix(data, []byte(CaptureHeader+"\ncaptured: 2026-11-26T13:05:09Z\nhost: test\n")) {
		t.Errorf("capture starts with %q", data[:80])
	}
	rp, err := ParseCapture("t.txtar", data)
	if err != nil {
		t.Fatal(err)
	}
	for line, want := range host {
		got, err := rp.Run(ctx, Command{Args: splitForTest(line)})
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if diff := cmp.Diff(want, got, cmp.Transformer("s", func(b []byte) string { return string(b) })); diff != "" {
			t.Errorf("%s: replayed result (-want +got):\n%s\ncapture:\n%s", line, diff, data)
		}
	}
	if _, err := rp.Run(ctx, Command{Args: []string{"zpool", "status"}}); err == nil || !strings.Contains(err.Error(), `"zpool status"`) {
		t.Errorf("missing command: err = %v, want one naming the command", err)
	}
}

// splitForTest undoes QuoteArgs for the lines used in these tests.
func splitForTest(line string) []string {
	if strings.HasPrefix(line, "grep ") {
		return []string{"grep", "-n", "-F", "-e", `P="[`, "-e", "libsys", "/usr/sbin/freebsd-update"}
	}
	return strings.Fields(line)
}

func TestParseCaptureRejects(t *testing.T) {
	for name, data := range map[string]string{
		"empty":       "",
		"other":       "hello\n-- a --\nb\n",
		"new version": "zupgrade host capture, format 9\n-- a --\n",
	} {
		if _, err := ParseCapture(name, []byte(data)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestParseCaptureNamelessMarker: a line "-- --" looks like a member marker
// without a name; the txtar parser panics on it, so ParseCapture refuses it
// with the line number.
func TestParseCaptureNamelessMarker(t *testing.T) {
	for _, data := range []string{
		CaptureHeader + "\n-- --\n",
		CaptureHeader + "\n-- uname -r --\n14.2-RELEASE\n-- --\r\nmore\n",
	} {
		_, err := ParseCapture("host.txtar", []byte(data))
		if err == nil || !strings.Contains(err.Error(), "host.txtar:") || !strings.Contains(err.Error(), `"-- --"`) {
			t.Errorf("ParseCapture(%q) = %v, want an error naming the line", data, err)
		}
	}
}
