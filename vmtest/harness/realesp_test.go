// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// TestSeedRealESP: a guest's copy of a golden disk gets, in its real
// FAT ESP, the files the machine's model was installed with (read back
// with mtools, byte for byte), and the model takes the real GPT; a disk
// whose model ESP holds no file system gets a real ESP that holds none.
func TestSeedRealESP(t *testing.T) {
	if missing := MissingZFSDiskTools(); len(missing) > 0 {
		msg := "the ZFS guest's disks need: " + strings.Join(missing, ", ")
		if os.Getenv(CIEnv) != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	m, err := simhost.New(filepath.Join(dir, "root"), simhost.Spec{Preset: "bios+uefi", Release: "13.4-RELEASE", Disks: 2, ESPs: "first"}, "")
	if err != nil {
		t.Fatal(err)
	}
	var golden []string
	for i := range 2 {
		golden = append(golden, filepath.Join(dir, "golden"+string(rune('0'+i))+".img"))
		if err := MakeFreeBSDDisk(golden[i], i); err != nil {
			t.Fatal(err)
		}
	}
	pool, err := realPoolDisks(m, golden, dir)
	if err != nil {
		t.Fatal(err)
	}
	model, err := m.Model()
	if err != nil {
		t.Fatal(err)
	}
	esp := model.Disks[0].Partitions[0]
	if esp.Start != espStart || esp.Size != espSectors || model.Disks[0].Partitions[3].Start != zfsStart {
		t.Errorf("the model did not take the real GPT: ESP at %d+%d, pool partition at %d", esp.Start, esp.Size, model.Disks[0].Partitions[3].Start)
	}
	n := 0
	for _, f := range esp.FAT.Synced {
		if f.Dir {
			continue
		}
		n++
		out, err := exec.Command("mcopy", "-n", "-i", pool[0].Path+"@@20480", "::/"+f.Path, "-").Output()
		if err != nil || !bytes.Equal(out, f.Data) {
			t.Errorf("the real ESP of ada0 does not hold the model's %s: %v", f.Path, err)
		}
	}
	if n == 0 {
		t.Fatal("the model's first ESP holds no files")
	}
	if out, err := exec.Command("mdir", "-i", pool[1].Path+"@@20480", "::").CombinedOutput(); err == nil {
		t.Errorf("the real ESP of ada1 holds a file system, the model's none:\n%s", out)
	}
}
