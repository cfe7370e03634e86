// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/partition/gpt"
)

// The GPT partition types the judge reads (gpart's freebsd-boot and efi).
const (
	gptFreeBSDBoot = "83BD6B9D-7F41-11DC-BE0B-001560B84F0F"
	gptEFI         = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
)

// BootFiles are the running system's boot programs, the reference the
// disks are judged against: /boot/pmbr, /boot/gptzfsboot and
// /boot/loader.efi. A nil one is not judged.
type BootFiles struct {
	PMBR, GPTZFSBoot, Loader []byte
}

// espLoaders are the ESP files that must hold the loader: the removable
// media path the firmware falls back to and FreeBSD's own entry's.
var espLoaders = []string{"efi/boot/bootx64.efi", "efi/freebsd/loader.efi"}

// JudgeDiskImages reads each member's raw disk image (name -> file) and
// says what its boot code holds, compared with ref, in the words of
// Outcome.BootCode: "ada0 pmbr current", "ada0p1 current",
// "ada0p2:efi/boot/bootx64.efi stale", "ada1p1 empty", "ada0p2 no loader".
// It reads the images only: the GPT, the freebsd-boot partitions' bytes
// and the ESPs' FAT file systems.
func JudgeDiskImages(images map[string]string, ref BootFiles) ([]string, error) {
	var out []string
	for name, path := range images {
		lines, err := judgeImage(name, path, ref)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", name, path, err)
		}
		out = append(out, lines...)
	}
	sort.Strings(out)
	return out, nil
}

func judgeImage(name, path string, ref BootFiles) ([]string, error) {
	d, err := diskfs.Open(path, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var out []string
	if ref.PMBR != nil {
		// The MBR's boot code is its first 446 bytes (the partition
		// table and signature follow).
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		mbr := make([]byte, 446)
		_, err = io.ReadFull(f, mbr)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the MBR: %w", err)
		}
		want := ref.PMBR[:min(len(ref.PMBR), 446)]
		out = append(out, name+" pmbr "+same(mbr, want))
	}
	table, err := d.GetPartitionTable()
	if err != nil {
		return nil, fmt.Errorf("no partition table: %w", err)
	}
	gt, ok := table.(*gpt.Table)
	if !ok {
		return nil, fmt.Errorf("the partition table is %s, not GPT", table.Type())
	}
	for i, p := range gt.Partitions {
		if p == nil || p.Type == gpt.Unused {
			continue
		}
		index := i + 1
		part := fmt.Sprintf("%sp%d", name, index)
		switch strings.ToUpper(string(p.Type)) {
		case gptFreeBSDBoot:
			if ref.GPTZFSBoot == nil {
				continue
			}
			var b bytes.Buffer
			if _, err := d.ReadPartitionContents(index, &b); err != nil {
				return nil, fmt.Errorf("%s: %w", part, err)
			}
			out = append(out, part+" "+same(b.Bytes(), ref.GPTZFSBoot))
		case gptEFI:
			if ref.Loader == nil {
				continue
			}
			fs, err := d.GetFilesystem(index)
			if err != nil {
				// An ESP without a file system holds no loader (an
				// unformatted one is not zupgrade's to fill).
				out = append(out, part+" no file system")
				continue
			}
			n := 0
			for _, lp := range espLoaders {
				data, err := fs.ReadFile(lp)
				if err != nil {
					data, err = fs.ReadFile(strings.ToUpper(lp))
				}
				if err != nil {
					continue
				}
				out = append(out, part+":"+lp+" "+same(data, ref.Loader))
				n++
			}
			if n == 0 {
				out = append(out, part+" no loader")
			}
		}
	}
	return out, nil
}
