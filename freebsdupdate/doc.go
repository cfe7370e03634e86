// SPDX-License-Identifier: BSD-2-Clause

// Package freebsdupdate knows freebsd-update(8) and the release names it
// works with.
//
// It owns: parsing, formatting and ordering FreeBSD release names
// (14.2-RELEASE-p3, 15.0-BETA2); deciding whether a target is a release
// freebsd-update can upgrade to, and what kind of move it is; reading the
// output of freebsd-version(1); the pending-install state freebsd-update keeps
// under /var/db/freebsd-update (the <BDHASH>-install link, its markers, the
// tag file, the updatesready exit status); the argv, environment and standard
// input zupgrade gives freebsd-update so that it never waits for a terminal;
// classifying what a fetch, upgrade or install printed into a typed outcome
// together with the lines that prove it; and the known defects of old
// freebsd-update scripts that must be patched or worked around first.
//
// It never starts a process, reads a file of the host or decides what to do
// next: the host package runs the commands this package builds, and the steps
// package acts on the outcomes it returns.
package freebsdupdate
