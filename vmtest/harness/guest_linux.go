// SPDX-License-Identifier: BSD-2-Clause

package harness

import "syscall"

// guestHalt syncs the disks, as a clean shutdown does, and reboots the
// guest (QEMU runs with -no-reboot, so it exits) or powers it off.
func guestHalt(reboot bool) {
	syscall.Sync()
	if reboot {
		syscall.Reboot(syscall.LINUX_REBOOT_CMD_RESTART)
	}
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
}

func makeFIFO(path string) error { return syscall.Mkfifo(path, 0o600) }
