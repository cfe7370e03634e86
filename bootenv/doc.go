// SPDX-License-Identifier: BSD-2-Clause

// Package bootenv knows ZFS boot environments as bectl(8) manages them.
//
// It owns: parsing `bectl list` in its scripted (-H), tabular and
// dataset/snapshot (-s) forms, and the similar table of sysutils/beadm;
// what bectl check's exit status means; the argv of bectl check, create -r,
// activate [-t] and destroy; which boot environment names bectl and ZFS
// accept, and the name zupgrade gives the backup it makes before an upgrade;
// and, for hosts without bectl (FreeBSD 8.x to 11.x), the recursive
// snapshot that replaces the backup boot environment and the instructions
// that return a host to it.
//
// It never runs a command or decides when to make or activate a boot
// environment: the host package runs the argv built here, and the steps
// package decides.
package bootenv
