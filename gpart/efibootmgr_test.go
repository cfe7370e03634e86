// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

func TestParseEfibootmgr(t *testing.T) {
	freebsdVMware := EFIBootEntry{
		Num: "0004", Active: true, Current: true, Label: "FreeBSD",
		DevicePath: `HD(1,GPT,f83a9e2f-bd87-11ef-95b7-000c29761cd2,0x28,0x82000)/File(\efi\freebsd\loader.efi)`,
		FilePath:   `\efi\freebsd\loader.efi`,
		Device:     "nda0p1", Path: "/efi/freebsd/loader.efi",
	}
	tests := []struct {
		archive string
		want    *EFIBoot
	}{
		{
			archive: "efibootmgr-v-line-14.0-relnotes.txtar",
			want: &EFIBoot{Entries: []EFIBootEntry{{
				Num: "0000", Active: true, Current: true, Label: "FreeBSD",
				DevicePath: `HD(1,GPT,f859c46d-19ee-4e40-8975-3ad1ab00ac09,0x800,0x82000)/File(\EFI\freebsd\loader.efi)`,
				FilePath:   `\EFI\freebsd\loader.efi`,
				Device:     "nda0p1", Path: "/EFI/freebsd/loader.efi",
			}}},
		},
		{
			archive: "efibootmgr-v-single-freebsd-entry.txtar",
			want: &EFIBoot{
				BootCurrent: "0019", Timeout: ptr(0),
				BootOrder: strings.Split("0019 000A 000C 0006 0007 0008 0009 000B 000D 000E 000F 0010 0011 0012 0013", " "),
				Entries: []EFIBootEntry{{
					Num: "0019", Active: true, Current: true, Label: "FreeBSD",
					DevicePath: `HD(1,GPT,0a7e1ccc-8826-11eb-b711-f0def164c22a,0x28,0x82000)/File(\efi\freebsd\loader.efi)`,
					FilePath:   `\efi\freebsd\loader.efi`,
					Device:     "ada0p1", Path: "/efi/freebsd/loader.efi",
				}},
			},
		},
		{
			archive: "efibootmgr-v-vmware-nvme-15.0.txtar",
			want: &EFIBoot{
				BootToFirmware: ptr(false), BootCurrent: "0004",
				BootOrder: []string{"0004", "0000", "0001", "0002", "0003"},
				Entries: []EFIBootEntry{
					freebsdVMware,
					{Num: "0000", Active: true, Label: "EFI VMware Virtual NVME Namespace (NSID 1)",
						DevicePath: "PciRoot(0x0)/Pci(0x15,0x0)/Pci(0x0,0x0)/NVMe(0x1,00-00-00-00-00-00-00-00)"},
					{Num: "0001", Active: true, Label: "EFI VMware Virtual IDE CDROM Drive (IDE 1:0)",
						DevicePath: "PciRoot(0x0)/Pci(0x7,0x1)/Ata(Secondary,Master,0x0)"},
					{Num: "0002", Active: true, Label: "EFI Network",
						DevicePath: "PciRoot(0x0)/Pci(0x11,0x0)/Pci(0x1,0x0)/MAC(000c29761cd2,0x0)"},
					{Num: "0003", Active: true, Label: "EFI Internal Shell (Unsupported option)",
						DevicePath: "MemoryMapped(0xb,0xbeb4d018,0xbf07e017)/FvFile(c57ad6b7-0515-40a8-9d21-551652854e37)"},
				},
			},
		},
		{
			archive: "efibootmgr-v-mirror-two-esps.txtar",
			want: &EFIBoot{
				BootToFirmware: ptr(false), BootNext: "0002", BootCurrent: "0001", Timeout: ptr(2),
				BootOrder: []string{"0001", "0002", "0000", "0005", "0003"},
				Missing:   []string{"0005"},
				Entries: []EFIBootEntry{
					{Num: "0001", Active: true, Current: true, Label: "FreeBSD ada0",
						DevicePath: `HD(1,GPT,52e6b438-f2a7-11e2-99a6-0cc47a3b5d10,0x28,0x82000)/File(\efi\freebsd\loader.efi)`,
						FilePath:   `\efi\freebsd\loader.efi`,
						Device:     "ada0p1", Path: "/efi/freebsd/loader.efi", MountedPath: "/boot/efi/efi/freebsd/loader.efi"},
					{Num: "0002", Active: true, Label: "FreeBSD ada1",
						DevicePath: `HD(1,GPT,11e20b8f-3d9c-11e1-a36c-0cc47a3b5d10,0x28,0x82000)/File(\efi\freebsd\loader.efi)`,
						FilePath:   `\efi\freebsd\loader.efi`,
						Device:     "ada1p1", Path: "/efi/freebsd/loader.efi"},
					{Num: "0000", Label: "Windows Boot Manager",
						DevicePath: `HD(2,GPT,d1f2a8c4-6a3e-4c71-9b2d-5e8f0a1c3b7e,0x800,0x32000)/File(\EFI\Microsoft\Boot\bootmgfw.efi)`,
						FilePath:   `\EFI\Microsoft\Boot\bootmgfw.efi`},
					{Num: "0003", Active: true, Label: "UEFI: PXE IP4 Intel(R) Ethernet Connection I219-LM",
						DevicePath: "PciRoot(0x0)/Pci(0x1f,0x6)/MAC(001b2172c655,0x0)/IPv4(0.0.0.0,0x0,DHCP,0.0.0.0,0.0.0.0,0.0.0.0)"},
				},
				Unreferenced: []EFIBootEntry{
					{Num: "0004", Active: true, Label: "FreeBSD old",
						DevicePath: `HD(1,GPT,f9ebdacc-3898-11e0-a3db-001b2172c655,0x800,0x64000)/File(\efi\boot\bootx64.efi)`,
						FilePath:   `\efi\boot\bootx64.efi`,
						Device:     "nvd0p1", Path: "/efi/boot/bootx64.efi"},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.archive, func(t *testing.T) {
			got, err := ParseEfibootmgr(testOutput(t, tt.archive, "efibootmgr -v"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseEfibootmgrVariants(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []EFIBootEntry
	}{
		{
			name: "without -v: labels only",
			in:   "BootCurrent: 0001\nBootOrder  : 0001, 0002\n+Boot0001* FreeBSD\n Boot0002  Old loader\n",
			want: []EFIBootEntry{
				{Num: "0001", Active: true, Current: true, Label: "FreeBSD"},
				{Num: "0002", Label: "Old loader"},
			},
		},
		{
			name: "empty label, lower-case hex, mapping line without indentation",
			in:   "+Boot00aa*  HD(1,GPT,ABC,0x28,0x82000)/File(\\efi\\boot\\bootx64.efi)\nada0p1:/efi/boot/bootx64.efi (null)\n",
			want: []EFIBootEntry{{Num: "00AA", Active: true, Current: true,
				DevicePath: `HD(1,GPT,ABC,0x28,0x82000)/File(\efi\boot\bootx64.efi)`, FilePath: `\efi\boot\bootx64.efi`,
				Device: "ada0p1", Path: "/efi/boot/bootx64.efi"}},
		},
		{
			name: "mounted path holding a blank",
			in:   " Boot0001* FreeBSD HD(1,GPT,x,0x28,0x82000)/File(\\efi\\my loader\\loader.efi)\n      ada0p1:/efi/my loader/loader.efi /mnt/esp one/efi/my loader/loader.efi\n",
			want: []EFIBootEntry{{Num: "0001", Active: true, Label: "FreeBSD",
				DevicePath: `HD(1,GPT,x,0x28,0x82000)/File(\efi\my loader\loader.efi)`, FilePath: `\efi\my loader\loader.efi`,
				Device: "ada0p1", Path: "/efi/my loader/loader.efi", MountedPath: "/mnt/esp one/efi/my loader/loader.efi"}},
		},
		{
			name: "second device path line",
			in:   " Boot0001* Two paths HD(1,GPT,x,0x28,0x82000)/File(\\a.efi)\n          HD(1,GPT,y,0x28,0x82000)/File(\\b.efi)\n",
			want: []EFIBootEntry{{Num: "0001", Active: true, Label: "Two paths",
				DevicePath: `HD(1,GPT,x,0x28,0x82000)/File(\a.efi)`, FilePath: `\a.efi`,
				MoreDevicePaths: []string{`HD(1,GPT,y,0x28,0x82000)/File(\b.efi)`}}},
		},
		{
			name: "unreferenced variables only",
			in:   "BootCurrent: 0000\n\n\nUnreferenced Variables:\n Boot0000* FreeBSD\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEfibootmgr(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.Entries); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if tt.name == "unreferenced variables only" && (len(got.Unreferenced) != 1 || got.Unreferenced[0].Num != "0000" || got.Unreferenced[0].Label != "FreeBSD") {
				t.Errorf("unreferenced entries %+v, want Boot0000 FreeBSD", got.Unreferenced)
			}
		})
	}
}

func TestParseEfibootmgrErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
	}{
		{"stderr text on stdout", "efibootmgr: efi variables not supported on this system. root? kldload efirt?\n", 1},
		{"bad BootCurrent", "BootCurrent: 19\n", 1},
		{"bad BootOrder", "BootOrder  : 0001, zz\n", 1},
		{"bad timeout", "Timeout    : soon\n", 1},
		{"bad boot to FW", "Boot to FW : maybe\n", 1},
		{"continuation before any entry", "BootCurrent: 0001\n      ada0p1:/efi/freebsd/loader.efi (null)\n", 2},
		{"mapping without a blank", "+Boot0001* FreeBSD HD(1,GPT,x,0x28,0x82000)/File(\\a.efi)\n   ada0p1:/a.efi\n", 2},
		{"malformed MISSING", "BootXYZ: MISSING!\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEfibootmgr(tt.in)
			wantParseError(t, err, "efibootmgr -v", tt.line)
		})
	}
}

func TestEFIBootEntryHelpers(t *testing.T) {
	b, err := ParseEfibootmgr(testOutput(t, "efibootmgr-v-mirror-two-esps.txtar", "efibootmgr -v"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		num        string
		guid       string
		freebsdEFI bool
	}{
		{"0001", "52e6b438-f2a7-11e2-99a6-0cc47a3b5d10", true},
		{"0002", "11e20b8f-3d9c-11e1-a36c-0cc47a3b5d10", true},
		{"0000", "d1f2a8c4-6a3e-4c71-9b2d-5e8f0a1c3b7e", false},
		{"0003", "", false},
	}
	for _, tt := range tests {
		var e EFIBootEntry
		for _, x := range b.Entries {
			if x.Num == tt.num {
				e = x
			}
		}
		if got := e.PartitionGUID(); got != tt.guid {
			t.Errorf("Boot%s PartitionGUID() = %q, want %q", tt.num, got, tt.guid)
		}
		if got := e.PointsAt("/EFI/FreeBSD/loader.efi"); got != tt.freebsdEFI {
			t.Errorf("Boot%s PointsAt(loader.efi) = %v, want %v", tt.num, got, tt.freebsdEFI)
		}
	}

	// The entry's partition GUID is the rawuuid gpart list shows: the entry
	// for ada1's ESP leads to ada1p1.
	l := textLayout(t, "gpart-list-mirror-crossed-labels.txtar", false)
	var found string
	for _, g := range l.Geoms {
		for _, p := range g.Partitions {
			if p.RawUUID == b.Entries[1].PartitionGUID() {
				found = p.Name
			}
		}
	}
	if found != "ada1p1" {
		t.Errorf("entry 0002 matches partition %q, want ada1p1", found)
	}
}

func FuzzParseEfibootmgr(f *testing.F) {
	seedOutputs(f, "efibootmgr")
	f.Fuzz(func(t *testing.T, in string) {
		b, err := ParseEfibootmgr(in)
		if err != nil {
			return
		}
		for _, e := range b.Entries {
			if !isBootNum(e.Num) || e.Num != strings.ToUpper(e.Num) {
				t.Fatalf("bad entry number %q", e.Num)
			}
			if e.DevicePath != "" && !isDevicePath(e.DevicePath) {
				t.Fatalf("device path %q is not one", e.DevicePath)
			}
		}
	})
}
