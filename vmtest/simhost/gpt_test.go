// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// writeRealGPT writes disk d's partition table, as the model holds it,
// into a sparse image at path with sgdisk: the same size, usable sectors
// (the table at LBA 8 ends at 39 when the model's first is 40), types,
// unique GUIDs and labels.
func writeRealGPT(t *testing.T, d *Disk, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, d.Sectors*512); err != nil {
		t.Fatal(err)
	}
	args := []string{"-a", "1", "-j", fmt.Sprint(d.First - 32)}
	for _, p := range d.Partitions {
		i := p.Index
		args = append(args, "-n", fmt.Sprintf("%d:%d:%d", i, p.Start, p.Start+p.Size-1), "-t", fmt.Sprintf("%d:%s", i, rawTypes[p.Type]), "-u", fmt.Sprintf("%d:%s", i, p.RawUUID))
		if p.Label != "" {
			args = append(args, "-c", fmt.Sprintf("%d:%s", i, p.Label))
		}
	}
	sgdisk(t, append(args, path)...)
}

// sgdisk runs sgdisk(8) on the host; the tests that need it fail in CI
// without it, and are skipped elsewhere.
func sgdisk(t *testing.T, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("sgdisk"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sgdisk (package gdisk) is needed to write real GPT disks")
		}
		t.Skip("sgdisk (package gdisk) is needed to write real GPT disks (a failure in CI)")
	}
	if out, err := exec.Command("sgdisk", args...).CombinedOutput(); err != nil {
		t.Fatalf("sgdisk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestRealGPT: with UseRealDisks, gpart list and gpart show read the real
// disks' GPT. A real table that matches the model prints exactly what the
// model prints; a real table changed behind the model's back (a label
// renamed, the swap partition deleted) shows the change; a disk without
// a GPT is an error, not the model's copy.
func TestRealGPT(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", Disks: 2})
	dev := t.TempDir()
	for _, d := range tm.model().Disks {
		writeRealGPT(t, d, filepath.Join(dev, d.Name))
	}
	commands := [][]string{{"gpart", "list"}, {"gpart", "show"}, {"gpart", "show", "-p"}, {"gpart", "show", "-l", "ada1"}, {"gpart", "show", "-r"}, {"gpart", "show", "ada0"}}
	model := map[string]string{}
	for _, c := range commands {
		model[strings.Join(c, " ")] = tm.must(c...)
	}
	if err := tm.UseRealDisks(dev); err != nil {
		t.Fatal(err)
	}
	for _, c := range commands {
		if got, want := tm.must(c...), model[strings.Join(c, " ")]; got != want {
			t.Errorf("%s on the real GPT:\n%s\nthe model's:\n%s", strings.Join(c, " "), got, want)
		}
	}
	sgdisk(t, "-c", "1:renamed", "-d", "3", filepath.Join(dev, "ada1"))
	show := tm.must("gpart", "show", "-l", "ada1")
	if !strings.Contains(show, "  1  renamed  (260M)") || strings.Contains(show, "swap1") || !strings.Contains(show, "- free -") {
		t.Errorf("gpart show -l ada1 after the real table changed:\n%s", show)
	}
	if list := tm.must("gpart", "list", "ada1"); strings.Contains(list, "ada1p3") || !strings.Contains(list, "label: renamed\n") {
		t.Errorf("gpart list ada1 after the real table changed:\n%s", list)
	}
	if show := tm.must("gpart", "show", "ada0"); show != model["gpart show ada0"] {
		t.Errorf("gpart show ada0 changed with ada1's table:\n%s", show)
	}
	if err := os.WriteFile(filepath.Join(dev, "ada0"), make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := tm.run("gpart", "show", "ada0"); r.code == 0 || !strings.Contains(r.err, "no GPT header") {
		t.Errorf("gpart show of a real disk without a GPT: %v", r)
	}
}

// TestAdoptGPT: the model's disk takes a real image's partition table
// (another size, swap and GUIDs than the model's): gpart then prints the
// same from the model and from the real disk, and the firmware's boot
// entry for the ESP names the real ESP's GUID.
func TestAdoptGPT(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.1-RELEASE", Disks: 2})
	d := tm.model().Disks[0]
	oldESP := d.Partitions[0].RawUUID
	real := *d
	real.Sectors = 4096 << 11
	real.Partitions = nil
	for _, p := range d.Partitions {
		rp := *p
		rp.RawUUID = strings.Replace(p.RawUUID, p.RawUUID[:8], "0badc0de", 1)
		rp.Label = p.Label + "x"
		real.Partitions = append(real.Partitions, &rp)
	}
	real.Partitions[2].Size = 131072
	real.Partitions[3].Start = real.Partitions[2].Start + 131072
	real.Partitions[3].Size = real.Last() - real.Partitions[3].Start + 1
	dev := t.TempDir()
	writeRealGPT(t, &real, filepath.Join(dev, "ada0"))
	if err := tm.AdoptGPT("ada0", filepath.Join(dev, "ada0")); err != nil {
		t.Fatal(err)
	}
	model := tm.must("gpart", "list", "ada0")
	if !strings.Contains(model, "label: zfs0x\n") || !strings.Contains(model, "rawuuid: "+real.Partitions[0].RawUUID+"\n") {
		t.Errorf("gpart list from the model after AdoptGPT:\n%s", model)
	}
	if efi := tm.must("efibootmgr", "-v"); strings.Contains(efi, oldESP) || !strings.Contains(efi, real.Partitions[0].RawUUID) {
		t.Errorf("the firmware's entries after AdoptGPT still name the model's ESP %s:\n%s", oldESP, efi)
	}
	if err := tm.UseRealDisks(dev); err != nil {
		t.Fatal(err)
	}
	if got := tm.must("gpart", "list", "ada0"); got != model {
		t.Errorf("gpart list of the real disk:\n%s\nfrom the adopted model:\n%s", got, model)
	}
	sgdisk(t, "-d", "3", filepath.Join(dev, "ada0"))
	if err := tm.AdoptGPT("ada1", filepath.Join(dev, "ada0")); err == nil || !strings.Contains(err.Error(), "3 partitions") {
		t.Errorf("AdoptGPT of a table lacking a partition of the model's: %v", err)
	}
}
