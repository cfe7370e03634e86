// SPDX-License-Identifier: BSD-2-Clause

package gpart

import "fmt"

// Paths of loaders on an ESP, relative to its root (FAT ignores case).
const (
	// ESPLoaderPath is FreeBSD's own loader, what efibootmgr entries of
	// FreeBSD 13 and later point at.
	ESPLoaderPath = "efi/freebsd/loader.efi"
	// ESPFallbackDir holds the removable-media fallback loader firmware
	// boots when no entry works.
	ESPFallbackDir = "efi/boot"
)

// FallbackLoaderName returns the UEFI removable-media fallback file name for
// a machine architecture as `uname -m` or hw.machine_arch print it: amd64
// BOOTx64.efi, arm64 (aarch64) BOOTaa64.efi, i386 BOOTia32.efi, riscv
// (riscv64) BOOTriscv64.efi, arm (armv7) BOOTarm.efi. Other architectures
// have no UEFI fallback name and return an error.
func FallbackLoaderName(arch string) (string, error) {
	switch arch {
	case "amd64", "x86_64":
		return "BOOTx64.efi", nil
	case "arm64", "aarch64":
		return "BOOTaa64.efi", nil
	case "i386":
		return "BOOTia32.efi", nil
	case "riscv", "riscv64", "riscv64sf":
		return "BOOTriscv64.efi", nil
	case "arm", "armv7", "armv6":
		return "BOOTarm.efi", nil
	}
	return "", fmt.Errorf("no UEFI fallback loader name for architecture %q", arch)
}
