// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zupgrade/zupgrade/steps"
	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// trialCells are the crash matrix's cells of a staged upgrade's trial
// boot, beside the faults at each of its steps: the health checks failing
// (the admin's reboot, or --auto-revert's), the resume never starting
// (the boot hangs in rc before the hook: reset by the trial's watchdog,
// or by hand where there is none), and a power cut in the trial boot
// before anything of zupgrade ran. Each ends in the old boot environment
// with the run over (the journal says it fell back); the admin closes it
// and starts the upgrade again (retryAfterFallback), which must leave the
// host as the run without faults did.
func trialCells(sh crashShape) []crashCell {
	if sh.stateDir == "" {
		return nil
	}
	args := sh.runs[0]
	to := sh.target
	upgrade := func(h *testHost, log *strings.Builder, extra ...string) {
		h.t.Helper()
		code, out := h.zupgrade(nil, append(append([]string{"apply"}, args...), extra...)...)
		log.WriteString(out)
		if code != 0 || !h.down() {
			h.t.Fatalf("apply up to the trial reboot: exit %d, down %v:\n%s", code, h.down(), log.String())
		}
	}
	boot := func(h *testHost, log *strings.Builder, opts simhost.BootOptions) *simhost.BootReport {
		h.t.Helper()
		rep, err := h.m.Boot(opts)
		if err != nil {
			h.t.Fatal(err)
		}
		fmt.Fprintf(log, "\n--- boot into %s: %s %s\n%s\n", rep.BE, rep.State, rep.Reason, strings.Join(rep.Console, "\n"))
		for _, p := range h.wait() {
			if slices.Contains(p.Argv, "--resume") {
				fmt.Fprintf(log, "--- resumed run %v: %s, exit %d\n", p.Argv, p.State, p.Exit)
			}
		}
		return rep
	}
	cell := func(label string, trial func(h *testHost, log *strings.Builder)) crashCell {
		return crashCell{step: steps.Step{ID: "trial"}, label: label, trial: trial}
	}
	return []crashCell{
		cell("health-check-fails/admin-reboots", func(h *testHost, log *strings.Builder) {
			code, out := h.runUpgrade(nil, append(args, "--health-cmd", "cat /zroot/health-ok")...)
			log.WriteString(out)
			if j := h.journal(); code != ExitFailed || j.Status != steps.StatusFailed || j.FellBack {
				h.t.Fatalf("the failed health check did not stop the run in the trial: exit %d:\n%s", code, log.String())
			}
			h.sh("shutdown", "-r", "now")
			boot(h, log, simhost.BootOptions{})
		}),
		cell("health-check-fails/auto-revert", func(h *testHost, log *strings.Builder) {
			_, out := h.runUpgrade(nil, append(args, "--health-cmd", "cat /zroot/health-ok", "--auto-revert")...)
			log.WriteString(out)
		}),
		cell("resume-never-starts/watchdog", func(h *testHost, log *strings.Builder) {
			if err := h.m.Update(func(m *simhost.Model) error { m.Behavior.Watchdog = "ichwd"; return nil }); err != nil {
				h.t.Fatal(err)
			}
			upgrade(h, log)
			if rep := boot(h, log, simhost.BootOptions{HangIn: to, HangBefore: "zupgrade"}); !rep.Booted {
				h.t.Fatalf("the watchdog did not reset the hung trial:\n%s", log.String())
			}
		}),
		cell("resume-never-starts/reset-by-hand", func(h *testHost, log *strings.Builder) {
			upgrade(h, log)
			if rep := boot(h, log, simhost.BootOptions{HangIn: to, HangBefore: "zupgrade"}); rep.State != "hung" {
				h.t.Fatalf("the trial without a watchdog did not hang:\n%s", log.String())
			}
			boot(h, log, simhost.BootOptions{})
		}),
		cell("power-cut-in-trial-boot", func(h *testHost, log *strings.Builder) {
			upgrade(h, log)
			boot(h, log, simhost.BootOptions{NoHooks: true})
			if err := h.m.PowerCut(); err != nil {
				h.t.Fatal(err)
			}
			log.WriteString("--- power cut\n")
		}),
	}
}

// retryAfterFallback is the admin after a trial that failed: in the old
// boot environment, which runs again, rollback closes the run, the new
// boot environment is destroyed, and the upgrade (args) starts anew until
// it ends. It returns the last exit code.
func (h *testHost) retryAfterFallback(args []string, log *strings.Builder) int {
	h.t.Helper()
	be := h.journal().Plan.Staged.BootEnv
	code, out := h.zupgrade(nil, "rollback", "--yes")
	log.WriteString("--- after the fallback: rollback, bectl destroy, apply again\n" + out)
	if code != 0 {
		return code
	}
	h.sh("bectl", "destroy", be)
	code, out = h.runUpgrade(nil, args...)
	log.WriteString(out)
	return code
}
