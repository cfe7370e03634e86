// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"os"
	"path"
	"strings"
	"testing"
)

// rcconfHook is a boot hook in the form zupgrade installs: its file is
// /usr/local/etc/rc.d/FILE, its name= is "zupgrade", and it prints the
// release so that a run is visible in the boot report.
const rcconfHook = `#!/bin/sh
# PROVIDE: zupgrade
# REQUIRE: LOGIN

. /etc/rc.subr

name="zupgrade"
rcvar="zupgrade_enable"
start_cmd="zupgrade_start"
stop_cmd=":"

load_rc_config $name
: ${zupgrade_enable:="NO"}

zupgrade_start()
{
	echo "hook on $(uname -r)"
}

run_rc_command "$1"
`

// writeMachineFile writes a file of the machine, making its directory.
func (tm *testMachine) writeMachineFile(p, data string, mode os.FileMode) {
	tm.t.Helper()
	if err := os.MkdirAll(path.Dir(tm.HostPath(p)), 0o755); err != nil {
		tm.t.Fatal(err)
	}
	if err := os.WriteFile(tm.HostPath(p), []byte(data), mode); err != nil {
		tm.t.Fatal(err)
	}
}

// TestRCConfD checks that service -e, and so the boot hooks, see a
// script's rcvar as load_rc_config NAME leaves it: rc.conf, rc.conf.local,
// then /etc/rc.conf.d/NAME and (10.x on) /usr/local/etc/rc.conf.d/NAME or
// an rc.conf.d/NAME directory, the last assignment winning; NAME is the
// script's name=, not its file name.
func TestRCConfD(t *testing.T) {
	const enabledOut = "/usr/local/etc/rc.d/zupgrade-hook\n"
	tests := []struct {
		name    string
		release string
		files   map[string]string
		want    string
	}{
		{"nothing set", "14.2-RELEASE", nil, ""},
		{"rc.conf", "14.2-RELEASE", map[string]string{"/etc/rc.conf": "zupgrade_enable=\"YES\"\n"}, enabledOut},
		{"rc.conf.local", "14.2-RELEASE", map[string]string{"/etc/rc.conf.local": "zupgrade_enable=YES\n"}, enabledOut},
		{"rc.conf.d on 8.2", "8.2-RELEASE", map[string]string{"/etc/rc.conf.d/zupgrade": "zupgrade_enable=\"YES\"\n"}, enabledOut},
		{"rc.conf.d on 14.2", "14.2-RELEASE", map[string]string{"/etc/rc.conf.d/zupgrade": "zupgrade_enable=\"YES\"\n"}, enabledOut},
		{"rc.conf.d keyed by the file name is not read", "14.2-RELEASE", map[string]string{"/etc/rc.conf.d/zupgrade-hook": "zupgrade_enable=\"YES\"\n"}, ""},
		{"rc.conf.d overrides rc.conf (NO)", "14.2-RELEASE", map[string]string{
			"/etc/rc.conf":            "zupgrade_enable=\"YES\"\n",
			"/etc/rc.conf.d/zupgrade": "zupgrade_enable=\"NO\"\n"}, ""},
		{"rc.conf.d overrides rc.conf (YES)", "9.1-RELEASE", map[string]string{
			"/etc/rc.conf":            "zupgrade_enable=\"NO\"\n",
			"/etc/rc.conf.d/zupgrade": "# zupgrade resume hook\nzupgrade_enable=\"YES\"\n"}, enabledOut},
		{"local rc.conf.d on 14.2", "14.2-RELEASE", map[string]string{"/usr/local/etc/rc.conf.d/zupgrade": "zupgrade_enable=\"YES\"\n"}, enabledOut},
		{"local rc.conf.d overrides /etc", "14.2-RELEASE", map[string]string{
			"/etc/rc.conf.d/zupgrade":           "zupgrade_enable=\"YES\"\n",
			"/usr/local/etc/rc.conf.d/zupgrade": "zupgrade_enable=\"NO\"\n"}, ""},
		{"no local rc.conf.d on 9.3", "9.3-RELEASE", map[string]string{"/usr/local/etc/rc.conf.d/zupgrade": "zupgrade_enable=\"YES\"\n"}, ""},
		{"rc.conf.d directory on 13.2", "13.2-RELEASE", map[string]string{
			"/etc/rc.conf.d/zupgrade/10-off": "zupgrade_enable=\"NO\"\n",
			"/etc/rc.conf.d/zupgrade/20-on":  "zupgrade_enable=\"YES\"\n"}, enabledOut},
		{"rc.conf.d directory, last file wins", "13.2-RELEASE", map[string]string{
			"/etc/rc.conf.d/zupgrade/10-on":  "zupgrade_enable=\"YES\"\n",
			"/etc/rc.conf.d/zupgrade/20-off": "zupgrade_enable=\"NO\"\n"}, ""},
		{"no rc.conf.d directory on 8.2", "8.2-RELEASE", map[string]string{"/etc/rc.conf.d/zupgrade/on": "zupgrade_enable=\"YES\"\n"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newMachine(t, Spec{Preset: "bios", Release: tt.release, Disks: 1})
			tm.writeMachineFile("/usr/local/etc/rc.d/zupgrade-hook", rcconfHook, 0o555)
			for p, data := range tt.files {
				if p == "/etc/rc.conf" {
					data = tm.must("cat", "/etc/rc.conf") + data
				}
				tm.writeMachineFile(p, data, 0o644)
			}
			if got := tm.must("service", "-e"); got != tt.want {
				t.Errorf("service -e = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRCConfDBootHook boots machines whose hook is enabled only through
// rc.conf.d, as zupgrade enables it where sysrc is missing (before 9.2):
// the hook runs, and the machine's rc.subr lets it start (a script that
// load_rc_config left disabled prints nothing with faststart). A NO in
// rc.conf.d keeps a hook that rc.conf enables from running. service
// NAME enable/disable writes where the variable is set.
func TestRCConfDBootHook(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Fatalf("the boot hooks need /bin/sh: %v", err)
	}
	tests := []struct {
		name     string
		release  string
		rcconf   string
		confFile string
		conf     string
		want     []HookResult
	}{
		{"8.2 rc.conf.d", "8.2-RELEASE", "", "/etc/rc.conf.d/zupgrade", "zupgrade_enable=\"YES\"\n",
			[]HookResult{{Script: "/usr/local/etc/rc.d/zupgrade", Output: "hook on 8.2-RELEASE\n"}}},
		{"14.2 local rc.conf.d", "14.2-RELEASE", "", "/usr/local/etc/rc.conf.d/zupgrade", "zupgrade_enable=\"YES\"\n",
			[]HookResult{{Script: "/usr/local/etc/rc.d/zupgrade", Output: "hook on 14.2-RELEASE\n"}}},
		{"rc.conf.d NO over rc.conf YES", "14.2-RELEASE", "zupgrade_enable=\"YES\"\n", "/etc/rc.conf.d/zupgrade", "zupgrade_enable=\"NO\"\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: tt.release, Disks: 1})
			tm.writeMachineFile("/root/zupgrade", rcconfHook, 0o644)
			tm.writeMachineFile("/root/zupgrade.conf", tt.conf, 0o644)
			tm.must("install", "-m", "0555", "/root/zupgrade", "/usr/local/etc/rc.d/zupgrade")
			tm.must("mkdir", "-p", path.Dir(tt.confFile))
			tm.must("install", "-m", "0644", "/root/zupgrade.conf", tt.confFile)
			if tt.rcconf != "" {
				tm.writeMachineFile("/etc/rc.conf", tm.must("cat", "/etc/rc.conf")+tt.rcconf, 0o644)
			}
			rep := tm.reboot(BootOptions{})
			if !rep.Booted {
				t.Fatalf("did not boot: %s", rep.Reason)
			}
			if len(rep.Hooks) != len(tt.want) {
				t.Fatalf("hooks = %+v, want %+v", rep.Hooks, tt.want)
			}
			for i, h := range tt.want {
				if rep.Hooks[i] != h {
					t.Errorf("hook %d = %+v, want %+v", i, rep.Hooks[i], h)
				}
			}
		})
	}

	t.Run("service enable writes rc.conf.d", func(t *testing.T) {
		tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Disks: 1})
		tm.writeMachineFile("/usr/local/etc/rc.d/zupgrade", rcconfHook, 0o555)
		tm.writeMachineFile("/etc/rc.conf.d/zupgrade", "zupgrade_enable=\"NO\"\n", 0o644)
		rcconf := tm.must("cat", "/etc/rc.conf")
		if out := tm.must("service", "zupgrade", "enable"); out != "zupgrade enabled in /etc/rc.conf.d/zupgrade\n" {
			t.Errorf("service zupgrade enable: %q", out)
		}
		if got := tm.must("cat", "/etc/rc.conf.d/zupgrade"); got != "zupgrade_enable=\"YES\"\n" {
			t.Errorf("/etc/rc.conf.d/zupgrade: %q", got)
		}
		if got := tm.must("cat", "/etc/rc.conf"); got != rcconf {
			t.Errorf("rc.conf changed: %q", got)
		}
		// Without a command, procname or status_cmd, status is no
		// keyword of run_rc_command (libexec/rc/rc.subr).
		if r := tm.run("service", "zupgrade", "onestatus"); r.code != 1 || !strings.Contains(r.err, "unknown directive 'status'") {
			t.Errorf("service zupgrade onestatus: %s", r)
		}
		if out := tm.must("service", "zupgrade", "start"); out != "hook on 14.2-RELEASE\n" {
			t.Errorf("service zupgrade start: %q", out)
		}
		os.Remove(tm.HostPath("/etc/rc.conf.d/zupgrade"))
		if out := tm.must("service", "zupgrade", "disable"); out != "zupgrade disabled in /etc/rc.conf\n" {
			t.Errorf("service zupgrade disable: %q", out)
		}
		if got := tm.must("cat", "/etc/rc.conf"); !strings.HasSuffix(got, "zupgrade_enable=\"NO\"\n") {
			t.Errorf("rc.conf after disable: %q", got)
		}
		if out := tm.must("service", "zupgrade", "start"); !strings.Contains(out, "Cannot 'start' zupgrade") {
			t.Errorf("service zupgrade start when disabled: %q", out)
		}
	})
}
