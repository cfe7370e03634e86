// SPDX-License-Identifier: BSD-2-Clause

// Package simhost is a simulated FreeBSD host: a test double that the
// unchanged zupgrade binary drives through PATH, and that can be bricked.
//
// It owns the machine model (one JSON file: firmware, disks, GPT
// partitions and their boot code, ESPs, pools, boot environments,
// packages, freebsd-update's pending state), the simulated commands that
// read and change it (freebsd-update, zpool, gpart, bectl, pkg, ... and
// the plain utilities zupgrade calls on host paths), the boot decision,
// and fault injection. Outputs follow the real formats of FreeBSD
// commands; rules follow FreeBSD's (see README.md for what is modelled).
//
// It never runs real FreeBSD tools, never touches files outside a
// machine's root directory, and does not know zupgrade: it behaves like
// FreeBSD, not like what zupgrade expects.
package simhost
