// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
	"strconv"
	"strings"
)

func cmdEfibootmgr(inv *Invocation) int {
	if inv.running().BootMethod != "UEFI" {
		inv.errf("efibootmgr: efi variables not supported on this system. root? kldload efirt?\n")
		return 1
	}
	opts, rest, err := getopt(inv.Args, "vaAb:Bn:o:cl:L:")
	if err != nil {
		return inv.unsupported(err.Error())
	}
	if len(rest) > 0 {
		return inv.unsupported("arguments " + strings.Join(rest, " "))
	}
	fw := &inv.model.Firmware
	parseNum := func(s string) (int, bool) {
		n, err := strconv.ParseUint(s, 16, 16)
		return int(n), err == nil
	}
	switch {
	case has(opts, 'c'):
		return efiCreate(inv, opts)
	case has(opts, 'o'):
		// set_boot_order writes the numbers as given, without looking
		// for the entries (efibootmgr -v then shows "MISSING!").
		v, _ := value(opts, 'o')
		var order []int
		for _, s := range strings.Split(v, ",") {
			n, ok := parseNum(strings.TrimSpace(s))
			if !ok {
				inv.errf("efibootmgr: can't parse %s as a numb\nefibootmgr:        efibootmgr -o bootvarnum1,bootvarnum2,...\n", s)
				return 1
			}
			order = append(order, n)
		}
		fw.BootOrder = order
	case has(opts, 'n'):
		v, _ := value(opts, 'n')
		n, ok := parseNum(v)
		if !ok || fw.efiEntry(n) == nil {
			inv.errf("efibootmgr: bootvar %s does not exist\n", v)
			return 1
		}
		fw.BootNext = &n
	case has(opts, 'a'), has(opts, 'A'), has(opts, 'B'):
		v, ok := value(opts, 'b')
		if !ok {
			inv.errf("efibootmgr: -b bootnum required\n")
			return 1
		}
		n, ok := parseNum(v)
		e := fw.efiEntry(n)
		if !ok || e == nil {
			inv.errf("efibootmgr: bootvar %s does not exist\n", v)
			return 1
		}
		switch {
		case has(opts, 'B'):
			for i, x := range fw.Entries {
				if x == e {
					fw.Entries = append(fw.Entries[:i], fw.Entries[i+1:]...)
					break
				}
			}
			var order []int
			for _, o := range fw.BootOrder {
				if o != n {
					order = append(order, o)
				}
			}
			fw.BootOrder = order
		case has(opts, 'a'):
			e.Active = true
		default:
			e.Active = false
		}
	}
	inv.printEFI(has(opts, 'v'))
	return 0
}

// efiCreate adds a boot entry for a loader on a mounted ESP:
// efibootmgr -c -l PATH -L LABEL [-a].
func efiCreate(inv *Invocation, opts []opt) int {
	fw := &inv.model.Firmware
	loader, ok := value(opts, 'l')
	if !ok {
		inv.errf("efibootmgr: -l loader required\n")
		return 1
	}
	label, ok := value(opts, 'L')
	if !ok {
		inv.errf("efibootmgr: -L label required\n")
		return 1
	}
	v := inv.resolve(loader)
	if !v.isFAT() || v.fat.lookup(v.fatPath) == nil {
		inv.errf("efibootmgr: Can't convert %s to a uefi path\n", loader)
		return 1
	}
	var part *Partition
	for _, d := range inv.model.Disks {
		for _, p := range d.Partitions {
			if p.FAT == v.fat {
				part = p
			}
		}
	}
	num := 0
	for fw.efiEntry(num) != nil {
		num++
	}
	e := &EFIEntry{Num: num, Label: label, Active: has(opts, 'a'), PartUUID: part.RawUUID, Path: `\` + strings.ReplaceAll(v.fatPath, "/", `\`)}
	fw.Entries = append(fw.Entries, e)
	// make_boot_var takes the first free number and add_to_boot_order
	// puts it in front of BootOrder ("so it goes on the front").
	fw.BootOrder = append([]int{num}, fw.BootOrder...)
	inv.printEFI(has(opts, 'v'))
	return 0
}

// printEFI prints the boot variables as efibootmgr [-v] does
// (usr.sbin/efibootmgr/efibootmgr.c print_boot_vars): BootNext and
// BootCurrent in lower-case hex, then BootOrder, then the entries of
// BootOrder in its order ("BootXXXX: MISSING!" for one that does not
// exist); with -v the other entries follow "Unreferenced Variables:".
func (inv *Invocation) printEFI(verbose bool) {
	fw := inv.model.Firmware
	if inv.runningKernel().AtLeast(14, 0) {
		inv.out("Boot to FW : false\n")
	}
	if fw.BootNext != nil {
		inv.out("BootNext : %04x\n", *fw.BootNext)
	}
	if fw.BootCurrent >= 0 {
		inv.out("BootCurrent: %04x\n", fw.BootCurrent)
	}
	var order []string
	for _, n := range fw.BootOrder {
		order = append(order, fmt.Sprintf("%04X", n))
	}
	inv.out("BootOrder  : %s\n", strings.Join(order, ", "))
	seen := map[int]bool{}
	for _, n := range fw.BootOrder {
		if fw.efiEntry(n) == nil {
			inv.out("Boot%04X: MISSING!\n", n)
			continue
		}
		seen[n] = true
		inv.printEFIEntry(n, verbose)
	}
	if !verbose {
		return
	}
	inv.out("\n\nUnreferenced Variables:\n")
	for _, e := range fw.Entries {
		if !seen[e.Num] {
			inv.printEFIEntry(e.Num, verbose)
		}
	}
}

// printEFIEntry prints one entry as print_boot_var does; with -v its
// device path follows the label and the mapped path (print_loadopt_str)
// is indented by 10 + the label's length + 1 + 4.
func (inv *Invocation) printEFIEntry(n int, verbose bool) {
	fw := inv.model.Firmware
	e := fw.efiEntry(n)
	cur, act := " ", " "
	if n == fw.BootCurrent {
		cur = "+"
	}
	if e.Active {
		act = "*"
	}
	if !verbose {
		inv.out("%sBoot%04X%s %s\n", cur, n, act, e.Label)
		return
	}
	d, p := inv.model.partitionByUUID(e.PartUUID)
	if p == nil {
		inv.out("%sBoot%04X%s %s HD(?,GPT,%s)/File(%s)\n", cur, n, act, e.Label, e.PartUUID, e.Path)
		return
	}
	inv.out("%sBoot%04X%s %s HD(%d,GPT,%s,%#x,%#x)/File(%s)\n", cur, n, act, e.Label, p.Index, p.RawUUID, p.Start, p.Size, e.Path)
	if d.Missing {
		return
	}
	rel := strings.ReplaceAll(e.Path, `\`, "/")
	abs := "(null)"
	if inv.model.Running != nil {
		for _, mt := range inv.model.Running.Mounts {
			if mt.Disk == d.Name && mt.Index == p.Index {
				abs = mt.Point + rel
			}
		}
	}
	inv.out("%*s%s:%s %s\n", 10+len(e.Label)+1+4, "", partName(d, p), rel, abs)
}
