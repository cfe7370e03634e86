// SPDX-License-Identifier: BSD-2-Clause

//go:build !zupgrade_crashtest

package main

// hostRoot is where the host's file system is for zupgrade's own files
// (Env.HostRoot): / for a production build, which ZUPGRADE_HOST_ROOT
// means nothing to (hostroot_crashtest.go).
func hostRoot(env Env) string {
	if env.HostRoot != "" {
		return env.HostRoot
	}
	return "/"
}
