// SPDX-License-Identifier: BSD-2-Clause

// Package guestzfs builds and finds the OpenZFS assets of the vmtest Linux
// guest: the ZFS kernel modules compiled for the guest's kernel from
// Debian's zfs-dkms source (bookworm-backports contrib, OpenZFS 2.3, the
// code FreeBSD 14 and 15 ship), and zpool, zfs and the compatibility
// profiles from zfsutils-linux with every shared library they load.
//
// The assets are cached in a directory named for the kernel and the
// package versions (Key); Build does nothing when that directory is
// complete, so the modules are compiled again only when the kernel or a
// package changes. `go run ./vmtest/guestzfs/cmd/guestzfs` builds them
// (.ci/run does, before the tests); Find returns them to the tests.
package guestzfs
