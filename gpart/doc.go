// SPDX-License-Identifier: BSD-2-Clause

// Package gpart owns zupgrade's knowledge of disks and boot partitions on a
// FreeBSD host: the GEOM partition tables (gpart list), GEOM labels (glabel
// status), which partition and
// disk hold each ZFS pool member, each disk's boot targets (freebsd-boot
// partitions and EFI system partitions), and the outputs zupgrade reads while
// updating boot code and loaders: efibootmgr -v, mount -p, file -s and
// sha256 -r.
//
// It parses command outputs and builds command lines ([]string argv). It
// never starts a process, opens a device or touches a file system: package
// host runs the commands. Parsers return a *host.ParseError naming the
// command and the line when output does not follow the format; nothing is
// guessed, and in particular a pool member is never tied to a disk by the
// look of its name (GPT labels can be crossed: gpt/zfs0 may live on ada1).
package gpart
