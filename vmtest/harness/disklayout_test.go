// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestScenarioDiskLayout: a scenario's disk_layout lays out its machine's
// disks: hand-made gives each disk the layout's partitions with labels
// numbered by its unit and names the pool's members by their labels, as
// the machine simhost makes shows; bsdinstall leaves the preset's; an
// unknown layout or one beside machine.layouts is refused with what to
// fix.
func TestScenarioDiskLayout(t *testing.T) {
	load := func(t *testing.T, body string) (*Scenario, error) {
		path := filepath.Join(t.TempDir(), "s.json")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return Load(path)
	}
	const rest = `"machine": {"preset": "bios+uefi", "release": "13.4-RELEASE", "disks": 2, "esps": "all"%s}, "runs": [{"apply": []}], "expect": {"kernel": "13.4-RELEASE", "world": "13.4-RELEASE", "pool": "ONLINE", "journal": "done"}}`
	scenario := func(layout, machine string) string {
		s := `{"description": "d", `
		if layout != "" {
			s += `"disk_layout": "` + layout + `", `
		}
		return s + strings.Replace(rest, "%s", machine, 1)
	}
	sc, err := load(t, scenario("hand-made", ""))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Machine.Naming != "gpt-label" || len(sc.Machine.Layouts) != 2 {
		t.Fatalf("hand-made: naming %q, layouts %v", sc.Machine.Naming, sc.Machine.Layouts)
	}
	m, err := simhost.New(filepath.Join(t.TempDir(), "root"), sc.Machine, "")
	if err != nil {
		t.Fatal(err)
	}
	model, err := m.Model()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range model.Disks {
		for _, p := range d.Partitions {
			got = append(got, d.Name+"p"+string(rune('0'+p.Index))+" "+p.Type+" "+p.Label)
		}
	}
	want := "ada0p1 freebsd-boot boot0,ada0p2 efi efi0,ada0p3 freebsd-zfs zfs0,ada1p1 freebsd-boot boot1,ada1p2 efi efi1,ada1p3 freebsd-zfs zfs1"
	if strings.Join(got, ",") != want {
		t.Errorf("hand-made machine's partitions:\n%s\nwant:\n%s", strings.Join(got, ","), want)
	}
	var members []string
	for _, v := range model.Pools[0].Vdevs[0].Children {
		members = append(members, v.Name)
	}
	if strings.Join(members, " ") != "gpt/zfs0 gpt/zfs1" {
		t.Errorf("hand-made machine's pool members %v, want gpt/zfs0 gpt/zfs1", members)
	}

	for _, layout := range []string{"", "bsdinstall"} {
		sc, err := load(t, scenario(layout, ""))
		if err != nil {
			t.Fatal(err)
		}
		if sc.Machine.Layouts != nil || sc.Machine.Naming != "" || sc.layout() != bsdinstallLayout {
			t.Errorf("disk_layout %q changed the preset's machine: layouts %v, naming %q", layout, sc.Machine.Layouts, sc.Machine.Naming)
		}
	}

	// A UEFI-only machine gets bsdinstall's GPT (UEFI) golden disks,
	// with or without disk_layout bsdinstall; "bsdinstall-uefi" is no
	// name a scenario gives.
	for _, layout := range []string{"", "bsdinstall"} {
		sc, err := load(t, strings.Replace(scenario(layout, ""), `"bios+uefi"`, `"uefi"`, 1))
		if err != nil {
			t.Fatal(err)
		}
		if sc.Machine.Layouts != nil || sc.layout() != bsdinstallUEFILayout {
			t.Errorf("a uefi machine with disk_layout %q: layout %s, layouts %v; want bsdinstall-uefi and the preset's own", layout, sc.layout().Name, sc.Machine.Layouts)
		}
	}

	// A BIOS-only machine gets bsdinstall's GPT (BIOS) golden disks;
	// "bsdinstall-bios" is no name a scenario gives either.
	for _, layout := range []string{"", "bsdinstall"} {
		sc, err := load(t, strings.Replace(scenario(layout, ""), `"bios+uefi"`, `"bios"`, 1))
		if err != nil {
			t.Fatal(err)
		}
		if sc.Machine.Layouts != nil || sc.layout() != bsdinstallBIOSLayout {
			t.Errorf("a bios machine with disk_layout %q: layout %s, layouts %v; want bsdinstall-bios and the preset's own", layout, sc.layout().Name, sc.Machine.Layouts)
		}
	}

	for _, c := range []struct{ layout, machine, want string }{
		{"bsdinstall-bios", "", `disk_layout "bsdinstall-bios": want bsdinstall or hand-made`},
		{"bsdinstall-uefi", "", `disk_layout "bsdinstall-uefi": want bsdinstall or hand-made`},
		{"zfsboot", "", `disk_layout "zfsboot": want bsdinstall or hand-made`},
		{"hand-made", `, "naming": "gptid"`, "leave machine.layouts and machine.naming out"},
		{"hand-made", `, "layouts": {"ada0": [{"type": "freebsd-zfs"}]}`, "leave machine.layouts and machine.naming out"},
	} {
		if _, err := load(t, scenario(c.layout, c.machine)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("disk_layout %s with %q: %v, want an error saying %q", c.layout, c.machine, err, c.want)
		}
	}
}

// TestBsdinstallLayouts reads the golden disks of bsdinstall's layouts
// back from their real GPTs and lays them out again as bsdinstall's
// zfs_create_diskpart does (freebsd-src usr.sbin/bsdinstall/scripts/
// zfsboot, ZFSBOOT_FORCE_4K_SECTORS on by default): for GPT (UEFI) and
// GPT (BIOS+UEFI) an ESP of 260M labelled efiboot#, for GPT (BIOS) and
// GPT (BIOS+UEFI) a freebsd-boot partition of 512K labelled gptboot#,
// both with -a 4k, then swap# and zfs# with -a 1m, the pool partition to
// the end of the disk, its end aligned too; the swap is the test disk's
// 64M. Each partition must sit where those rules put it, and the
// machine simhost makes for the layout's preset must take the real
// table (AdoptGPT: the same partitions, index for index, type for type)
// with bsdinstall's labels and its pool on the partition zfs_create_boot
// names (ada1p3, ada1p4).
func TestBsdinstallLayouts(t *testing.T) {
	needTools(t, "the ZFS guest's disks need: ", MissingZFSDiskTools())
	const swap = 131072 // the test disks' swap, 64M
	alignUp := func(n, a int64) int64 { return (n + a - 1) / a * a }
	for _, l := range []*DiskLayout{bsdinstallLayout, bsdinstallUEFILayout, bsdinstallBIOSLayout} {
		t.Run(l.Name, func(t *testing.T) {
			var want []string
			next := int64(34) // the first usable sector after a GPT of 128 entries
			add := func(typ, label string, align, size int64) {
				start := alignUp(next, align)
				if size == 0 { // to the end, aligned
					last := int64(DiskMB<<20)/512 - 34
					size = (last+1)/align*align - start
				}
				want = append(want, fmt.Sprintf("p%d %s %s1 %d+%d", len(want)+1, typ, label, start, size))
				next = start + size
			}
			if l.Preset != "bios" {
				add("efi", "efiboot", 8, 532480)
			}
			if l.Preset != "uefi" {
				add("freebsd-boot", "gptboot", 8, 1024)
			}
			add("freebsd-swap", "swap", 2048, swap)
			add("freebsd-zfs", "zfs", 2048, 0)

			dir := t.TempDir()
			img := filepath.Join(dir, "ada1.img")
			if err := MakeFreeBSDDisk(img, l, 1); err != nil {
				t.Fatal(err)
			}
			parts, err := simhost.ReadGPT(img)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range parts {
				got = append(got, fmt.Sprintf("p%d %s %s %d+%d", p.Index, p.Type, p.Label, p.Start, p.Size))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("the real GPT of %s:\n%s\nbsdinstall's:\n%s", l.Name, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}

			m, err := simhost.New(filepath.Join(dir, "root"), simhost.Spec{Preset: l.Preset, Release: "13.4-RELEASE", Disks: 2}, "")
			if err != nil {
				t.Fatal(err)
			}
			if err := m.AdoptGPT("ada1", img); err != nil {
				t.Fatalf("the %s machine does not take the real %s table: %v", l.Preset, l.Name, err)
			}
			model, err := m.Model()
			if err != nil {
				t.Fatal(err)
			}
			var adopted []string
			for _, d := range model.Disks {
				if d.Name != "ada1" {
					continue
				}
				for _, p := range d.Partitions {
					adopted = append(adopted, fmt.Sprintf("p%d %s %s %d+%d", p.Index, p.Type, p.Label, p.Start, p.Size))
				}
			}
			if strings.Join(adopted, "\n") != strings.Join(want, "\n") {
				t.Errorf("the %s machine's ada1 after AdoptGPT:\n%s\nwant:\n%s", l.Preset, strings.Join(adopted, "\n"), strings.Join(want, "\n"))
			}
			var members []string
			for _, v := range model.Pools[0].Vdevs[0].Children {
				members = append(members, v.Name)
			}
			d, err := readZFSDisk("ada1", img, l)
			if err != nil {
				t.Fatal(err)
			}
			if p := len(want); d.poolDev() != fmt.Sprintf("ada1p%d", p) || !slices.Contains(members, d.poolDev()) {
				t.Errorf("the pool device %s, the %s machine's members %v; want ada1p%d among them", d.poolDev(), l.Preset, members, p)
			}
		})
	}
}
