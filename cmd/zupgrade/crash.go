// SPDX-License-Identifier: BSD-2-Clause

//go:build zupgrade_crashtest

package main

import (
	"os"
	"syscall"

	"github.com/zupgrade/zupgrade/steps"
)

// crashHook returns the engine's crash hook for crash-safety tests, in a
// binary built with the zupgrade_crashtest build tag only: with
// ZUPGRADE_CRASH_AT=STEP:POINT in the environment (POINT one of
// before-start, after-started, after-run; STEP may be * for the first
// step that reaches POINT, or finish for the end of the run), zupgrade
// kills itself with SIGKILL at that point, as a power cut or an admin's
// kill -9 would stop it. Without the variable it does nothing.
func crashHook(env Env) func(string, steps.CrashPoint) {
	at := env.getenv("ZUPGRADE_CRASH_AT")
	if at == "" {
		return nil
	}
	return func(step string, p steps.CrashPoint) {
		if step+":"+string(p) == at || "*:"+string(p) == at {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
}
