// SPDX-License-Identifier: BSD-2-Clause

//go:build zupgrade_crashtest

package main

// hostRoot is where the host's file system is for zupgrade's own files
// (Env.HostRoot). A binary built for the end-to-end tests (the
// zupgrade_crashtest tag, as for crashHook) also takes it from
// ZUPGRADE_HOST_ROOT, the simulated host's root directory, so that the
// tests can run it without --state-dir.
func hostRoot(env Env) string {
	if env.HostRoot != "" {
		return env.HostRoot
	}
	if v := env.getenv("ZUPGRADE_HOST_ROOT"); v != "" {
		return v
	}
	return "/"
}
