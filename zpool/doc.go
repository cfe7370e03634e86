// SPDX-License-Identifier: BSD-2-Clause

// Package zpool holds zupgrade's knowledge of ZFS pools: it parses the
// outputs of `zpool status`, `zpool get -H -p all`, `zpool upgrade` and
// `zfs upgrade` (the read-only listings), judges pool health in words an
// admin understands, knows which pool features the FreeBSD boot loader can
// read, and builds the argv of `zpool upgrade POOL` and `zfs upgrade -r`.
//
// The package never starts a process and never touches a disk: package host
// runs the commands and hands their output here. Output it cannot understand
// is reported as a *host.ParseError naming the command and the line; the
// parsers never guess.
package zpool
