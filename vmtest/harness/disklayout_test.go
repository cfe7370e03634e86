// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"os"
	"path/filepath"
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

	for _, c := range []struct{ layout, machine, want string }{
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
