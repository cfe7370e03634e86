// SPDX-License-Identifier: BSD-2-Clause

package gpart

import (
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBootTargets(t *testing.T) {
	mirror := textLayout(t, "gpart-list-mirror-crossed-labels.txtar", true)
	da0 := &Layout{}
	geoms, err := ParseList(testOutput(t, "gpart-list-bios-bsdinstall-da0.txtar", "gpart list da0"))
	if err != nil {
		t.Fatal(err)
	}
	da0.Geoms = geoms
	handmade := textLayout(t, "gpart-list-handmade-nvd-vtbd.txtar", false)
	diskid := textLayout(t, "gpart-list-diskid.txtar", false)
	nested := textLayout(t, "gpart-list-mbr-bsd-nested.txtar", false)

	tests := []struct {
		name     string
		layout   *Layout
		geom     string
		boot     []string // "name:index"
		esps     []string
		none     bool
		describe string
		argv     []string // for the first boot partition
	}{
		{
			name: "14.x BIOS+UEFI layout", layout: mirror, geom: "ada1",
			boot: []string{"ada1p2:2"}, esps: []string{"ada1p1:1"},
			describe: "ada1 (GPT): freebsd-boot index 2 (ada1p2, 512K); ESP ada1p1 (260M, label efiboot1)",
			argv:     []string{"gpart", "bootcode", "-b", "/boot/pmbr", "-p", "/boot/gptzfsboot", "-i", "2", "ada1"},
		},
		{
			name: "BIOS-only bsdinstall", layout: da0, geom: "da0",
			boot:     []string{"da0p1:1"},
			describe: "da0 (GPT): freebsd-boot index 1 (da0p1, 512K); no ESP",
			argv:     []string{"gpart", "bootcode", "-b", "/boot/pmbr", "-p", "/boot/gptzfsboot", "-i", "1", "da0"},
		},
		{
			name: "hand-made, freebsd-boot at index 4", layout: handmade, geom: "nvd0",
			boot: []string{"nvd0p4:4"}, esps: []string{"nvd0p1:1"},
			describe: "nvd0 (GPT): freebsd-boot index 4 (nvd0p4, 512K); ESP nvd0p1 (200M)",
			argv:     []string{"gpart", "bootcode", "-b", "/boot/pmbr", "-p", "/boot/gptzfsboot", "-i", "4", "nvd0"},
		},
		{
			name: "UEFI-only, diskid geom", layout: diskid, geom: "diskid/DISK-Y39B70RTK7AS",
			esps:     []string{"diskid/DISK-Y39B70RTK7ASp1:1"},
			describe: "diskid/DISK-Y39B70RTK7AS (GPT): no freebsd-boot partition; ESP diskid/DISK-Y39B70RTK7ASp1 (260M, label efiboot0)",
		},
		{
			name: "MBR disk", layout: nested, geom: "ada0", none: true,
			describe: "ada0 (MBR): neither a freebsd-boot partition nor an EFI system partition",
		},
		{
			name: "BSD label in a slice", layout: nested, geom: "ada0s1", none: true,
			describe: "ada0s1 (BSD): neither a freebsd-boot partition nor an EFI system partition",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bt, err := tt.layout.BootTargets(tt.geom)
			if err != nil {
				t.Fatal(err)
			}
			ids := func(ps []Partition) []string {
				var out []string
				for _, p := range ps {
					out = append(out, p.Name+":"+strconv.Itoa(p.Index))
				}
				return out
			}
			if diff := cmp.Diff(tt.boot, ids(bt.BootPartitions)); diff != "" {
				t.Errorf("boot partitions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.esps, ids(bt.ESPs)); diff != "" {
				t.Errorf("ESPs (-want +got):\n%s", diff)
			}
			if bt.None() != tt.none {
				t.Errorf("None() = %v, want %v", bt.None(), tt.none)
			}
			if got := bt.String(); got != tt.describe {
				t.Errorf("String() = %q\nwant       %q", got, tt.describe)
			}
			if tt.argv == nil {
				return
			}
			argv, err := bt.BootcodeArgv(bt.BootPartitions[0])
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.argv, argv); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
		})
	}

	if _, err := mirror.BootTargets("ada7"); err == nil || !strings.Contains(err.Error(), "ada7") {
		t.Errorf("BootTargets of an unknown geom: %v", err)
	}
}

// TestBootTargetsOfMember goes from a pool member to the command for its
// disk: the crossed label must lead to ada1, not ada0.
func TestBootTargetsOfMember(t *testing.T) {
	l := textLayout(t, "gpart-list-mirror-crossed-labels.txtar", true)
	m, err := l.ResolveMember("gpt/zfs0")
	if err != nil {
		t.Fatal(err)
	}
	bt, err := l.BootTargets(m.DiskGeom)
	if err != nil {
		t.Fatal(err)
	}
	argv, err := bt.BootcodeArgv(bt.BootPartitions[0])
	if err != nil {
		t.Fatal(err)
	}
	want := "gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 2 ada1"
	if got := strings.Join(argv, " "); got != want {
		t.Errorf("argv = %q, want %q", got, want)
	}
}

func TestBootcodeArgvRefuses(t *testing.T) {
	mirror := textLayout(t, "gpart-list-mirror-crossed-labels.txtar", true)
	ada0, _ := mirror.BootTargets("ada0")
	ada1, _ := mirror.BootTargets("ada1")
	nested := textLayout(t, "gpart-list-mbr-bsd-nested.txtar", false)
	mbr, _ := nested.BootTargets("ada0")
	slice, _, _ := nested.Partition("ada0s1")

	tests := []struct {
		name    string
		targets BootTargets
		p       Partition
		want    string
	}{
		{"an ESP", ada0, ada0.ESPs[0], `type "efi", not freebsd-boot`},
		{"another disk's boot partition", ada0, ada1.BootPartitions[0], "not a freebsd-boot partition of ada0"},
		{"wrong index", ada0, func() Partition { p := ada0.BootPartitions[0]; p.Index = 1; return p }(), "not a freebsd-boot partition of ada0"},
		{"an MBR disk", mbr, slice, "not GPT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			argv, err := tt.targets.BootcodeArgv(tt.p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("BootcodeArgv = %q, %v; want error containing %q", argv, err, tt.want)
			}
		})
	}
}

func TestCheckPartcodeFits(t *testing.T) {
	boot512K := Partition{Name: "ada0p2", Index: 2, Type: "freebsd-boot", MediaSize: 524288, SectorSize: 512}
	boot64K := Partition{Name: "ada0p1", Index: 1, Type: "freebsd-boot", MediaSize: 65536, SectorSize: 512}
	boot4Kn := Partition{Name: "nda0p2", Index: 2, Type: "freebsd-boot", Length: 524288, SectorSize: 4096}
	esp := Partition{Name: "ada0p1", Index: 1, Type: "efi", MediaSize: 272629760, SectorSize: 512}
	tests := []struct {
		name string
		p    Partition
		size int64
		ok   bool
		want string
	}{
		{"gptzfsboot of 14.x in 512K", boot512K, 167936, true, ""},
		{"exactly the partition size", boot512K, 524288, true, ""},
		{"one byte too many", boot512K, 524289, false, "does not fit freebsd-boot partition ada0p2 of 524288 bytes (512K)"},
		{"old 64K partition, newer gptzfsboot", boot64K, 88064, false, "does not fit"},
		{"4K sectors pad to the sector", boot4Kn, 520193, true, ""},
		{"4K sectors, padding overflows", boot4Kn, 524289, false, "528384 with sector padding"},
		{"an ESP", esp, 167936, false, "not freebsd-boot"},
		{"empty boot code", boot512K, 0, false, "empty"},
		{"unknown partition size", Partition{Name: "x", Type: "freebsd-boot"}, 1, false, "not known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPartcodeFits(tt.p, tt.size)
			if tt.ok {
				if err != nil {
					t.Errorf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{1000, "1000B"}, {524288, "512K"}, {819200, "800K"}, {2147483648, "2.0G"},
		{272629760, "260M"}, {209715200, "200M"}, {500107862016, "466G"}, {10695475200, "10G"},
	}
	for _, tt := range tests {
		if got := humanBytes(tt.n); got != tt.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
