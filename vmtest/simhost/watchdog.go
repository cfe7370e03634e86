// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"math"
	"strconv"
	"time"
)

// The hardware watchdog, for the deadline of a staged upgrade's trial
// boot (watchdog(4), watchdog(8)).
//
// sys/dev/watchdog/watchdog.c is the framework behind /dev/fido: a pat
// (the WDIOCPATPAT ioctl) with a timeout is handed to every watchdog
// driver's event handler (kern_do_pat); when none takes it the answer is
// EOPNOTSUPP, and a pat with WD_TO_NEVER (timeout 0) turns the watchdog
// off and always succeeds. A driver that took a timeout resets the
// machine when nothing pats it again within that time. A reset (or any
// boot) leaves it off: Running, which holds it, is rebuilt at every boot.

// cmdWatchdog is watchdog(8), the one-shot side of watchdogd(8)
// (usr.sbin/watchdogd/watchdogd.c main, parseargs: invoked as "watchdog"
// it pats the watchdog once with -t's timeout, made active, and exits;
// -t 0 is WD_TO_NEVER; the timeout is 2^n nanoseconds, n = 1 +
// log2(seconds * 1e9) truncated; "patting the dog" fails through err(3)
// with EX_OSERR). -d only makes it print the power of two.
func cmdWatchdog(inv *Invocation) int {
	opts, rest, err := getopt(inv.Args, "dt:")
	if err != nil || len(rest) > 0 {
		if len(rest) > 0 {
			inv.errf("watchdog: extra arguments.\n")
			return 64
		}
		inv.errf("usage: watchdog [-d] [-t timeout]\n")
		return 64 // EX_USAGE
	}
	secs := 16.0 // WD_TO_16SEC, the default of watchdogd.c
	for _, o := range opts {
		if o.flag != 't' {
			continue
		}
		v, err := strconv.ParseFloat(o.val, 64)
		if err != nil {
			inv.errf("watchdog: -t argument is not a number\n")
			return 64
		}
		if v < 0 {
			inv.errf("watchdog: -t argument must be positive\n")
			return 64
		}
		secs = v
	}
	if inv.model.Running == nil {
		inv.errf("watchdog: the machine is not running\n")
		return 1
	}
	if secs == 0 {
		inv.model.Running.Watchdog = 0
		return 0
	}
	n := int(1 + math.Log(secs*1e9)/math.Log(2))
	if has(opts, 'd') {
		inv.out("Timeout is 2^%d nanoseconds\n", n)
	}
	if inv.model.Behavior.Watchdog == "" {
		inv.errf("watchdog: patting the dog: Operation not supported\n")
		return 71 // EX_OSERR
	}
	inv.model.Running.Watchdog = time.Duration(math.Pow(2, float64(n)))
	return 0
}

// hangsBefore reports whether BootOptions.Hang says that the boot of the
// running boot environment hangs in rc before the local rc.d script
// named script.
func hangsBefore(opts BootOptions, p *Pool, be, script string) bool {
	return opts.HangBefore == script && panicsIn(BootOptions{PanicIn: opts.HangIn}, p, be)
}

// watchdogReset is a boot that hung in rc: when a watchdog driver took a
// timeout during it, nothing pats it any more and the driver resets the
// machine once the timeout has passed; the next boot follows (the
// one-time activation was spent, so it is the bootfs's). Without one the
// machine stays hung until someone resets it.
func (m *Machine) watchdogReset(rep *BootReport, opts BootOptions, script string) (*BootReport, error) {
	model, err := m.Model()
	if err != nil {
		return nil, err
	}
	rep.say("rc: the boot hangs before %s", script)
	if model.Running == nil || model.Running.Watchdog == 0 {
		rep.Booted = false
		return rep.fail("hung", "the boot hangs in rc before %s, and no watchdog was armed: the machine stays hung until it is reset", script), nil
	}
	rep.say("watchdog: not patted for %s: the %s watchdog resets the machine", model.Running.Watchdog, model.Behavior.Watchdog)
	if opts.hangs > 0 {
		return rep.fail("hung", "the boot hangs in rc at every boot; the watchdog resets the machine over and over"), nil
	}
	opts.hangs++
	next, err := m.Boot(opts)
	if err != nil || next == nil {
		return next, err
	}
	next.Console = append(rep.Console, next.Console...)
	next.Hooks = append(rep.Hooks, next.Hooks...)
	return next, nil
}
