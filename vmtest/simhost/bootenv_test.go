// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBootenvXDR: the bootenv nvlist libzfsbootenv hands the kernel,
// packed as nvpair.c's XDR encoder packs it: the header, each pair's
// encode and decode sizes, name, type, one element and value, and the
// two zero words at the end; it reads back the same, and a pair of a
// type simhost does not interpret survives a round trip as it was.
func TestBootenvXDR(t *testing.T) {
	l := nvList{
		{Name: bootenvKeyVer, Type: nvTypeUint64, U64: bootenvNVList},
		{Name: bootenvBootonce, Type: nvTypeString, Str: "zfs:zroot/ROOT/next:"},
	}
	got := l.packXDR()
	var want bytes.Buffer
	w := func(v ...uint32) {
		for _, x := range v {
			binary.Write(&want, binary.BigEndian, x)
		}
	}
	want.Write([]byte{1, 1, 0, 0})
	w(0, 1)
	// "version": 4+4+4+8+4+4 and a hyper; native 16+8 then 8.
	w(36, 32, 7)
	want.WriteString("version\x00")
	w(nvTypeUint64, 1, 0, 1)
	// "freebsd:bootonce" (16) = "zfs:zroot/ROOT/next:" (20): 4+4+4+16+4+4
	// + 4+20; native align8(16+17)=40 + align8(21)=24.
	w(60, 64, 16)
	want.WriteString("freebsd:bootonce")
	w(nvTypeString, 1, 20)
	want.WriteString("zfs:zroot/ROOT/next:")
	w(0, 0)
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("packed:\n% x\nwant:\n% x", got, want.Bytes())
	}
	back, err := unpackXDR(append(got, make([]byte, 64)...))
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != 2 || back[0].U64 != 1 || back[1].Str != "zfs:zroot/ROOT/next:" {
		t.Fatalf("unpacked %+v", back)
	}

	// A boolean_value (type 21) pair: a 4-byte XDR value, native 32.
	other := append(bytes.Clone(got[:len(got)-8]), 0, 0, 0, 28, 0, 0, 0, 32, 0, 0, 0, 4, 'f', 'l', 'a', 'g', 0, 0, 0, 21, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0)
	l2, err := unpackXDR(other)
	if err != nil {
		t.Fatal(err)
	}
	if len(l2) != 3 || l2[2].Name != "flag" || !bytes.Equal(l2.packXDR(), other) {
		t.Errorf("a pair of another type did not survive: %+v", l2)
	}
	if _, err := unpackXDR(got[:len(got)-12]); err == nil {
		t.Error("a truncated nvlist unpacked")
	}
}

// bootenvDisk makes a leaf vdev's device file of size bytes whose four
// labels have a vdev_phys with a good checksum and the empty VB_RAW
// bootenv zpool create leaves (module/zfs/vdev_label.c vdev_label_init
// writes a zeroed block).
func bootenvDisk(t *testing.T, path string, size int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	psize := size &^ (vdevLabelSize - 1)
	for l := 0; l < vdevLabels; l++ {
		vp := make([]byte, vdevPhysSize)
		off := labelOffset(psize, l, vdevPhysOff)
		sealLabel(vp, off)
		be := make([]byte, vdevPadSize)
		boff := labelOffset(psize, l, vdevBootenvOff)
		sealLabel(be, boff)
		if _, err := f.WriteAt(vp, off); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(be, boff); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBootenvLabels: the bootenv block is found in the first label whose
// checksum holds; the checksum binds a block to its place (a label 0
// block copied into label 1's place does not read there); labels at the
// end are where the device's size, rounded down to whole labels, puts
// them; a write skips the labels whose vdev_phys is bad.
func TestBootenvLabels(t *testing.T) {
	dev := filepath.Join(t.TempDir(), "ada0p4")
	size := int64(64<<20 + 100<<10)
	bootenvDisk(t, dev, size)
	env, err := readLeafBootenv(dev)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := env.get(bootenvBootonce); ok {
		t.Fatalf("a new pool's bootenv has a bootonce: %+v", env)
	}
	block, err := encodeBootenv(nvList{{Name: bootenvKeyVer, Type: nvTypeUint64, U64: 1}, {Name: bootenvBootonce, Type: nvTypeString, Str: "zfs:zroot/ROOT/b:"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := writeLeafBootenv(dev, block); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	psize := size &^ (vdevLabelSize - 1)
	readBlock := func(l int) []byte {
		b := make([]byte, vdevPadSize)
		f.ReadAt(b, labelOffset(psize, l, vdevBootenvOff))
		return b
	}
	for l := 0; l < vdevLabels; l++ {
		if err := checkLabel(readBlock(l), labelOffset(psize, l, vdevBootenvOff)); err != nil {
			t.Errorf("label %d after the write: %v", l, err)
		}
	}
	// Label 0 damaged, label 1 given label 0's block: label 2 is read.
	l0 := readBlock(0)
	f.WriteAt(l0, labelOffset(psize, 1, vdevBootenvOff))
	f.WriteAt([]byte("garbage"), labelOffset(psize, 0, vdevBootenvOff)+100)
	if err := checkLabel(readBlock(1), labelOffset(psize, 1, vdevBootenvOff)); err == nil {
		t.Error("label 0's block read good in label 1's place")
	}
	env, err = readLeafBootenv(dev)
	if err != nil {
		t.Fatal(err)
	}
	if once, _ := env.get(bootenvBootonce); once.Str != "zfs:zroot/ROOT/b:" {
		t.Errorf("read %+v from labels 2 and 3, want the bootonce", env)
	}
	// Labels 2 and 3 damaged too: nothing reads.
	f.WriteAt([]byte("garbage"), labelOffset(psize, 2, vdevBootenvOff)+100)
	f.WriteAt([]byte("garbage"), labelOffset(psize, 3, vdevBootenvOff)+100)
	if env, err := readLeafBootenv(dev); err == nil {
		t.Errorf("a leaf whose four bootenv blocks are bad read as %+v", env)
	}
	// vdev_phys of label 0 bad: the write leaves that label alone and
	// says so, the others are written.
	f.WriteAt([]byte("garbage"), labelOffset(psize, 0, vdevPhysOff)+100)
	err = writeLeafBootenv(dev, block)
	if err == nil || !strings.Contains(err.Error(), "label 0") || strings.Contains(err.Error(), "label 1") {
		t.Errorf("writing past a bad vdev_phys in label 0: %v", err)
	}
	if checkLabel(readBlock(0), labelOffset(psize, 0, vdevBootenvOff)) == nil {
		t.Error("label 0 was written although its vdev_phys is bad")
	}
	if env, err := readLeafBootenv(dev); err != nil || len(env) != 2 {
		t.Errorf("after the write: %+v, %v", env, err)
	}
}

// TestBootenvLegacyAndRaw: what the loader makes of the other versions
// of the block: a zfsbootcfg command string at its start is the
// bootonce, a GRUB text environment has none.
func TestBootenvLegacyAndRaw(t *testing.T) {
	b := make([]byte, vdevPadSize)
	copy(b, "zfs:zroot/ROOT/old:")
	env, _ := decodeBootenv(b)
	if once, _ := env.get(bootenvBootonce); once.Str != "zfs:zroot/ROOT/old:" {
		t.Errorf("legacy command: %+v", env)
	}
	b = make([]byte, vdevPadSize)
	copy(b[8:], "# GRUB Environment Block\n")
	env, _ = decodeBootenv(b)
	if _, ok := env.get(bootenvBootonce); ok {
		t.Errorf("GRUB text: %+v", env)
	}
	for v, want := range map[string]string{"zfs:zroot/ROOT/a:": "zroot/ROOT/a", "zroot/ROOT/a": "", "zfs:zroot:": "", "zfs:zroot/ROOT/a": ""} {
		if got := bootonceDataset(v); got != want {
			t.Errorf("bootonceDataset(%q) = %q, want %q", v, got, want)
		}
	}
}

// TestTakeBootonceFromRealLabels: with real OpenZFS on real disks, the
// boot takes the one-time boot environment from the labels, not the
// model: the first member present is read, the bootonce is removed from
// every member present (a missing one keeps its labels as they were),
// the other keys stay; bectl list's T follows the labels; an invalid
// value is said and ignored.
func TestTakeBootonceFromRealLabels(t *testing.T) {
	tm, devDir := realLabelsMachine(t)
	model := tm.model()
	pool := model.pool("zroot")
	devs := bootenvLeaves(model, pool, devDir)
	if len(devs) != 2 {
		t.Fatalf("leaves %v", devs)
	}
	env := nvList{
		{Name: "freebsd:nvstore", Type: nvTypeString, Str: "kept"},
		{Name: bootenvKeyVer, Type: nvTypeUint64, U64: bootenvNVList},
		{Name: bootenvBootonce, Type: nvTypeString, Str: "zfs:zroot/ROOT/next:"},
	}
	writeBootenvLabels(t, devs, env)
	if model.pool("zroot").NextBoot != "" {
		t.Fatal("the model has a one-time activation")
	}
	if out := tm.must("bectl", "list", "-H"); !strings.Contains(out, "next\tT") {
		t.Errorf("bectl list does not show the labels' one-time activation:\n%s", out)
	}

	take := func() (string, *BootReport) {
		t.Helper()
		rep := &BootReport{}
		var be string
		err := tm.Update(func(model *Model) error {
			var err error
			be, err = tm.takeBootonce(model, model.pool("zroot"), rep)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return be, rep
	}
	// ada0 gone: ada1's labels decide and are cleared, ada0's stay.
	tm.Update(func(model *Model) error { model.disk("ada0").Missing = true; return nil })
	if be, rep := take(); be != "zroot/ROOT/next" {
		t.Fatalf("took %q, want zroot/ROOT/next; console %v", be, rep.Console)
	}
	after, err := readLeafBootenv(devs[1])
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := after.get(bootenvBootonce); ok {
		t.Errorf("the bootonce is still on %s: %+v", devs[1], after)
	}
	if kept, _ := after.get("freebsd:nvstore"); kept.Str != "kept" {
		t.Errorf("the other keys went: %+v", after)
	}
	if still, _ := readLeafBootenv(devs[0]); len(still) != 3 {
		t.Errorf("the missing member's labels changed: %+v", still)
	}
	if be, _ := take(); be != "" {
		t.Errorf("a second boot took %q again", be)
	}
	if out := tm.must("bectl", "list", "-H"); strings.Contains(out, "T\t") {
		t.Errorf("bectl list shows a one-time activation after it was used:\n%s", out)
	}

	// An invalid value: said, ignored, and gone all the same.
	block, _ := encodeBootenv(nvList{{Name: bootenvKeyVer, Type: nvTypeUint64, U64: 1}, {Name: bootenvBootonce, Type: nvTypeString, Str: "zroot/ROOT/next"}})
	writeLeafBootenv(devs[1], block)
	if be, rep := take(); be != "" || !strings.Contains(strings.Join(rep.Console, "\n"), "INVALID zfs bootonce: zroot/ROOT/next") {
		t.Errorf("an invalid bootonce: took %q, console %v", be, rep.Console)
	}
	if after, _ := readLeafBootenv(devs[1]); len(after) != 1 {
		t.Errorf("the invalid bootonce stayed: %+v", after)
	}
}

// TestPermanentActivateKeepsBootonce: bectl activate NAME (permanent)
// sets the pool's bootfs and leaves a pending one-time activation alone
// (lib/libbe/be.c be_activate: only a temporary activation goes through
// lzbe_set_boot_device), so the next boot is still the one-time one and
// the boot after it NAME; bectl activate -T is what removes it.
func TestPermanentActivateKeepsBootonce(t *testing.T) {
	tm := newMachine(t, Spec{Preset: "bios", Release: "14.2-RELEASE"})
	tm.must("bectl", "create", "-r", "next")
	tm.must("bectl", "create", "-r", "other")
	tm.must("bectl", "activate", "-t", "next")
	tm.must("bectl", "activate", "other")
	if list := tm.must("bectl", "list", "-H"); !strings.Contains(list, "next\tT\t") || !strings.Contains(list, "other\tR\t") {
		t.Fatalf("bectl list -H after activate -t next and activate other:\n%s", list)
	}
	tm.must("shutdown", "-r", "now")
	if rep := tm.mustBoot(BootOptions{NoHooks: true}); rep.BE != "zroot/ROOT/next" {
		t.Fatalf("booted %s, want the one-time zroot/ROOT/next", rep.BE)
	}
	tm.must("shutdown", "-r", "now")
	if rep := tm.mustBoot(BootOptions{NoHooks: true}); rep.BE != "zroot/ROOT/other" {
		t.Fatalf("the boot after the one-time one booted %s, want the bootfs zroot/ROOT/other", rep.BE)
	}

	tm.must("bectl", "activate", "-t", "next")
	tm.must("bectl", "activate", "-T")
	tm.must("bectl", "activate", "default")
	tm.must("shutdown", "-r", "now")
	if rep := tm.mustBoot(BootOptions{NoHooks: true}); rep.BE != "zroot/ROOT/default" {
		t.Fatalf("after activate -T and activate default: booted %s", rep.BE)
	}
}

// TestPermanentActivateKeepsRealBootonce: with real OpenZFS on real
// disks, a permanent bectl activate leaves the bootonce in the pool
// labels' bootenv as it found it (be_activate does not call
// lzbe_set_boot_device then), and bectl list still shows it.
func TestPermanentActivateKeepsRealBootonce(t *testing.T) {
	tm, devDir := realLabelsMachine(t)
	tm.must("bectl", "create", "-r", "other")
	model := tm.model()
	devs := bootenvLeaves(model, model.pool("zroot"), devDir)
	writeBootenvLabels(t, devs, nvList{
		{Name: bootenvKeyVer, Type: nvTypeUint64, U64: bootenvNVList},
		{Name: bootenvBootonce, Type: nvTypeString, Str: "zfs:zroot/ROOT/next:"},
	})
	tm.must("bectl", "activate", "other")
	for _, d := range devs {
		env, err := readLeafBootenv(d)
		if err != nil {
			t.Fatal(err)
		}
		if once, _ := env.get(bootenvBootonce); once.Str != "zfs:zroot/ROOT/next:" {
			t.Errorf("%s's bootenv after a permanent activate: %+v, want the bootonce kept", d, env)
		}
	}
	if list := tm.must("bectl", "list", "-H"); !strings.Contains(list, "next\tT\t") || !strings.Contains(list, "other\tR\t") {
		t.Errorf("bectl list -H after a permanent activate:\n%s", list)
	}
}

// realLabelsMachine makes a BIOS+UEFI mirror on real disks under the test's
// stand-in for real OpenZFS, with a boot environment "next" beside the
// running one, and returns it with the directory of its device files.
func realLabelsMachine(t *testing.T) (*testMachine, string) {
	t.Helper()
	tm := newMachine(t, Spec{Preset: "bios+uefi", Release: "14.2-RELEASE", Disks: 2})
	if err := tm.UseRealZFS(fakeRealZFS(t)); err != nil {
		t.Fatal(err)
	}
	devDir := t.TempDir()
	if err := tm.UseRealDisks(devDir); err != nil {
		t.Fatal(err)
	}
	tm.must("bectl", "create", "-r", "next")
	return tm, devDir
}

// writeBootenvLabels writes env as the bootenv block of every leaf's
// labels, each leaf a disk file of 64 MiB.
func writeBootenvLabels(t *testing.T, devs []string, env nvList) {
	t.Helper()
	block, err := encodeBootenv(env)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range devs {
		bootenvDisk(t, d, 64<<20)
		if err := writeLeafBootenv(d, block); err != nil {
			t.Fatal(err)
		}
	}
}
