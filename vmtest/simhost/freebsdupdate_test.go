// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
)

// TestFreebsdUpdateUpgradeChecks covers the refusals of upgrade.
func TestFreebsdUpdateUpgradeChecks(t *testing.T) {
	cases := []struct {
		name  string
		stdin string
		argv  []string
		code  int
		out   string
	}{
		{"needs -r", "", []string{"freebsd-update", "--not-running-from-cron", "upgrade"}, 1, "Release target must be specified via '-r' option.\n"},
		{"not to itself", "", []string{"freebsd-update", "--not-running-from-cron", "-r", "14.2-RELEASE", "upgrade"}, 1, "Cannot upgrade from 14.2-RELEASE to itself\n"},
		{"unknown release", "y\n", []string{"freebsd-update", "--not-running-from-cron", "-r", "14.9-RELEASE", "upgrade"}, 1, "Fetching metadata signature for 14.9-RELEASE from update3.freebsd.org... failed.\nNo mirrors remaining, giving up.\n"},
		{"older release", "y\n", []string{"freebsd-update", "--not-running-from-cron", "-r", "13.4-RELEASE", "upgrade"}, 1, "appear older than what\nwe are currently running (14.2-RELEASE)!\nCowardly refusing to proceed any further.\n"},
		{"answered no", "n\n", []string{"freebsd-update", "--not-running-from-cron", "-r", "14.3-RELEASE", "upgrade"}, 1, "Does this look reasonable (y/n)? \n"},
		{"fetch from a script", "", []string{"freebsd-update", "fetch"}, 1, "freebsd-update fetch should not be run non-interactively.\nRun freebsd-update cron instead.\n"},
		{"install with nothing pending", "", []string{"freebsd-update", "install"}, 2, "No updates are available to install.\nRun 'freebsd-update [options] fetch' first.\n"},
		{"rollback with nothing installed", "", []string{"freebsd-update", "rollback"}, 1, "No rollback directory found.\n"},
	}
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	tm.env["PAGER"] = "cat"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := tm.runInput(c.stdin, c.argv...)
			if r.code != c.code || !strings.Contains(r.out, c.out) {
				t.Errorf("want exit %d and %q, got %v", c.code, c.out, r)
			}
			if r := tm.run("freebsd-update", "updatesready"); r.code != 2 {
				t.Errorf("an install is pending after a refused command: %v", r)
			}
		})
	}
}

// TestFreebsdUpdatePhases checks install's three phases, their messages,
// markers and the state freebsd-version shows between them, fetch being
// refused mid-upgrade, and CreateBootEnv.
func TestFreebsdUpdatePhases(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "13.2-RELEASE-p4"})
	tm.env["PAGER"] = "cat"
	out := tm.mustOK("", "freebsd-update", "--not-running-from-cron", "-r", "14.2-RELEASE", "upgrade")
	for _, s := range []string{"Does this look reasonable (y/n)? ", "The following files will be added as part of updating to\n14.2-RELEASE-p0:\n", "/usr/lib/libssl.so.30\n", "To install the downloaded upgrades, run 'freebsd-update [options] install'.\n"} {
		if !strings.Contains(out, s) {
			t.Errorf("upgrade output lacks %q", s)
		}
	}
	ready := tm.run("freebsd-update", "updatesready")
	if ready.code != 0 || ready.out != "There are updates available to install.\nRun 'freebsd-update [options] install' to proceed.\n" {
		t.Errorf("updatesready with an upgrade fetched: %v", ready)
	}
	if got := tm.must("cat", "/var/db/freebsd-update/tag"); !strings.HasPrefix(got, "freebsd-update|amd64|14.2-RELEASE|0|") {
		t.Errorf("tag = %q", got)
	}
	if got := tm.must("ls", "-1", installDir); got != "INDEX-NEW\nINDEX-OLD\nkernelfirst\n" {
		t.Errorf("install directory after upgrade: %q", got)
	}

	out = tm.mustOK("", "freebsd-update", "--not-running-from-cron", "install")
	want := "src component not installed, skipped\nCreating snapshot of existing boot environment... done.\nInstalling updates...\nKernel updates have been installed.  Please reboot and run\n'freebsd-update [options] install' again to finish installing updates.\n"
	if out != want {
		t.Errorf("install #1:\n%s\nwant:\n%s", out, want)
	}
	if got := tm.must("freebsd-version", "-kru"); got != "14.2-RELEASE\n13.2-RELEASE-p4\n13.2-RELEASE-p4\n" {
		t.Errorf("after install #1 freebsd-version -kru = %q", got)
	}
	if got := tm.must("bectl", "list", "-H"); !strings.Contains(got, "13.2-RELEASE-p4_2025-03-01_1000") {
		t.Errorf("CreateBootEnv made no boot environment:\n%s", got)
	}
	r := tm.run("freebsd-update", "--not-running-from-cron", "fetch")
	if r.code != 1 || r.out != "src component not installed, skipped\nYou have a partially completed upgrade pending\nRun 'freebsd-update [options] install' first.\nRun 'freebsd-update [options] fetch -F' to proceed anyway.\n" {
		t.Errorf("fetch mid-upgrade: %v", r)
	}
	if got := tm.must("ls", "-1", installDir); got != "INDEX-NEW\nINDEX-OLD\nkerneldone\nkernelfirst\n" {
		t.Errorf("install directory after install #1: %q", got)
	}

	tm.mustBoot(BootOptions{})
	if got := tm.must("freebsd-version", "-kru"); got != "14.2-RELEASE\n14.2-RELEASE\n13.2-RELEASE-p4\n" {
		t.Errorf("after the reboot freebsd-version -kru = %q", got)
	}
	out = tm.mustOK("", "freebsd-update", "--not-running-from-cron", "install")
	if !strings.Contains(out, "Installing updates...\nRestarting sshd after upgrade\n") || !strings.HasSuffix(out, "Completing this upgrade requires removing old shared object files.\nPlease rebuild all installed 3rd party software (e.g., programs\ninstalled from the ports tree) and then run\n'freebsd-update [options] install' again to finish installing updates.\n") {
		t.Errorf("install #2:\n%s", out)
	}
	if got := tm.must("freebsd-version", "-u"); got != "14.2-RELEASE\n" {
		t.Errorf("after install #2 freebsd-version -u = %q", got)
	}
	if got := tm.must("ls", "-1", "/lib"); !strings.Contains(got, "libcrypto.so.111\n") || !strings.Contains(got, "libcrypto.so.30\n") {
		t.Errorf("install #2 must keep the old libraries:\n%s", got)
	}
	out = tm.mustOK("", "freebsd-update", "--not-running-from-cron", "install")
	if !strings.HasSuffix(out, "Installing updates... done.\n") {
		t.Errorf("install #3:\n%s", out)
	}
	if got := tm.must("ls", "-1", "/lib"); strings.Contains(got, "libcrypto.so.111") {
		t.Errorf("install #3 kept the old libraries:\n%s", got)
	}
	if got := tm.must("ls", "-1", "/var/db/freebsd-update"); !strings.Contains(got, "-rollback\n") || strings.Contains(got, "-install\n") {
		t.Errorf("after install #3 the work directory holds:\n%s", got)
	}
	if r := tm.run("freebsd-update", "updatesready"); r.code != 2 {
		t.Errorf("updatesready after install #3: %v", r)
	}
	if got := tm.must("bectl", "list", "-H"); strings.Count(got, "13.2-RELEASE-p4_") != 1 || strings.Count(got, "14.2-RELEASE_") != 2 {
		t.Errorf("every install should make a boot environment:\n%s", got)
	}
}

// TestFreebsdUpdatePatchAndRollback fetches and installs a patch (one
// install, no reboot in between), then rolls it back.
func TestFreebsdUpdatePatchAndRollback(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.3-RELEASE-p5", Updates: map[string]int{"14.3-RELEASE": 6}})
	tm.env["PAGER"] = "cat"
	out := tm.mustOK("", "freebsd-update", "--not-running-from-cron", "fetch")
	if !strings.Contains(out, "The following files will be updated as part of updating to\n14.3-RELEASE-p6:\n") {
		t.Errorf("fetch:\n%s", out)
	}
	out = tm.mustOK("", "freebsd-update", "--not-running-from-cron", "install")
	if !strings.HasSuffix(out, "Installing updates... done.\n") {
		t.Errorf("install of a patch:\n%s", out)
	}
	if got := tm.must("freebsd-version", "-kru"); got != "14.3-RELEASE-p6\n14.3-RELEASE-p5\n14.3-RELEASE-p6\n" {
		t.Errorf("freebsd-version -kru = %q", got)
	}
	if got := tm.must("grep", "-c", "libsys", "/usr/sbin/freebsd-update"); got == "0\n" {
		t.Errorf("14.3-RELEASE-p6 brings EN-25:18 into freebsd-update")
	}
	out = tm.mustOK("", "freebsd-update", "--not-running-from-cron", "fetch")
	if !strings.Contains(out, "No updates needed to update system to 14.3-RELEASE-p6.\n") {
		t.Errorf("second fetch:\n%s", out)
	}
	out = tm.mustOK("", "freebsd-update", "rollback")
	if out != "Uninstalling updates... done.\n" {
		t.Errorf("rollback: %q", out)
	}
	if got := tm.must("freebsd-version", "-ku"); got != "14.3-RELEASE-p5\n14.3-RELEASE-p5\n" {
		t.Errorf("after rollback freebsd-version -ku = %q", got)
	}
}

// TestFreebsdUpdateLibsysOrdering is bug 289769: 13.x or 14.x -> 15.0 with
// a freebsd-update older than EN-25:18 installs libc before libsys and
// leaves an inoperative system; with the errata first it works.
func TestFreebsdUpdateLibsysOrdering(t *testing.T) {
	for _, rel := range []string{"14.3-RELEASE", "13.5-RELEASE"} {
		t.Run(rel+" without EN-25:18", func(t *testing.T) {
			tm := newMachine(t, Spec{Preset: "bios", Release: rel + "-p3"})
			tm.env["PAGER"] = "cat"
			tm.mustOK("", "freebsd-update", "--not-running-from-cron", "-r", "15.0-RELEASE", "upgrade")
			tm.mustOK("", "freebsd-update", "--not-running-from-cron", "install")
			tm.mustOK("", "gpart", "bootcode", "-b", "/boot/pmbr", "-p", "/boot/gptzfsboot", "-i", "1", "ada0")
			tm.mustOK("", "gpart", "bootcode", "-b", "/boot/pmbr", "-p", "/boot/gptzfsboot", "-i", "1", "ada1")
			tm.reboot(BootOptions{})
			r := tm.run("freebsd-update", "--not-running-from-cron", "install")
			if r.code == 0 || !strings.Contains(r.out, `ld-elf.so.1: Shared object "libsys.so.7" not found, required by "libc.so.7"`) {
				t.Fatalf("install #2 without EN-25:18: %v", r)
			}
			r = tm.run("uname", "-r")
			if r.code != 1 || !strings.Contains(r.err, `Shared object "libsys.so.7" not found`) {
				t.Errorf("the system should be inoperative: %v", r)
			}
			// shutdown cannot run either: the power button.
			if r := tm.run("shutdown", "-r", "now"); r.code != 1 {
				t.Errorf("shutdown on the inoperative system: %v", r)
			}
			if err := tm.PowerCut(); err != nil {
				t.Fatal(err)
			}
			if rep := tm.boot(BootOptions{}); rep.Booted || !strings.Contains(rep.Reason, "inoperative") {
				t.Errorf("boot of the inoperative system: %+v", rep)
			}
		})
		t.Run(rel+" with EN-25:18", func(t *testing.T) {
			tm := newMachine(t, Spec{Preset: "bios", Release: rel + "-p3", Updates: map[string]int{rel: 6}})
			tm.env["PAGER"] = "cat"
			tm.mustOK("", "freebsd-update", "--not-running-from-cron", "fetch", "install")
			rep := tm.upgrade(upgradeSteps{target: "15.0-RELEASE", bootDisks: []string{"ada0", "ada1"}, bootIndex: 1})
			if !rep.Booted {
				t.Fatalf("did not boot: %s", rep.Reason)
			}
			if got := tm.must("freebsd-version", "-kru"); got != "15.0-RELEASE\n15.0-RELEASE\n15.0-RELEASE\n" {
				t.Errorf("freebsd-version -kru = %q", got)
			}
		})
	}
	t.Run("14.2-RELEASE patched: still without EN-25:18", func(t *testing.T) {
		tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE-p3", Updates: map[string]int{"14.2-RELEASE": 9}})
		tm.env["PAGER"] = "cat"
		tm.mustOK("", "freebsd-update", "--not-running-from-cron", "fetch", "install")
		if r := tm.run("grep", "-c", "libsys", "/usr/sbin/freebsd-update"); r.code != 1 || r.out != "0\n" {
			t.Errorf("14.2's freebsd-update names libsys after its patches: %v", r)
		}
	})
}

// TestFreebsdUpdateMergeConflict checks that a conflict needs an editor on a
// terminal; unattended, upgrade never returns until killed, and leaves
// nothing pending.
func TestFreebsdUpdateMergeConflict(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.3-RELEASE", Conflicts: []string{"/etc/pkg/FreeBSD.conf"}})
	tm.env["PAGER"] = "cat"
	tm.env["EDITOR"] = "/usr/bin/false"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &signalWriter{want: "manually...\n", seen: make(chan struct{})}
	var errb strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- tm.Exec(ctx, []string{"freebsd-update", "--not-running-from-cron", "-r", "15.0-RELEASE", "upgrade"}, strings.NewReader("y\ny\n"), out, &errb, tm.env)
	}()
	select {
	case <-out.seen:
	case code := <-done:
		t.Fatalf("upgrade ended (exit %d) instead of waiting for an editor:\n%s%s", code, out.String(), errb.String())
	}
	// While it waits, the machine answers other commands.
	if r := tm.run("uname", "-r"); r.code != 0 {
		t.Errorf("uname while freebsd-update waits for an editor: %v", r)
	}
	select {
	case code := <-done:
		t.Fatalf("freebsd-update ended (exit %d) before it was killed", code)
	default:
	}
	cancel()
	if code := <-done; code != 143 {
		t.Errorf("exit %d, want 143 (killed)", code)
	}
	if !strings.Contains(out.String(), "The following file could not be merged automatically: /etc/pkg/FreeBSD.conf\nPress Enter to edit this file in /usr/bin/false and resolve the conflicts\nmanually...\n") {
		t.Errorf("output:\n%s", out.String())
	}
	if r := tm.run("freebsd-update", "updatesready"); r.code != 2 {
		t.Errorf("an interrupted upgrade left an install pending: %v", r)
	}
}

// TestFreebsdUpdatePkgbase checks that freebsd-update refuses a packaged base (from
// 14.3, where it checks).
func TestFreebsdUpdatePkgbase(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "uefi", Release: "14.3-RELEASE", Pkgbase: true})
	if got := tm.must("pkg", "which", "-q", "/usr/bin/uname"); got != "FreeBSD-runtime-14.3\n" {
		t.Errorf("pkg which -q /usr/bin/uname = %q", got)
	}
	r := tm.run("freebsd-update", "--not-running-from-cron", "fetch")
	if r.code != 1 || r.out != "freebsd-update is incompatible with the use of packaged base.  Please see\nhttps://wiki.freebsd.org/PkgBase for more information.\n" {
		t.Errorf("freebsd-update on pkgbase: %v", r)
	}
	if _, err := os.Stat(tm.HostPath("/var/db/freebsd-update/tag")); err == nil {
		t.Errorf("the refused fetch wrote a tag")
	}
}

// TestFreebsdUpdateCronOption checks --not-running-from-cron and -F by
// release: the scripts from before EN-15:04 (10.2-RELEASE is the first
// release with it) neither mention the option, for the quirk probe, nor
// accept it: they print their usage on standard output and exit 0, having
// done nothing. Every release's fetch refuses to run without a terminal;
// only the option gets past that.
func TestFreebsdUpdateCronOption(t *testing.T) {
	probe := []string{"grep", "-n", "-F", "-e", `P="[`, "-e", "libsys", "-e", "--not-running-from-cron", "/usr/sbin/freebsd-update"}
	refused := "freebsd-update fetch should not be run non-interactively.\nRun freebsd-update cron instead.\n"
	tests := []struct {
		release string
		knows   bool
	}{
		{"8.2-RELEASE", false},
		{"9.3-RELEASE", false},
		{"10.1-RELEASE", false},
		{"10.2-RELEASE", true},
		{"11.4-RELEASE", true},
		{"13.2-RELEASE", true},
		{"14.2-RELEASE", true},
		{"15.0-RELEASE", true},
	}
	for _, tt := range tests {
		t.Run(tt.release, func(t *testing.T) {
			tm := newMachine(t, Spec{Preset: "bios", Release: tt.release, Disks: 1})
			tm.env["PAGER"] = "cat"

			lines := strings.Split(strings.TrimSuffix(tm.must(probe...), "\n"), "\n")
			var caseBranch, usageLine, pattern int
			for _, l := range lines {
				_, text, _ := strings.Cut(l, ":")
				switch {
				case strings.TrimSpace(text) == "--not-running-from-cron)":
					caseBranch++
				case strings.TrimSpace(text) == "--not-running-from-cron":
					usageLine++
				case strings.Contains(text, `P="[`):
					pattern++
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tt.knows]; caseBranch != want || usageLine != want || pattern != 1 {
				t.Errorf("probe lines %q: %d case branch, %d usage line, %d P= lines; want %d, %d, 1", lines, caseBranch, usageLine, pattern, want, want)
			}
			if tt.release == "8.2-RELEASE" && (len(lines) != 1 || !strings.HasSuffix(lines[0], `P="[-+./:=_[[:alnum:]]"`)) {
				t.Errorf("8.2 probe = %q, want only the old P= pattern", lines)
			}

			if r := tm.run("freebsd-update", "fetch"); r.code != 1 || r.out != refused {
				t.Errorf("fetch without a terminal: %v", r)
			}
			if tt.knows {
				if r := tm.run("freebsd-update", "--not-running-from-cron", "install"); r.code != 2 || !strings.HasSuffix(r.out, "No updates are available to install.\nRun 'freebsd-update [options] fetch' first.\n") {
					t.Errorf("--not-running-from-cron install with nothing pending: %v", r)
				}
				if r := tm.run("freebsd-update", "-F", "fetch"); r.code != 1 || r.out != refused {
					t.Errorf("-F fetch without a terminal: %v", r)
				}
			}
			for _, argv := range [][]string{
				{"freebsd-update", "--not-running-from-cron", "install"},
				{"freebsd-update", "--not-running-from-cron", "-r", "14.3-RELEASE", "upgrade"},
				{"freebsd-update", "-F", "fetch"},
				{"freebsd-update", "fetch", "--not-running-from-cron"},
				{"freebsd-update", "-r"},
			} {
				if tt.knows {
					break
				}
				if r := tm.run(argv...); r.code != 0 || r.out != fuUsageBefore2015 || r.err != "" {
					t.Errorf("%s: want the usage and exit 0, got %v", strings.Join(argv, " "), r)
				}
			}

			r := tm.run("freebsd-update", "--not-running-from-cron", "fetch")
			_, tagErr := os.Stat(tm.HostPath("/var/db/freebsd-update/tag"))
			switch {
			case tt.knows && (r.code != 0 || tagErr != nil):
				t.Errorf("--not-running-from-cron fetch: %v (tag: %v)", r, tagErr)
			case !tt.knows && (r.code != 0 || r.out != fuUsageBefore2015 || tagErr == nil):
				t.Errorf("--not-running-from-cron fetch on an old script: %v (tag: %v)", r, tagErr)
			}
			if r := tm.run("freebsd-update", "updatesready"); r.code != 2 {
				t.Errorf("an install is pending: %v", r)
			}
		})
	}
}

// TestFreebsdUpdateCronOptionFollowsTheScript upgrades 10.1 to 10.2: the
// option works once install has replaced /usr/sbin/freebsd-update with
// 10.2's, not before.
func TestFreebsdUpdateCronOptionFollowsTheScript(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "10.1-RELEASE", Disks: 1})
	tm.env["PAGER"] = "cat"
	if argv := tm.freebsdUpdate("install"); len(argv) != 2 {
		t.Fatalf("10.1's script knows --not-running-from-cron: %q", argv)
	}
	tm.mustOK("y\ny\n", "freebsd-update", "-r", "10.2-RELEASE", "upgrade")
	tm.mustOK("", "freebsd-update", "install")
	tm.mustOK("", "gpart", "bootcode", "-b", "/boot/pmbr", "-p", "/boot/gptzfsboot", "-i", "1", "ada0")
	if rep := tm.reboot(BootOptions{}); !rep.Booted {
		t.Fatalf("did not boot: %s", rep.Reason)
	}
	if r := tm.run("freebsd-update", "--not-running-from-cron", "install"); r.out != fuUsageBefore2015 {
		t.Errorf("10.1's script, with the 10.2 kernel running, accepted the option: %v", r)
	}
	tm.mustOK("", "freebsd-update", "install")
	if argv := tm.freebsdUpdate("install"); len(argv) != 3 {
		t.Fatalf("10.2's script does not know --not-running-from-cron: %q", argv)
	}
	if r := tm.run("freebsd-update", "--not-running-from-cron", "fetch"); r.code != 0 || r.out == fuUsageBefore2015 {
		t.Errorf("--not-running-from-cron fetch with 10.2's script: %v", r)
	}
}

// signalWriter collects output and closes seen once it holds want.
type signalWriter struct {
	mu   sync.Mutex
	b    strings.Builder
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
