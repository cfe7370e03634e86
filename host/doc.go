// SPDX-License-Identifier: BSD-2-Clause

// Package host is zupgrade's only door to the machine it upgrades.
//
// It owns the Runner abstraction (exec, dry-run, capture and replay), the
// fixed probe set that inspection runs, and the boot-time resume hook. Domain
// packages (gpart, zpool, bootenv, freebsdupdate) build command lines and
// parse outputs; they never start processes themselves. Package host never
// interprets what a command printed beyond its exit status.
package host
