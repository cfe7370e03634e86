// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pathHook is an rc.d script that shows the environment rc gives it: its
// PATH and where (or whether) a few bare names resolve.
const pathHook = `#!/bin/sh
# PROVIDE: pathhook
# REQUIRE: LOGIN

. /etc/rc.subr

name="pathhook"
rcvar="pathhook_enable"
start_cmd="pathhook_start"
stop_cmd=":"

load_rc_config $name

pathhook_start()
{
	echo "PATH=$PATH"
	for c in zpool freebsd-update pkg pkg-static portmaster; do
		command -v $c || echo "$c: not found"
	done
}

run_rc_command "$1"
`

// TestBootPATH: rc.d scripts run with the PATH /etc/rc exports,
// /sbin:/bin:/usr/sbin:/usr/bin (libexec/rc/rc), mapped to the link
// directories; each simulated command lives where FreeBSD installs it, so
// at boot pkg-static and portmaster (/usr/local/sbin) are not found while
// pkg resolves to the pkg(7) shim in /usr/sbin. An interactive root shell
// (Machine.Env) finds them all.
func TestBootPATH(t *testing.T) {
	tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Disks: 1, Portmaster: true})
	tm.writeMachineFile("/usr/local/etc/rc.d/pathhook", pathHook, 0o555)
	tm.must("sysrc", "pathhook_enable=YES")
	rep := tm.reboot(BootOptions{})
	if len(rep.Hooks) != 1 {
		t.Fatalf("hooks: %+v", rep.Hooks)
	}
	want := "PATH=" + tm.MapPATH("/sbin:/bin:/usr/sbin:/usr/bin") + "\n" +
		tm.LinkPath("/sbin/zpool") + "\n" +
		tm.LinkPath("/usr/sbin/freebsd-update") + "\n" +
		tm.LinkPath("/usr/sbin/pkg") + "\n" +
		"pkg-static: not found\nportmaster: not found\n"
	if got := rep.Hooks[0].Output; got != want {
		t.Errorf("at boot:\n%s\nwant:\n%s", got, want)
	}

	for name, want := range map[string]string{
		"zpool": "/sbin/zpool", "gpart": "/sbin/gpart", "bectl": "/sbin/bectl", "sha256": "/sbin/sha256",
		"freebsd-version": "/bin/freebsd-version", "uname": "/usr/bin/uname", "install": "/usr/bin/install",
		"freebsd-update": "/usr/sbin/freebsd-update", "efibootmgr": "/usr/sbin/efibootmgr", "daemon": "/usr/sbin/daemon",
		"pkg": "/usr/sbin/pkg", "pkg-static": "/usr/local/sbin/pkg-static", "portmaster": "/usr/local/sbin/portmaster",
	} {
		if got := resolveIn(tm.Env(), name); got != tm.LinkPath(want) {
			t.Errorf("root's shell: %s resolves to %q, want %s", name, got, tm.LinkPath(want))
		}
	}
	if _, err := os.Lstat(tm.LinkPath("/usr/local/sbin/pkg")); err != nil {
		t.Errorf("no link for pkg(8) in /usr/local/sbin: %v", err)
	}
	for _, name := range CommandNames() {
		for _, p := range commandPaths(name) {
			if st, err := os.Stat(tm.LinkPath(p)); err != nil || st.IsDir() {
				t.Errorf("%s: no link at %s: %v", name, p, err)
			}
		}
	}
}

// TestDaemonRunsMachinePrograms: daemon runs an absolute path of the
// machine: a simulated command's link, or a file under the root; a
// program that does not exist fails in the detached child, not in daemon.
func TestDaemonRunsMachinePrograms(t *testing.T) {
	tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Disks: 1})
	tm.writeMachineFile("/usr/local/sbin/tool", "#!/bin/sh\necho \"tool $1\"\n", 0o555)
	ctx := testContext(t)
	for _, c := range []struct {
		argv []string
		log  string
		exit int
	}{
		{[]string{"/usr/bin/uname", "-r"}, "14.2-RELEASE\n", 0},
		{[]string{"/usr/local/sbin/tool", "x"}, "tool x\n", 0},
		{[]string{"/usr/local/sbin/missing"}, "daemon: /usr/local/sbin/missing: No such file or directory\n", 1},
		{[]string{"portmaster"}, "daemon: portmaster: No such file or directory\n", 1},
	} {
		os.Remove(tm.HostPath("/root/out.log"))
		env := map[string]string{"PATH": tm.MapPATH("/sbin:/bin:/usr/sbin:/usr/bin"), RootEnv: tm.Root}
		var out, errb strings.Builder
		if code := tm.Exec(ctx, append([]string{"daemon", "-f", "-o", "/root/out.log"}, c.argv...), nil, &out, &errb, env); code != 0 {
			t.Fatalf("daemon %v: exit %d: %s", c.argv, code, errb.String())
		}
		ended, err := tm.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		log, _ := os.ReadFile(tm.HostPath("/root/out.log"))
		if len(ended) != 1 || string(log) != c.log || ended[0].Exit != c.exit {
			t.Errorf("daemon %v: %+v, log %q", c.argv, ended, log)
		}
	}
	if r := tm.run("daemon", "-o", "/nonexistent/dir/log", "uname"); r.code != 7 || !strings.Contains(r.err, "daemon: open:") {
		t.Errorf("daemon -o in a missing directory: %v", r)
	}
}

// TestTmpAtBoot: /tmp is a dataset of its own (bsdinstall's zroot/tmp), so
// its files survive reboots, unless rc empties it: clear_tmp_enable=YES
// (libexec/rc/rc.d/cleartmp), tmpmfs=YES (rc.d/tmp), or a tmpfs /tmp in
// /etc/fstab.
func TestTmpAtBoot(t *testing.T) {
	for _, tt := range []struct {
		name, rcconf, fstab string
		kept                bool
	}{
		{"zfs /tmp", "", "", true},
		{"clear_tmp_enable=NO", "clear_tmp_enable=\"NO\"\n", "", true},
		{"clear_tmp_enable=YES", "clear_tmp_enable=\"YES\"\n", "", false},
		{"tmpmfs=YES", "tmpmfs=\"YES\"\n", "", false},
		{"tmpfs in fstab", "", "tmpfs\t/tmp\ttmpfs\trw,mode=01777\t0\t0\n", false},
		{"tmpfs noauto", "", "tmpfs\t/tmp\ttmpfs\trw,noauto\t0\t0\n", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Disks: 1})
			tm.writeMachineFile("/etc/rc.conf", tm.must("cat", "/etc/rc.conf")+tt.rcconf, 0o644)
			tm.writeMachineFile("/etc/fstab", tm.must("cat", "/etc/fstab")+tt.fstab, 0o644)
			tm.writeMachineFile("/tmp/zupgrade", "a program\n", 0o755)
			tm.writeMachineFile("/tmp/dir/file", "x\n", 0o644)
			tm.writeMachineFile("/tmp/lost+found/old", "x\n", 0o644)
			tm.writeMachineFile("/var/tmp/kept", "x\n", 0o644)
			rep := tm.reboot(BootOptions{})
			if !rep.Booted {
				t.Fatalf("did not boot: %s", rep.Reason)
			}
			_, err := os.Stat(tm.HostPath("/tmp/zupgrade"))
			if kept := err == nil; kept != tt.kept {
				t.Errorf("/tmp/zupgrade kept %v, want %v", kept, tt.kept)
			}
			if _, err := os.Stat(tm.HostPath("/tmp/dir")); (err == nil) != tt.kept {
				t.Errorf("/tmp/dir: %v", err)
			}
			if _, err := os.Stat(tm.HostPath("/var/tmp/kept")); err != nil {
				t.Errorf("/var/tmp was cleared: %v", err)
			}
			if tt.name == "clear_tmp_enable=YES" {
				if _, err := os.Stat(tm.HostPath("/tmp/lost+found")); err != nil {
					t.Errorf("cleartmp removed lost+found: %v", err)
				}
				if _, err := os.Stat(tm.HostPath("/tmp/lost+found/old")); err == nil {
					t.Errorf("cleartmp left the contents of lost+found")
				}
			}
		})
	}
}

// resolveIn finds name in the PATH of env as a shell does: the first
// directory that holds it.
func resolveIn(env []string, name string) string {
	for _, kv := range env {
		if path, ok := strings.CutPrefix(kv, "PATH="); ok {
			for _, dir := range filepath.SplitList(path) {
				if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
					return filepath.Join(dir, name)
				}
			}
		}
	}
	return ""
}

// testContext ends a little before the test's deadline, so that a wait
// that never ends fails the test with a message instead of a panic.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx := t.Context()
	if dl, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-10*time.Second))
		t.Cleanup(cancel)
	}
	return ctx
}
