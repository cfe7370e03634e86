// SPDX-License-Identifier: BSD-2-Clause

package gpart

import "bytes"

// Boot1EFIPath is FreeBSD's first-stage UEFI boot program, which every
// release installs (stand/efi/boot1/Makefile). The 800K ESPs of installs
// before FreeBSD 12.1 hold it as their fallback loader; it finds a pool on
// any disk and starts /boot/loader.efi from it.
const Boot1EFIPath = "/boot/boot1.efi"

// Kinds of EFI program EFIProgramKind tells apart.
const (
	ProgramLoader = "loader.efi"
	ProgramBoot1  = "boot1.efi"
)

// EFIProgramKind tells FreeBSD's EFI programs from other systems' by the
// strings they carry: boot1.efi prints ">> FreeBSD EFI boot block"
// (stand/efi/boot1/boot1.c), and FreeBSD's loader carries at least two of
// "FreeBSD", "loader.efi" and "boot/lua" (the fingerprint of the
// loaders-update script of bug 279829). It returns ProgramBoot1,
// ProgramLoader, or "" for another system's program (GRUB, Windows).
func EFIProgramKind(b []byte) string {
	if bytes.Contains(b, []byte(">> FreeBSD EFI boot block")) {
		return ProgramBoot1
	}
	n := 0
	for _, s := range []string{"FreeBSD", "loader.efi", "boot/lua"} {
		if bytes.Contains(b, []byte(s)) {
			n++
		}
	}
	if n >= 2 {
		return ProgramLoader
	}
	return ""
}
