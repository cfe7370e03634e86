// SPDX-License-Identifier: BSD-2-Clause

// Package pkgng knows pkg(8), the package manager of third-party software,
// as far as an upgrade of the base system needs it.
//
// It owns: what pkg -N's exit status means; the package ABI (pkg config ABI,
// FreeBSD:14:amd64) and the one a target release expects; finding the
// installed packages not built for that ABI (pkg query '%n %q'); the argv
// and environment of pkg-static bootstrap and upgrade and of portmaster,
// chosen so that nothing waits for an answer; and recognising pkg's
// OSVERSION-mismatch prompt and its "Major OS version upgrade detected"
// warning in what it printed.
//
// It never runs a command and never decides whether packages are upgraded:
// the host package runs the commands built here and the steps package
// decides.
package pkgng
