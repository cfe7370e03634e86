// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"strings"
	"unicode/utf16"
)

// gptTable is a disk's GPT as gpart list and gpart show print it: the
// usable sectors (sys/sys/disk/gpt.h struct gpt_hdr: hdr_lba_start,
// hdr_lba_end), the number of entries (hdr_entries), the disk's size in
// sectors, and the partitions in use.
type gptTable struct {
	first, last, sectors int64
	entries              int
	parts                []*Partition
}

// modelGPT is the model's view of a disk's GPT.
func modelGPT(d *Disk) gptTable {
	return gptTable{first: d.First, last: d.Last(), sectors: d.Sectors, entries: 128, parts: d.Partitions}
}

// gptUUID formats a GPT GUID as gpart prints it: the first three fields
// are stored little-endian (sys/sys/disk/gpt.h gpt_uuid_t, struct uuid;
// sys/kern/kern_uuid.c le_uuid_dec).
func gptUUID(b []byte) string {
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x", binary.LittleEndian.Uint32(b[0:4]), binary.LittleEndian.Uint16(b[4:6]), binary.LittleEndian.Uint16(b[6:8]), b[8:10], b[10:16])
}

// gptTypeName is the gpart name of a partition type GUID; a type gpart
// has no alias for prints as "!" and the GUID
// (sys/geom/part/g_part_gpt.c g_part_gpt_type).
func gptTypeName(raw string) string {
	for name, u := range rawTypes {
		if u == raw {
			return name
		}
	}
	return "!" + raw
}

// readGPT reads the primary GPT of the disk at path, as the kernel's GEOM
// class does (sys/geom/part/g_part_gpt.c gpt_read_hdr and gpt_read_tbl):
// the header at LBA 1 with signature "EFI PART", its CRC32 over hdr_size
// bytes with hdr_crc_self zeroed, then hdr_entries entries of hdr_entsz
// bytes from hdr_lba_table, checked against hdr_crc_table. An entry is in
// use when its type is not all zeros; its index is its slot plus one, and
// its label the UTF-16LE name up to the first NUL (struct gpt_ent).
func readGPT(path string) (gptTable, error) {
	const sector = 512
	f, err := os.Open(path)
	if err != nil {
		return gptTable{}, err
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return gptTable{}, err
	}
	hdr := make([]byte, sector)
	if _, err := f.ReadAt(hdr, sector); err != nil {
		return gptTable{}, fmt.Errorf("%s: reading the GPT header: %w", path, err)
	}
	le := binary.LittleEndian
	hsize := le.Uint32(hdr[12:16])
	if !bytes.Equal(hdr[0:8], []byte("EFI PART")) || hsize < 92 || hsize > sector {
		return gptTable{}, fmt.Errorf("%s: no GPT header at LBA 1", path)
	}
	check := append([]byte(nil), hdr[:hsize]...)
	copy(check[16:20], []byte{0, 0, 0, 0})
	if crc32.ChecksumIEEE(check) != le.Uint32(hdr[16:20]) {
		return gptTable{}, fmt.Errorf("%s: the GPT header's CRC32 does not match", path)
	}
	t := gptTable{
		first:   int64(le.Uint64(hdr[40:48])),
		last:    int64(le.Uint64(hdr[48:56])),
		sectors: size / sector,
		entries: int(le.Uint32(hdr[80:84])),
	}
	table, entsz := int64(le.Uint64(hdr[72:80])), int(le.Uint32(hdr[84:88]))
	if entsz < 128 || t.entries <= 0 || t.entries*entsz > 1<<20 {
		return gptTable{}, fmt.Errorf("%s: GPT of %d entries of %d bytes", path, t.entries, entsz)
	}
	ents := make([]byte, t.entries*entsz)
	if _, err := f.ReadAt(ents, table*sector); err != nil {
		return gptTable{}, fmt.Errorf("%s: reading the GPT entries: %w", path, err)
	}
	if crc32.ChecksumIEEE(ents) != le.Uint32(hdr[88:92]) {
		return gptTable{}, fmt.Errorf("%s: the GPT entries' CRC32 does not match", path)
	}
	for i := 0; i < t.entries; i++ {
		e := ents[i*entsz : (i+1)*entsz]
		if len(bytes.Trim(e[0:16], "\x00")) == 0 {
			continue
		}
		name := make([]uint16, 36)
		for j := range name {
			name[j] = le.Uint16(e[56+2*j:])
		}
		if n := indexUint16(name, 0); n >= 0 {
			name = name[:n]
		}
		start, end := int64(le.Uint64(e[32:40])), int64(le.Uint64(e[40:48]))
		if end < start {
			return gptTable{}, errors.New(path + ": a GPT entry ends before it starts")
		}
		t.parts = append(t.parts, &Partition{Index: i + 1, Type: gptTypeName(gptUUID(e[0:16])), RawUUID: gptUUID(e[16:32]),
			Label: string(utf16.Decode(name)), Start: start, Size: end - start + 1})
	}
	return t, nil
}

// ReadGPT reads the partitions of the primary GPT of the disk image at
// path as gpart reads them (readGPT: the header's and the entries' CRC32s
// checked), for tests that lay out real disks: each partition's index,
// gpart type, label, unique GUID, first sector and size in sectors.
func ReadGPT(path string) ([]*Partition, error) {
	t, err := readGPT(path)
	return t.parts, err
}

// indexUint16 is the index of the first v in s, -1 when none.
func indexUint16(s []uint16, v uint16) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// gpt is the GPT gpart reads for disk d: the real disk's when the
// machine has real disks, else the model's.
func (inv *Invocation) gpt(d *Disk) (gptTable, error) {
	dir := inv.m.realDisks()
	if dir == "" {
		return modelGPT(d), nil
	}
	return readGPT(dir + "/" + d.Name)
}

// rawType is the GUID of a partition type named as gpart names it
// (rawTypes, or "!" and the GUID for a type without an alias).
func rawType(name string) string {
	if u, ok := rawTypes[name]; ok {
		return u
	}
	return strings.TrimPrefix(name, "!")
}
