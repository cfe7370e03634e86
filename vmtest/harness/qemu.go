// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"fmt"
	"strconv"
	"strings"
)

// QEMUDisk is one disk of a QEMU guest.
type QEMUDisk struct {
	Path string
	// Format is raw or qcow2.
	Format string
	// Interface is virtio (a virtio-blk PCI disk) or ahci (a SATA disk,
	// ada on FreeBSD).
	Interface string
}

// QEMUOptions describe a QEMU guest; QEMUArgs turns them into the command
// line, so that the command line is tested without QEMU.
type QEMUOptions struct {
	// Binary is qemu-system-x86_64 (or a path to it).
	Binary string
	// Accel is tcg or kvm.
	Accel    string
	MemoryMB int
	// Kernel, Initrd and Append boot a Linux kernel directly (the Linux
	// guest); empty for a disk image booted by its firmware.
	Kernel, Initrd, Append string
	// Firmware is bios (SeaBIOS, QEMU's default) or uefi (OVMF: the code
	// read-only, a per-guest copy of the variables).
	Firmware           string
	OVMFCode, OVMFVars string
	Disks              []QEMUDisk
	// QMP is the path of the QMP socket.
	QMP string
	// Serial is where the first serial port goes: stdio or a file path.
	Serial string
}

// QEMUArgs is the argv of the guest: one CPU, a virtio RNG (no getrandom
// stalls under TCG), no NIC and so no option ROM, -no-reboot so that a
// guest reboot ends QEMU (the harness relaunches it: one code path for
// reboots and power cuts), no display, the serial console to Serial and a
// QMP socket. It fails on options that cannot work.
func QEMUArgs(o QEMUOptions) ([]string, error) {
	if o.Binary == "" {
		return nil, fmt.Errorf("qemu: no binary")
	}
	switch o.Accel {
	case "tcg", "kvm":
	default:
		return nil, fmt.Errorf("qemu: accel %q (want tcg or kvm)", o.Accel)
	}
	if o.MemoryMB < 128 {
		return nil, fmt.Errorf("qemu: %d MiB of memory is too little", o.MemoryMB)
	}
	if o.QMP == "" || o.Serial == "" {
		return nil, fmt.Errorf("qemu: the QMP socket and the serial console need a path")
	}
	a := []string{o.Binary,
		"-accel", o.Accel, "-m", strconv.Itoa(o.MemoryMB), "-smp", "1",
		"-display", "none", "-monitor", "none", "-nic", "none", "-no-reboot",
		"-device", "virtio-rng-pci",
		"-serial", serialArg(o.Serial),
		"-qmp", "unix:" + o.QMP + ",server=on,wait=off",
	}
	switch o.Firmware {
	case "", "bios":
	case "uefi":
		if o.OVMFCode == "" || o.OVMFVars == "" {
			return nil, fmt.Errorf("qemu: uefi needs OVMF_CODE and a copy of OVMF_VARS")
		}
		a = append(a,
			"-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+o.OVMFCode,
			"-drive", "if=pflash,format=raw,unit=1,file="+o.OVMFVars)
	default:
		return nil, fmt.Errorf("qemu: firmware %q (want bios or uefi)", o.Firmware)
	}
	if o.Kernel != "" {
		if o.Firmware == "uefi" {
			return nil, fmt.Errorf("qemu: a direct kernel boot takes no uefi firmware")
		}
		a = append(a, "-kernel", o.Kernel)
		if o.Initrd != "" {
			a = append(a, "-initrd", o.Initrd)
		}
		if o.Append != "" {
			a = append(a, "-append", o.Append)
		}
	} else if len(o.Disks) == 0 {
		return nil, fmt.Errorf("qemu: neither a kernel nor a disk to boot")
	}
	ahci := false
	for i, d := range o.Disks {
		if strings.ContainsAny(d.Path, ",") {
			return nil, fmt.Errorf("qemu: disk path %q holds a comma", d.Path)
		}
		switch d.Format {
		case "raw", "qcow2":
		default:
			return nil, fmt.Errorf("qemu: disk %s: format %q (want raw or qcow2)", d.Path, d.Format)
		}
		id := fmt.Sprintf("disk%d", i)
		switch d.Interface {
		case "virtio":
			a = append(a, "-drive", fmt.Sprintf("file=%s,format=%s,if=virtio,cache=writeback", d.Path, d.Format))
		case "ahci":
			if !ahci {
				a = append(a, "-device", "ahci,id=ahci")
				ahci = true
			}
			a = append(a,
				"-drive", fmt.Sprintf("file=%s,format=%s,if=none,id=%s", d.Path, d.Format, id),
				"-device", fmt.Sprintf("ide-hd,drive=%s,bus=ahci.%d", id, i))
		default:
			return nil, fmt.Errorf("qemu: disk %s: interface %q (want virtio or ahci)", d.Path, d.Interface)
		}
	}
	return a, nil
}

func serialArg(s string) string {
	if s == "stdio" {
		return "stdio"
	}
	return "file:" + s
}

// BhyveOptions describe a bhyve guest (FreeBSD hosts).
type BhyveOptions struct {
	Name     string
	MemoryMB int
	// Firmware is uefi (the bootrom with a per-guest copy of the vars
	// template); BIOS guests are started by bhyveload, not here.
	BootROM, Vars string
	Disks         []string
	// Console is the nmdm device pair end for the serial console, or stdio.
	Console string
}

// BhyveArgs is the bhyve(8) argv: one CPU, AHCI disks (ada on FreeBSD), a
// virtio RNG, the LPC console, no NIC; -A for ACPI tables, -H to yield on
// HLT, -u for an RTC in UTC. bhyve exits 0 when the guest reboots and 1
// when it powers off, so the harness relaunches it like QEMU.
func BhyveArgs(o BhyveOptions) ([]string, error) {
	if o.Name == "" || strings.ContainsAny(o.Name, " /,") {
		return nil, fmt.Errorf("bhyve: guest name %q", o.Name)
	}
	if o.MemoryMB < 128 {
		return nil, fmt.Errorf("bhyve: %d MiB of memory is too little", o.MemoryMB)
	}
	if o.BootROM == "" || o.Vars == "" {
		return nil, fmt.Errorf("bhyve: the UEFI bootrom and a copy of its vars template are needed")
	}
	if len(o.Disks) == 0 {
		return nil, fmt.Errorf("bhyve: no disk")
	}
	console := o.Console
	if console == "" {
		console = "stdio"
	}
	a := []string{"bhyve", "-A", "-H", "-u", "-c", "1", "-m", strconv.Itoa(o.MemoryMB) + "M",
		"-s", "0,hostbridge", "-s", "31,lpc",
		"-l", "com1," + console,
		"-l", "bootrom," + o.BootROM + "," + o.Vars,
		"-s", "1,virtio-rnd",
	}
	for i, d := range o.Disks {
		if strings.ContainsAny(d, ",") {
			return nil, fmt.Errorf("bhyve: disk path %q holds a comma", d)
		}
		a = append(a, "-s", fmt.Sprintf("%d,ahci-hd,%s", 2+i, d))
	}
	return append(a, o.Name), nil
}
