// SPDX-License-Identifier: BSD-2-Clause

package facts

import (
	"fmt"
	"regexp"
)

// NameError reports a name the host printed that zupgrade will not put on
// a command line: one that would be read as options (a leading '-'), or
// that holds characters no such name has. Nothing was run with it.
type NameError struct {
	// Kind says what the name is: disk, partition, pool, dataset, boot
	// environment.
	Kind string
	Name string
	// Rule says what a name of that kind may hold.
	Rule string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("the host reports %s %q, which zupgrade will not pass to a command (%s): check the output of the probe that names it (zupgrade inspect --capture FILE records them all)", e.Kind, e.Name, e.Rule)
}

// The rules for names. GEOM providers are device names and the label and
// diskid names below /dev (gpt/zfs0, diskid/DISK-S3Z9NB0K123456p3).
// ZFS names follow zfs_namecheck.c (module/zcommon in OpenZFS): pool and
// dataset components are letters, digits, '_', '-', '.', ':' and ' ', a
// pool begins with a letter; snapshots and boot environments likewise.
var (
	geomName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:+/-]*$`)
	poolName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.: -]*$`)
	dsName   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.: -]*(/[A-Za-z0-9_.: -]+)*$`)
	beName   = regexp.MustCompile(`^[A-Za-z0-9_.:][A-Za-z0-9_.: -]*$`)
	// espPath is the file of a boot entry on its ESP (efibootmgr -v's
	// mapped path): FAT names, no empty, "." or ".." component.
	espPath = regexp.MustCompile(`^/?([A-Za-z0-9_+~ -][A-Za-z0-9_.+~ -]*/)*[A-Za-z0-9_+~ -][A-Za-z0-9_.+~ -]*$`)
)

// checkNames returns a *NameError for the first name of f that a command
// line would take: disks and their boot partitions and ESPs, pools, the
// root dataset and bootfs, and boot environments.
func (f *Facts) checkNames() error {
	type rule struct {
		re   *regexp.Regexp
		text string
	}
	var (
		geom = rule{geomName, "a device name is letters, digits and _ . : + / -, and does not begin with -"}
		pool = rule{poolName, "a pool name begins with a letter and holds letters, digits and _ . : - and spaces"}
		ds   = rule{dsName, "a dataset name is its pool's name and components of letters, digits and _ . : - and spaces"}
		be   = rule{beName, "a boot environment name holds letters, digits and _ . : - and spaces, and does not begin with -"}
	)
	check := func(kind, name string, r rule) error {
		if name != "" && !r.re.MatchString(name) {
			return &NameError{Kind: kind, Name: name, Rule: r.text}
		}
		return nil
	}
	file := rule{espPath, "a file on an ESP is names of letters, digits and _ . + ~ - and spaces, separated by /, none of them . or .."}
	if f.EFI != nil {
		for _, en := range f.EFI.Entries {
			if err := check("boot entry file", en.Path, file); err != nil {
				return err
			}
		}
	}
	for _, d := range append(f.Disks, f.OtherDisks...) {
		if err := check("disk", d.Name, geom); err != nil {
			return err
		}
		for _, p := range d.BootPartitions {
			if err := check("partition", p.Name, geom); err != nil {
				return err
			}
		}
		for _, e := range d.ESPs {
			if err := check("partition", e.Name, geom); err != nil {
				return err
			}
		}
	}
	for _, p := range f.Pools {
		if err := check("pool", p.Name, pool); err != nil {
			return err
		}
		if err := check("dataset", p.BootFS, ds); err != nil {
			return err
		}
	}
	if err := check("dataset", f.RootDataset, ds); err != nil {
		return err
	}
	for _, b := range f.BootEnvs.List {
		if err := check("boot environment", b.Name, be); err != nil {
			return err
		}
	}
	return nil
}
