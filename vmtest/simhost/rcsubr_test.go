// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"os"
	"path"
	"strings"
	"testing"
)

// oneShotScript is an rc.d script without a pidfile or command: a start
// that does its work once, and a status of its own (status_cmd, offered
// through extra_commands as releases before 14 need).
const oneShotScript = `#!/bin/sh
# PROVIDE: oneshot
# REQUIRE: LOGIN

. /etc/rc.subr

name="oneshot"
desc="A one-shot service for the tests"
rcvar="oneshot_enable"
extra_commands="status"
start_cmd="oneshot_start"
stop_cmd=":"
status_cmd="oneshot_status"

load_rc_config $name
: ${oneshot_enable:="NO"}

oneshot_start()
{
	echo "started"
}

oneshot_status()
{
	echo "oneshot: nothing pending"
	return 1
}

run_rc_command "$1"
`

// TestRCSubrCommands checks run_rc_command's rules (libexec/rc/rc.subr,
// run_rc_command): status, describe and rcvar run whether or not the
// script is enabled, start only when it is (else a "Cannot 'start'"
// message, exit 0), onestart always; enabled answers by its exit status; a
// directive outside the keywords is refused with exit 1, and so is
// extracommands on a script that is off (the rcvar check skips only status,
// describe, rcvar, enable, delete and stop).
func TestRCSubrCommands(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Fatalf("the rc.d scripts need /bin/sh: %v", err)
	}
	tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	if err := os.WriteFile(tm.HostPath("/root/oneshot"), []byte(oneShotScript), 0o644); err != nil {
		t.Fatal(err)
	}
	tm.mustOK("", "install", "-m", "0555", "/root/oneshot", "/usr/local/etc/rc.d/oneshot")

	for _, tt := range []struct {
		action string
		exit   int
		out    string
	}{
		{"status", 1, "oneshot: nothing pending\n"},
		{"describe", 0, "A one-shot service for the tests\n"},
		{"start", 0, "Cannot 'start' oneshot. Set oneshot_enable to YES in /etc/rc.conf or use 'onestart' instead of 'start'.\n"},
		{"onestart", 0, "started\n"},
		{"enabled", 1, ""},
	} {
		r := tm.run("service", "oneshot", tt.action)
		if r.code != tt.exit || r.out != tt.out {
			t.Errorf("service oneshot %s (disabled): exit %d, %q; want exit %d, %q (stderr %q)", tt.action, r.code, r.out, tt.exit, tt.out, r.err)
		}
	}
	if r := tm.run("service", "oneshot", "reload"); r.code != 1 || !strings.Contains(r.err, "unknown directive 'reload'") {
		t.Errorf("service oneshot reload: exit %d, %q %q; want exit 1 and unknown directive", r.code, r.out, r.err)
	}
	tm.must("mkdir", "-p", "/etc/rc.conf.d")
	tm.must("sysrc", "-f", "/etc/rc.conf.d/oneshot", "oneshot_enable=YES")
	for _, tt := range []struct {
		action string
		exit   int
		out    string
	}{
		{"start", 0, "started\n"},
		{"enabled", 0, ""},
		{"extracommands", 0, "status\n"},
	} {
		r := tm.run("service", "oneshot", tt.action)
		if r.code != tt.exit || r.out != tt.out {
			t.Errorf("service oneshot %s (enabled): exit %d, %q; want exit %d, %q (stderr %q)", tt.action, r.code, r.out, tt.exit, tt.out, r.err)
		}
	}
}

// TestInstallPackage: a package added from a file is on the machine and
// in pkg's database, as pkg add leaves it: pkg which names it as the owner
// of its files, pkg query %R says it came from no repository.
func TestInstallPackage(t *testing.T) {
	tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	err := tm.InstallPackage("oneshot", "1.0", "sysutils/oneshot", []PackageFile{
		{Path: "/usr/local/etc/rc.d/oneshot", Mode: 0o555, Data: []byte(oneShotScript)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := tm.must("pkg", "which", "-q", "/usr/local/etc/rc.d/oneshot"); got != "oneshot-1.0\n" {
		t.Errorf("pkg which: %q", got)
	}
	if got := tm.must("pkg", "query", "%n %R"); !strings.Contains(got, "oneshot unknown-repository\n") {
		t.Errorf("pkg query: %q", got)
	}
	if r := tm.run("service", "oneshot", "onestart"); r.code != 0 || r.out != "started\n" {
		t.Errorf("the package's rc.d script: %s", r)
	}
	if err := tm.InstallPackage("other", "1.0", "sysutils/other", []PackageFile{{Path: "/usr/local/etc/rc.d/oneshot", Mode: 0o555}}); err == nil {
		t.Error("a second package installed a file another one owns")
	}
}

// orderScript is an rc.d script NAME that provides PROVIDES,
// requires REQUIRES and has the keywords KEYWORDS; it says its name.
func orderScript(name, provides, requires, keywords string) string {
	return strings.NewReplacer("NAME", name, "PROVIDES", provides, "REQUIRES", requires, "KEYWORDS", keywords).Replace(`#!/bin/sh
# PROVIDE: PROVIDES
# REQUIRE: REQUIRES
# KEYWORD: KEYWORDS

. /etc/rc.subr

name="NAME"
rcvar="NAME_enable"
start_cmd="echo NAME"
stop_cmd=":"

load_rc_config $name
: ${NAME_enable:="NO"}

run_rc_command "$1"
`)
}

// TestBootRCOrder: the boot runs the local rc.d scripts in rcorder(8)'s
// order (a script after those providing what it requires, whatever their
// names), without the ones with KEYWORD: nostart (libexec/rc/rc, "-s
// nostart"), and without the nojail ones in a jail.
func TestBootRCOrder(t *testing.T) {
	for _, tt := range []struct {
		name   string
		jailed bool
		want   []string
	}{
		{"host", false, []string{"/usr/local/etc/rc.d/zz_base", "/usr/local/etc/rc.d/jailless", "/usr/local/etc/rc.d/aa_late"}},
		{"jail", true, []string{"/usr/local/etc/rc.d/zz_base", "/usr/local/etc/rc.d/aa_late"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.2-RELEASE", Jailed: tt.jailed})
			for _, s := range []struct{ file, text string }{
				{"aa_late", orderScript("aa_late", "aa_late", "LOGIN zz_base jailless", "")},
				{"jailless", orderScript("jailless", "jailless", "zz_base", "nojail")},
				{"never", orderScript("never", "never", "LOGIN", "nostart")},
				{"zz_base", orderScript("zz_base", "zz_base", "LOGIN", "")},
			} {
				if err := os.WriteFile(tm.HostPath("/usr/local/etc/rc.d/"+s.file), []byte(s.text), 0o555); err != nil {
					t.Fatal(err)
				}
				tm.must("sysrc", s.file+"_enable=YES")
			}
			rep := tm.mustBoot(BootOptions{})
			var got []string
			for _, h := range rep.Hooks {
				got = append(got, h.Script)
				if want := path.Base(h.Script) + "\n"; h.Output != want || h.Exit != 0 {
					t.Errorf("%s: exit %d, %q", h.Script, h.Exit, h.Output)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("scripts run: %v, want %v", got, tt.want)
			}
		})
	}
}
