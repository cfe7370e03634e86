// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"os"
	"strings"
	"testing"
)

// TestWatchdogCommand: watchdog -t N arms the watchdog only where a
// driver takes the timeout (kern_do_pat answers EOPNOTSUPP otherwise);
// -t 0 turns it off and always succeeds; the timeout is the power of two
// of nanoseconds watchdogd.c computes.
func TestWatchdogCommand(t *testing.T) {
	t.Run("no-driver", func(t *testing.T) {
		none := newMachine(t, Spec{Preset: "bios", Release: "14.3-RELEASE"})
		none.mustBoot(BootOptions{})
		r := none.run("watchdog", "-t", "600")
		if r.code != 71 || !strings.Contains(r.err, "watchdog: patting the dog: Operation not supported") {
			t.Errorf("watchdog -t 600 without a driver: %v", r)
		}
		none.must("watchdog", "-t", "0")
	})
	t.Run("ichwd", func(t *testing.T) { watchdogArms(t) })
}

// watchdogArms is TestWatchdogCommand with a driver.
func watchdogArms(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.3-RELEASE", Watchdog: "ichwd"})
	tm.mustBoot(BootOptions{})
	if got := tm.must("watchdog", "-d", "-t", "600"); got != "Timeout is 2^40 nanoseconds\n" {
		t.Errorf("watchdog -d -t 600 = %q", got)
	}
	if w := tm.model().Running.Watchdog; w.Seconds() < 600 || w.Seconds() > 1100 {
		t.Errorf("armed for %s, want 2^40 ns", w)
	}
	tm.must("watchdog", "-t", "0")
	if w := tm.model().Running.Watchdog; w != 0 {
		t.Errorf("watchdog -t 0 left it armed for %s", w)
	}
	for _, bad := range [][]string{{"-t", "x"}, {"-t", "-1"}, {"-x"}, {"extra"}} {
		if r := tm.run(append([]string{"watchdog"}, bad...)...); r.code != 64 {
			t.Errorf("watchdog %v: %v", bad, r)
		}
	}
	tm.mustBoot(BootOptions{})
	if w := tm.model().Running.Watchdog; w != 0 {
		t.Errorf("after a reset the watchdog is still armed for %s", w)
	}
}

// armer is a local rc.d script that arms the watchdog early in rc, as a
// trial deadline would; late is one after it.
const armer = `#!/bin/sh
# PROVIDE: armer
# BEFORE: late
. /etc/rc.subr
name=armer
rcvar=armer_enable
start_cmd=armer_start
stop_cmd=:
armer_start()
{
	watchdog -t 60
}
load_rc_config $name
run_rc_command "$1"
`

const late = `#!/bin/sh
# PROVIDE: late
. /etc/rc.subr
name=late
rcvar=late_enable
start_cmd="echo late ran"
stop_cmd=:
load_rc_config $name
run_rc_command "$1"
`

// TestWatchdogResetsHungTrial: a trial boot (bectl activate -t) that
// hangs in rc after a script armed the watchdog is reset by it, and the
// boot after it is the bootfs's; without a driver the machine stays hung.
func TestWatchdogResetsHungTrial(t *testing.T) {
	for _, driver := range []string{"ichwd", ""} {
		t.Run("driver="+driver, func(t *testing.T) { hungTrial(t, driver) })
	}
}

// hungTrial is TestWatchdogResetsHungTrial with the watchdog driver.
func hungTrial(t *testing.T, driver string) {
	tm := newMachineWithLinks(t, Spec{Preset: "bios", Release: "14.3-RELEASE", Watchdog: driver})
	tm.mustBoot(BootOptions{})
	for name, text := range map[string]string{"armer": armer, "late": late} {
		if err := os.WriteFile(tm.HostPath("/usr/local/etc/rc.d/"+name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tm.must("sysrc", "armer_enable=YES", "late_enable=YES")
	tm.must("bectl", "create", "-r", "trial")
	tm.must("bectl", "activate", "-t", "trial")
	rep := tm.reboot(BootOptions{HangIn: "trial", HangBefore: "late"})
	console := strings.Join(rep.Console, "\n")
	if driver == "" {
		if rep.Booted || rep.State != "hung" || rep.BE != "zroot/ROOT/trial" || !strings.Contains(rep.Reason, "no watchdog was armed") {
			t.Errorf("hung trial without a watchdog driver: booted %v %s in %s: %s\n%s", rep.Booted, rep.State, rep.BE, rep.Reason, console)
		}
		if rep := tm.boot(BootOptions{}); !rep.Booted || rep.BE != "zroot/ROOT/default" {
			t.Errorf("the reset by hand booted %s: %s", rep.BE, rep.Reason)
		}
		return
	}
	if !rep.Booted || rep.BE != "zroot/ROOT/default" || !strings.Contains(console, "rc: the boot hangs before late") || !strings.Contains(console, "the ichwd watchdog resets the machine") {
		t.Errorf("hung trial with a watchdog: booted %v into %s: %s\n%s", rep.Booted, rep.BE, rep.Reason, console)
	}
	var lateRan int
	for _, h := range rep.Hooks {
		if strings.HasSuffix(h.Script, "/late") {
			lateRan++
		}
	}
	if lateRan != 1 {
		t.Errorf("late ran %d times, want once (after the reset only): %+v", lateRan, rep.Hooks)
	}
}
