// SPDX-License-Identifier: BSD-2-Clause

//go:build !zupgrade_crashtest

package main

import "github.com/zupgrade/zupgrade/steps"

// crashHook is the engine's crash hook, which a production build has none
// of: ZUPGRADE_CRASH_AT means nothing to it. The crash-safety tests build
// zupgrade with the zupgrade_crashtest tag (crash.go).
func crashHook(Env) func(string, steps.CrashPoint) { return nil }
