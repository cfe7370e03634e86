// SPDX-License-Identifier: BSD-2-Clause

//go:build !linux

package harness

import "syscall"

// guestHalt only syncs: the guest agent runs in a Linux guest.
func guestHalt(reboot bool) { syscall.Sync() }

func makeFIFO(path string) error { return syscall.Mkfifo(path, 0o600) }
