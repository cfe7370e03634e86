// SPDX-License-Identifier: BSD-2-Clause

package gpart

import "testing"

func TestEFIProgramKind(t *testing.T) {
	for _, tt := range []struct {
		data, want string
	}{
		{"MZ\x90\x00\n>> FreeBSD EFI boot block\n   Loader path: /boot/loader.efi\n", ProgramBoot1},
		{"MZ\x90\x00FreeBSD/amd64 EFI loader, Revision 3.0\n/boot/lua/loader.lua", ProgramLoader},
		{"MZ\x90\x00GNU GRUB  version 2.12", ""},
		{"MZ\x90\x00Microsoft Windows Boot Manager, loader.efi", ""},
	} {
		if got := EFIProgramKind([]byte(tt.data)); got != tt.want {
			t.Errorf("EFIProgramKind(%q) = %q, want %q", tt.data, got, tt.want)
		}
	}
}

func TestParseFstab(t *testing.T) {
	text := "# Device\t\tMountpoint\tFStype\tOptions\t\tDump\tPass#\n/dev/gpt/efiboot0\t/boot/efi\tmsdosfs\trw,failok\t\t2\t2\n\n/dev/ada0p2\t\tnone\tswap\tsw\t\t0\t0\nbroken line\n"
	got := ParseFstab(text)
	if len(got) != 2 {
		t.Fatalf("%d lines, want 2: %+v", len(got), got)
	}
	if l := got[0]; l.Number != 2 || l.Device != "/dev/gpt/efiboot0" || l.MountPoint != "/boot/efi" || l.FSType != "msdosfs" || !l.Has("failok") || l.Has("noauto") {
		t.Errorf("first line: %+v", l)
	}
	if got[1].Number != 4 || got[1].FSType != "swap" {
		t.Errorf("second line: %+v", got[1])
	}
}
