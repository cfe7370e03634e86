// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"strings"
	"testing"

	"github.com/zupgrade/zupgrade/facts"
)

// TestEntryCheck: BootCurrent on an ESP the plan writes is fine, on a
// partition zupgrade cannot see it blocks (that loader cannot be updated
// before the pool upgrade), a FreeBSD entry of BootOrder there warns, and an
// unreferenced entry that is BootCurrent still counts.
func TestEntryCheck(t *testing.T) {
	disks := []facts.Disk{{Name: "ada0", ESPs: []facts.ESP{{Partition: facts.Partition{Name: "ada0p1", RawUUID: "aaaa"}, Format: "fat"}}}}
	base := func(entries ...facts.EFIEntry) *facts.Facts {
		f := &facts.Facts{BootMethod: "UEFI", Machine: "amd64", EFI: &facts.EFI{BootCurrent: "0001"}}
		for _, e := range entries {
			if !e.Unreferenced {
				f.EFI.BootOrder = append(f.EFI.BootOrder, e.Number)
			}
			f.EFI.Entries = append(f.EFI.Entries, e)
		}
		return f
	}
	tests := []struct {
		name    string
		f       *facts.Facts
		verdict Verdict
		reason  string
	}{
		{"current on a pool ESP", base(facts.EFIEntry{Number: "0001", Label: "FreeBSD", Current: true, Device: "ada0p1", Path: "/efi/freebsd/loader.efi", PartitionGUID: "aaaa"}), OK, "BootCurrent Boot0001"},
		{"current elsewhere", base(facts.EFIEntry{Number: "0001", Label: "FreeBSD usb", Current: true, PartitionGUID: "ffff"}), Block, "on no disk zupgrade sees"},
		{"unreferenced current elsewhere", base(facts.EFIEntry{Number: "0001", Label: "FreeBSD usb", Current: true, Unreferenced: true, PartitionGUID: "ffff"}), Block, "Boot0001"},
		{"FreeBSD entry elsewhere", base(
			facts.EFIEntry{Number: "0001", Label: "FreeBSD", Current: true, Device: "ada0p1", Path: "/efi/freebsd/loader.efi", PartitionGUID: "aaaa"},
			facts.EFIEntry{Number: "0002", Label: "FreeBSD old disk", PartitionGUID: "bbbb"}), Warn, "Boot0002"},
		{"current is a whole device", base(facts.EFIEntry{Number: "0001", Label: "EFI VMware Virtual NVME Namespace (NSID 1)", Current: true}), OK, "names a whole device"},
		{"no entry is current", base(facts.EFIEntry{Number: "0002", Label: "FreeBSD", Device: "ada0p1", Path: "/efi/freebsd/loader.efi", PartitionGUID: "aaaa"}), Warn, "names no boot entry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := entryCheck(tt.f, disks)
			if !ok || c.Verdict != tt.verdict || !strings.Contains(c.Reason, tt.reason) {
				t.Errorf("got %v %+v, want %s with %q", ok, c, tt.verdict, tt.reason)
			}
			if c.Verdict != OK && c.Fix == "" {
				t.Errorf("no fix: %+v", c)
			}
		})
	}
}

// TestESPCopies: the files kept current on an ESP, by where it is.
func TestESPCopies(t *testing.T) {
	f := &facts.Facts{Machine: "amd64", EFI: &facts.EFI{BootOrder: []string{"0001"}, Entries: []facts.EFIEntry{
		{Number: "0001", Device: "ada0p1", Path: "/EFI/Custom/Loader.efi"},
	}}}
	e := facts.ESP{Partition: facts.Partition{Name: "ada0p1", Size: 260 << 20}}
	legacy := facts.ESP{Partition: facts.Partition{Name: "ada0p1", Size: 800 << 10}}
	str := func(cs []espCopy) string {
		var out []string
		for _, c := range cs {
			s := c.src + ">" + c.path
			if c.create {
				s += "+"
			}
			out = append(out, s)
		}
		return strings.Join(out, " ")
	}
	for _, tt := range []struct {
		name string
		e    facts.ESP
		pool bool
		want string
	}{
		{"pool disk", e, true, "/boot/loader.efi>efi/freebsd/loader.efi+ /boot/loader.efi>efi/boot/bootx64.efi+ /boot/loader.efi>EFI/Custom/Loader.efi /boot/boot1.efi>EFI/Custom/Loader.efi"},
		{"legacy", legacy, true, "/boot/boot1.efi>efi/boot/bootx64.efi /boot/boot1.efi>EFI/Custom/Loader.efi"},
		{"other disk", e, false, "/boot/loader.efi>efi/freebsd/loader.efi /boot/boot1.efi>efi/freebsd/loader.efi /boot/loader.efi>efi/boot/bootx64.efi /boot/boot1.efi>efi/boot/bootx64.efi /boot/loader.efi>EFI/Custom/Loader.efi /boot/boot1.efi>EFI/Custom/Loader.efi"},
	} {
		if got := str(espCopies(f, tt.e, tt.pool)); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

// TestWithFailok adds failok to the options of an fstab line.
func TestWithFailok(t *testing.T) {
	if got := withFailok("/dev/gpt/efiboot0\t/boot/efi\tmsdosfs\trw\t\t2\t2"); got != "/dev/gpt/efiboot0\t/boot/efi\tmsdosfs\trw,failok\t2\t2" {
		t.Errorf("withFailok = %q", got)
	}
}

// TestOtherESPs keeps only the FAT ESPs of disks outside the pool.
func TestOtherESPs(t *testing.T) {
	f := &facts.Facts{OtherDisks: []facts.Disk{
		{Name: "da0", ESPs: []facts.ESP{{Partition: facts.Partition{Name: "da0p1"}, Format: "fat"}, {Partition: facts.Partition{Name: "da0p2"}, Format: "unknown"}}},
		{Name: "da1", ESPs: []facts.ESP{{Partition: facts.Partition{Name: "da1p1"}, Format: "empty"}}},
	}}
	got := otherESPs(f)
	if len(got) != 1 || got[0].Name != "da0" || len(got[0].ESPs) != 1 || got[0].ESPs[0].Name != "da0p1" {
		t.Errorf("otherESPs = %+v, want da0 with da0p1 only", got)
	}
}
