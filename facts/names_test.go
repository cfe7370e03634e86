// SPDX-License-Identifier: BSD-2-Clause

package facts

import (
	"errors"
	"testing"
)

func TestCheckNames(t *testing.T) {
	ok := func() *Facts {
		return &Facts{
			Disks:       []Disk{{Name: "nda0", BootPartitions: []Partition{{Name: "nda0p1"}}, ESPs: []ESP{{Partition: Partition{Name: "diskid/DISK-S3Z9NB0K123456p2"}}}}},
			Pools:       []Pool{{Name: "zroot", BootFS: "zroot/ROOT/14.2-RELEASE_2024-12-01_101010"}},
			BootPool:    "zroot",
			RootDataset: "zroot/ROOT/default",
			BootEnvs:    BootEnvs{List: []BootEnv{{Name: "default"}, {Name: "zupgrade-14.1-to-14.2"}}},
			OtherDisks:  []Disk{{Name: "da0", ESPs: []ESP{{Partition: Partition{Name: "da0p1"}}}}},
			EFI:         &EFI{Entries: []EFIEntry{{Number: "0001", Path: "/efi/freebsd/loader.efi"}, {Number: "0002", Path: "/EFI/My Loader/boot-1.efi"}, {Number: "0003"}}},
		}
	}
	if err := ok().checkNames(); err != nil {
		t.Fatalf("ordinary names refused: %v", err)
	}
	for name, spoil := range map[string]func(*Facts){
		"disk -rf":           func(f *Facts) { f.Disks[0].Name = "-rf" },
		"partition newline":  func(f *Facts) { f.Disks[0].BootPartitions[0].Name = "ada0p1\nada1p1" },
		"ESP with a space":   func(f *Facts) { f.Disks[0].ESPs[0].Name = "ada0p1 ada1p1" },
		"pool -f":            func(f *Facts) { f.Pools[0].Name = "-f" },
		"bootfs $(reboot)":   func(f *Facts) { f.Pools[0].BootFS = "zroot/$(reboot)" },
		"root dataset ../":   func(f *Facts) { f.RootDataset = "zroot/ROOT/`id`" },
		"boot environment -": func(f *Facts) { f.BootEnvs.List[1].Name = "-r" },
		"other disk -rf":     func(f *Facts) { f.OtherDisks[0].Name = "-rf" },
		"entry file ../":     func(f *Facts) { f.EFI.Entries[0].Path = "/efi/../../etc/rc" },
		"entry file newline": func(f *Facts) { f.EFI.Entries[1].Path = "/efi/a\nb.efi" },
	} {
		f := ok()
		spoil(f)
		var ne *NameError
		if err := f.checkNames(); !errors.As(err, &ne) {
			t.Errorf("%s: checkNames = %v, want a *NameError", name, err)
		}
	}
}
