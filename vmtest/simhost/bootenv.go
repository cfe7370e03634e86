// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"strings"
)

// The bootenv area of a pool's vdev labels, where bectl activate -t
// leaves the one-time boot environment and the loader takes it from.
// Each leaf vdev has four 256 KiB labels, two at the start and two at
// the end of the device (module/zfs/vdev_label.c vdev_label_offset); in
// each, the 8 KiB after the first 8 KiB is the bootenv block
// (include/sys/vdev_impl.h vdev_label_t vl_be, vdev_boot_envblock_t):
// a big-endian version (vdev_label_write_bootenv: htonll), the packed
// environment, and an embedded label checksum (zio_eck_t). Version
// VB_NVLIST holds an XDR-packed nvlist (NV_ENCODE_XDR) whose
// "freebsd:bootonce" is "zfs:POOL/ROOT/BE:" (lib/libzfsbootenv/
// lzbe_device.c lzbe_set_boot_device; include/sys/fs/zfs.h keys).
const (
	vdevLabelSize   = 256 << 10 // sizeof (vdev_label_t)
	vdevPadSize     = 8 << 10   // VDEV_PAD_SIZE
	vdevBootenvOff  = vdevPadSize
	vdevPhysOff     = 2 * vdevPadSize // offsetof (vdev_label_t, vl_vdev_phys)
	vdevPhysSize    = 112 << 10       // VDEV_PHYS_SIZE
	vdevLabels      = 4               // VDEV_LABELS
	zecMagic        = 0x210da7ab10c7a11
	zioEckSize      = 40 // sizeof (zio_eck_t): magic and a 256-bit checksum
	bootenvRaw      = 0  // VB_RAW: GRUB's text environment
	bootenvNVList   = 1  // VB_NVLIST
	bootenvKeyVer   = "version"
	bootenvBootonce = "freebsd:bootonce"
)

// nvlist data types (include/sys/nvpair.h data_type_t) simhost reads.
const (
	nvTypeUint64 = 8
	nvTypeString = 9
)

// nvPair is one pair of an nvlist. A type other than uint64 and string
// keeps its XDR value as it was read, with the sizes the stream gave it.
type nvPair struct {
	Name string
	Type uint32
	U64  uint64
	Str  string
	raw  []byte
	dec  int32
}

// nvList is an nvlist with unique names, its pairs in order.
type nvList []nvPair

// get returns the pair called name.
func (l nvList) get(name string) (nvPair, bool) {
	for _, p := range l {
		if p.Name == name {
			return p, true
		}
	}
	return nvPair{}, false
}

// without returns the list less the pair called name.
func (l nvList) without(name string) nvList {
	var out nvList
	for _, p := range l {
		if p.Name != name {
			out = append(out, p)
		}
	}
	return out
}

// with sets a pair: as nvlist_add_* with NV_UNIQUE_NAME, an old pair of
// that name goes and the new one is added at the end
// (module/nvpair/nvpair.c nvlist_add_common, nvlist_remove_all).
func (l nvList) with(p nvPair) nvList { return append(l.without(p.Name), p) }

// align4 is NV_ALIGN4: n rounded up to a multiple of 4.
func align4(n int) int { return (n + 3) &^ 3 }

// align8 is NV_ALIGN: n rounded up to a multiple of 8.
func align8(n int) int { return (n + 7) &^ 7 }

// sizes returns a pair's XDR size and the size of its native nvpair_t
// (nvpair.c nvs_xdr_nvp_size; NVP_SIZE_CALC: a 16-byte nvpair_t, the
// name with its NUL, the value, each 8-aligned), which the XDR stream
// carries as encode_size and decode_size.
func (p nvPair) sizes() (enc, dec int32) {
	e := 4 + 4 + 4 + align4(len(p.Name)) + 4 + 4
	switch p.Type {
	case nvTypeUint64:
		return int32(e + 8), int32(align8(16+len(p.Name)+1) + 8)
	case nvTypeString:
		return int32(e + 4 + align4(len(p.Str))), int32(align8(16+len(p.Name)+1) + align8(len(p.Str)+1))
	}
	return int32(e + len(p.raw)), p.dec
}

// packXDR packs the list as nvlist_pack with NV_ENCODE_XDR does: the
// nvs_header_t (encoding, the host's byte order, two reserved bytes),
// the list's version and NV_UNIQUE_NAME flag, each pair (encode_size,
// decode_size, name, type, nelem, value: nvs_xdr_nvpair, nvs_xdr_nvp_op)
// and two zero words at the end (nvs_xdr_nvl_fini).
func (l nvList) packXDR() []byte {
	var b bytes.Buffer
	b.Write([]byte{1, 1, 0, 0})
	u32 := func(v uint32) { binary.Write(&b, binary.BigEndian, v) }
	str := func(s string) {
		u32(uint32(len(s)))
		b.WriteString(s)
		b.Write(make([]byte, align4(len(s))-len(s)))
	}
	u32(0)
	u32(1)
	for _, p := range l {
		enc, dec := p.sizes()
		u32(uint32(enc))
		u32(uint32(dec))
		str(p.Name)
		u32(p.Type)
		u32(1)
		switch p.Type {
		case nvTypeUint64:
			binary.Write(&b, binary.BigEndian, p.U64)
		case nvTypeString:
			str(p.Str)
		default:
			b.Write(p.raw)
		}
	}
	u32(0)
	u32(0)
	return b.Bytes()
}

// unpackXDR reads an XDR-packed nvlist (the loader's nvlist_import,
// stand/libsa/nvlist.c: each pair found by its encode_size, the end at a
// pair whose two sizes are zero).
func unpackXDR(data []byte) (nvList, error) {
	if len(data) < 12 || data[0] != 1 {
		return nil, fmt.Errorf("not an XDR nvlist")
	}
	at := 12
	u32 := func(i int) (uint32, error) {
		if i < 0 || i+4 > len(data) {
			return 0, fmt.Errorf("nvlist truncated")
		}
		return binary.BigEndian.Uint32(data[i:]), nil
	}
	var l nvList
	for {
		enc, err := u32(at)
		if err != nil {
			return nil, err
		}
		dec, err := u32(at + 4)
		if err != nil {
			return nil, err
		}
		if enc == 0 && dec == 0 {
			return l, nil
		}
		end := at + int(enc)
		if int(enc) < 20 || end > len(data) {
			return nil, fmt.Errorf("nvpair of %d bytes at %d does not fit", enc, at)
		}
		n, _ := u32(at + 8)
		nameEnd := at + 12 + align4(int(n))
		if int(n) > len(data) || nameEnd+8 > end {
			return nil, fmt.Errorf("nvpair name of %d bytes at %d does not fit", n, at)
		}
		p := nvPair{Name: string(data[at+12 : at+12+int(n)]), dec: int32(dec)}
		p.Type, _ = u32(nameEnd)
		val := data[nameEnd+8 : end]
		switch p.Type {
		case nvTypeUint64:
			if len(val) != 8 {
				return nil, fmt.Errorf("nvpair %s: a uint64 of %d bytes", p.Name, len(val))
			}
			p.U64 = binary.BigEndian.Uint64(val)
		case nvTypeString:
			sl := 0
			if len(val) >= 4 {
				sl = int(binary.BigEndian.Uint32(val))
			}
			if len(val) < 4 || 4+sl > len(val) {
				return nil, fmt.Errorf("nvpair %s: string does not fit", p.Name)
			}
			p.Str = string(val[4 : 4+sl])
		default:
			p.raw = bytes.Clone(val)
		}
		l = append(l, p)
		at = end
	}
}

// labelOffset is vdev_label_offset: where label l's byte off lies on a
// device of psize bytes (psize a multiple of the label size).
func labelOffset(psize int64, l int, off int64) int64 {
	base := int64(0)
	if l >= vdevLabels/2 {
		base = psize - vdevLabels*vdevLabelSize
	}
	return off + int64(l)*vdevLabelSize + base
}

// labelChecksum is the embedded label checksum of block at device offset
// off (ZIO_CHECKSUM_LABEL: SHA-256 over the block whose zio_eck_t holds
// ZEC_MAGIC and the verifier {off, 0, 0, 0}: zio_checksum_label_verifier;
// the digest stored as four words read big-endian, as
// abd_checksum_sha256 keeps it), written in little-endian order.
func labelChecksum(block []byte, off int64) []byte {
	tmp := bytes.Clone(block)
	eck := tmp[len(tmp)-zioEckSize:]
	binary.LittleEndian.PutUint64(eck, zecMagic)
	clear(eck[8:])
	binary.LittleEndian.PutUint64(eck[8:], uint64(off))
	sum := sha256.Sum256(tmp)
	out := make([]byte, 32)
	for i := 0; i < 4; i++ {
		binary.LittleEndian.PutUint64(out[8*i:], binary.BigEndian.Uint64(sum[8*i:]))
	}
	return out
}

// checkLabel verifies the embedded checksum of a label block read from
// device offset off (the loader's vdev_label_read: zio_checksum_verify
// with the label verifier). A little-endian writer's block only: the
// byte-swapped magic of a big-endian one is reported as such.
func checkLabel(block []byte, off int64) error {
	eck := block[len(block)-zioEckSize:]
	switch magic := binary.LittleEndian.Uint64(eck); magic {
	case zecMagic:
	case bits.ReverseBytes64(zecMagic):
		return fmt.Errorf("label block at %d was written big-endian; simhost reads little-endian labels only", off)
	default:
		return fmt.Errorf("label block at %d: bad checksum", off)
	}
	if !bytes.Equal(eck[8:], labelChecksum(block, off)) {
		return fmt.Errorf("label block at %d: bad checksum", off)
	}
	return nil
}

// sealLabel fills in the embedded checksum of a label block for device
// offset off (the loader's vdev_label_write).
func sealLabel(block []byte, off int64) {
	eck := block[len(block)-zioEckSize:]
	binary.LittleEndian.PutUint64(eck, zecMagic)
	copy(eck[8:], labelChecksum(block, off))
}

// decodeBootenv is what the loader makes of a bootenv block whose
// checksum held (stand/libsa/zfs/zfsimpl.c vdev_read_bootenv): VB_RAW
// is GRUB's text (no bootonce; an empty one counts as an empty
// VB_NVLIST list), VB_NVLIST the packed nvlist, and anything else a
// legacy zfsbootcfg command string at the block's start, taken as the
// bootonce when it has no control character before its NUL.
func decodeBootenv(block []byte) (nvList, error) {
	env := block[8 : len(block)-zioEckSize]
	switch binary.BigEndian.Uint64(block) {
	case bootenvRaw:
		if env[0] == 0 {
			return nvList{{Name: bootenvKeyVer, Type: nvTypeUint64, U64: bootenvNVList}}, nil
		}
		return nvList{{Name: bootenvKeyVer, Type: nvTypeUint64, U64: bootenvRaw}}, nil
	case bootenvNVList:
		return unpackXDR(env)
	}
	cmd, _, _ := bytes.Cut(block, []byte{0})
	ok := len(cmd) > 0
	for _, c := range cmd {
		ok = ok && c >= 0x20 && c != 0x7f
	}
	if ok {
		return nvList{{Name: bootenvBootonce, Type: nvTypeString, Str: string(cmd)}}, nil
	}
	return nvList{{Name: bootenvKeyVer, Type: nvTypeUint64, U64: bootenvNVList}}, nil
}

// encodeBootenv makes the bootenv block of a VB_NVLIST list, unsealed;
// a list too big for the area is E2BIG (vdev_label_write_bootenv).
func encodeBootenv(l nvList) ([]byte, error) {
	block := make([]byte, vdevPadSize)
	packed := l.packXDR()
	if len(packed) >= vdevPadSize-8-zioEckSize {
		return nil, fmt.Errorf("bootenv of %d bytes does not fit its area (E2BIG)", len(packed))
	}
	binary.BigEndian.PutUint64(block, bootenvNVList)
	copy(block[8:], packed)
	return block, nil
}

// bootonceDataset is the boot environment of a bootonce value: the
// loader takes "zfs:DATASET:" (stand/libsa/zfs/zfs.c, the zfs: device
// syntax: the prefix, the dataset, a colon at the end); "" for a value
// that is not one, which the loader calls an invalid bootonce.
func bootonceDataset(v string) string {
	ds, ok := strings.CutPrefix(v, "zfs:")
	if !ok || !strings.HasSuffix(ds, ":") || !strings.Contains(ds, "/") {
		return ""
	}
	return strings.TrimSuffix(ds, ":")
}
