// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/partition/gpt"
)

// memberImage writes a raw GPT disk image as bsdinstall lays out a
// BIOS+UEFI member: p1 efi (FAT32 holding the given ESP files; no file
// system when esp is nil), p2 freebsd-boot holding boot, p3 freebsd-zfs;
// and mbr as the MBR's boot code.
func memberImage(t *testing.T, path string, mbr, boot []byte, esp map[string][]byte) {
	t.Helper()
	const mib = 1 << 20
	d, err := diskfs.Create(path, 64*mib, diskfs.SectorSizeDefault)
	if err != nil {
		t.Fatal(err)
	}
	table := &gpt.Table{LogicalSectorSize: 512, PhysicalSectorSize: 512, ProtectiveMBR: true, Partitions: []*gpt.Partition{
		{Index: 1, Start: 2048, End: 2048 + 40*2048 - 1, Type: gpt.EFISystemPartition, Name: "efiboot0"},
		{Index: 2, Start: 2048 + 40*2048, End: 2048 + 40*2048 + 1023, Type: gptFreeBSDBoot, Name: "gptboot0"},
		{Index: 3, Start: 2048 + 41*2048, End: 2048 + 60*2048 - 1, Type: "516E7CBA-6ECF-11D6-8FF8-00022D09712B", Name: "zfs0"},
	}}
	if err := d.Partition(table); err != nil {
		t.Fatal(err)
	}
	if _, err := d.WritePartitionContents(2, bytes.NewReader(append(append([]byte(nil), boot...), make([]byte, 512*1024-len(boot))...))); err != nil {
		t.Fatal(err)
	}
	if esp != nil {
		fs, err := d.CreateFilesystem(disk.FilesystemSpec{Partition: 1, FSType: filesystem.TypeFat32, VolumeLabel: "EFISYS"})
		if err != nil {
			t.Fatal(err)
		}
		for name, data := range esp {
			if err := fs.Mkdir(filepath.Dir(name)); err != nil {
				t.Fatal(err)
			}
			f, err := fs.OpenFile(name, os.O_CREATE|os.O_RDWR)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Write(data); err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	d.Close()
	if mbr != nil {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(mbr, 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

// TestJudgeDiskImages: the judge reads the boot code of each member from
// its raw image and tells current, stale and empty apart, with no loader
// or no file system on an ESP said so.
func TestJudgeDiskImages(t *testing.T) {
	dir := t.TempDir()
	ref := BootFiles{PMBR: bytes.Repeat([]byte("pmbr14.3"), 40), GPTZFSBoot: bytes.Repeat([]byte("gptzfsboot-15.0 "), 4000), Loader: bytes.Repeat([]byte("loader.efi-15.0 "), 3000)}
	old := BootFiles{PMBR: ref.PMBR, GPTZFSBoot: bytes.Repeat([]byte("gptzfsboot-14.3 "), 3900), Loader: bytes.Repeat([]byte("loader.efi-14.3 "), 2900)}
	images := map[string]string{
		"ada0": filepath.Join(dir, "ada0.img"), "ada1": filepath.Join(dir, "ada1.img"),
		"ada2": filepath.Join(dir, "ada2.img"), "ada3": filepath.Join(dir, "ada3.img"),
	}
	memberImage(t, images["ada0"], ref.PMBR, ref.GPTZFSBoot, map[string][]byte{"/EFI/BOOT/BOOTX64.EFI": ref.Loader, "/EFI/FREEBSD/LOADER.EFI": ref.Loader})
	memberImage(t, images["ada1"], ref.PMBR, old.GPTZFSBoot, map[string][]byte{"/EFI/BOOT/BOOTX64.EFI": old.Loader})
	memberImage(t, images["ada2"], nil, nil, map[string][]byte{"/EFI/OTHER/X.EFI": []byte("x")})
	memberImage(t, images["ada3"], ref.PMBR, ref.GPTZFSBoot, nil)
	got, err := JudgeDiskImages(images, ref)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"ada0 pmbr current", "ada0p1:efi/boot/bootx64.efi current", "ada0p1:efi/freebsd/loader.efi current", "ada0p2 current",
		"ada1 pmbr current", "ada1p1:efi/boot/bootx64.efi stale", "ada1p2 stale",
		"ada2 pmbr empty", "ada2p1 no loader", "ada2p2 empty",
		"ada3 pmbr current", "ada3p1 no file system", "ada3p2 current",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JudgeDiskImages:\n got %q\nwant %q", got, want)
	}
	e := Expect{BootCodeEveryMember: true}
	bad := e.Check(&Outcome{BootCode: got}, 0)
	for _, line := range []string{"boot code: ada1p2 stale", "boot code: ada2p1 no loader", "boot code: ada3p1 no file system"} {
		found := false
		for _, b := range bad {
			found = found || b == line
		}
		if !found {
			t.Errorf("Check does not fail on %q: %v", line, bad)
		}
	}
	if _, err := JudgeDiskImages(map[string]string{"ada9": filepath.Join(dir, "none.img")}, ref); err == nil {
		t.Error("a missing image is judged")
	}
}
