// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestSeedRealESP: a guest's copy of a golden disk gets, in its real
// FAT ESP, the files the machine's model was installed with (read back
// with mtools, byte for byte), and the model takes the real GPT; a disk
// whose model ESP holds no file system gets a real ESP that holds none.
// Both layouts: the ESP is where each one's real GPT has it. It runs
// beside the package's guest tests (t.Parallel): its disks are its own.
func TestSeedRealESP(t *testing.T) {
	t.Parallel()
	needTools(t, "the ZFS guest's disks need: ", MissingZFSDiskTools())
	for _, layout := range []*DiskLayout{bsdinstallLayout, handMadeLayout} {
		t.Run(layout.Name, func(t *testing.T) {
			dir := t.TempDir()
			sc := &Scenario{DiskLayout: layout.Name, Machine: simhost.Spec{Preset: "bios+uefi", Release: "13.4-RELEASE", Disks: 2, ESPs: "first"}}
			sc.layDisks()
			m, err := simhost.New(filepath.Join(dir, "root"), sc.Machine, "")
			if err != nil {
				t.Fatal(err)
			}
			golden := makeGoldenDisks(t, dir, "golden-", layout)
			pool, err := realPoolDisks(m, golden, dir)
			if err != nil {
				t.Fatal(err)
			}
			model, err := m.Model()
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range layout.Parts {
				mp := model.Disks[0].Partitions[p.Index-1]
				if mp.Index != p.Index || mp.Type != p.Type || mp.Start != p.Start || mp.Label != p.Label+"0" || (p.Sectors > 0 && mp.Size != p.Sectors) {
					t.Errorf("the model did not take the real GPT: p%d is %s %q at %d+%d, the layout's %s at %d+%d", mp.Index, mp.Type, mp.Label, mp.Start, mp.Size, p.Type, p.Start, p.Sectors)
				}
			}
			esp := findPart(model.Disks[0].Partitions, "efi")
			n := 0
			for _, f := range esp.FAT.Synced {
				if f.Dir {
					continue
				}
				n++
				out, err := exec.Command("mcopy", "-n", "-i", espImage(pool[0].Path, esp), "::/"+f.Path, "-").Output()
				if err != nil || !bytes.Equal(out, f.Data) {
					t.Errorf("the real ESP of ada0 does not hold the model's %s: %v", f.Path, err)
				}
			}
			if n == 0 {
				t.Fatal("the model's first ESP holds no files")
			}
			if out, err := exec.Command("mdir", "-i", espImage(pool[1].Path, esp), "::").CombinedOutput(); err == nil {
				t.Errorf("the real ESP of ada1 holds a file system, the model's none:\n%s", out)
			}
			// The model's boot code is at the real freebsd-boot partition.
			boot := findPart(model.Disks[0].Partitions, "freebsd-boot")
			f, err := os.Open(pool[0].Path)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(boot.Data))
			_, err = f.ReadAt(got, boot.Start*512)
			f.Close()
			if err != nil || len(boot.Data) == 0 || !bytes.Equal(got, boot.Data) {
				t.Errorf("the real p%d at %d does not hold the model's gptzfsboot", boot.Index, boot.Start)
			}
		})
	}
}
