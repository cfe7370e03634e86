// SPDX-License-Identifier: BSD-2-Clause

// Package harness runs zupgrade scenarios, described as data, against a
// simulated FreeBSD host: in process (the machine in a temporary directory)
// or inside a Linux guest under QEMU (the machine on a real file system of a
// virtio disk, real reboots and power cuts), and judges the end state.
package harness

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// Scenario is one test: a machine, what zupgrade runs on it, the faults,
// and the expected end. It is read from a JSON file.
type Scenario struct {
	// Name is the file's base name without .json (set by Load).
	Name string `json:"-"`
	// Skip, set on a matrix cell that cannot run (Expand), says why.
	Skip string `json:"-"`
	// Description says what the scenario shows, in a sentence.
	Description string `json:"description"`
	// Machine is the simulated host.
	Machine simhost.Spec `json:"machine"`
	// Runs are the admin's zupgrade apply runs, in order. After each, the
	// machine is booted whenever it went down (a checkpoint's reboot, a
	// power cut), its boot hook resuming the run, until it stays up.
	Runs []Run `json:"runs"`
	// Faults are injected during the runs.
	Faults []Fault `json:"faults,omitempty"`
	// Matrix, when set, expands the scenario into cells (Expand), one
	// fault each.
	Matrix *Matrix `json:"matrix,omitempty"`
	// Expect is the end state.
	Expect Expect `json:"expect"`
	// StateDir is zupgrade's state directory, a path of the machine
	// (default /var/db/zupgrade, inside the boot environment): outside
	// the boot environments, e.g. on the pool's root dataset
	// (/zroot/zupgrade), apply stages the upgrade in a new one.
	StateDir string `json:"state_dir,omitempty"`
	// DiskLayout is how the machine's disks are partitioned: bsdinstall
	// (the default: the preset's layout) or hand-made (handMadeLayout:
	// freebsd-boot p1, the ESP p2, the pool p3 on GPT labels). Load lays
	// the machine's disks out so; on real OpenZFS the scenario runs on the
	// golden disks of its layout.
	DiskLayout string `json:"disk_layout,omitempty"`
}

// Run is one zupgrade apply by the admin.
type Run struct {
	// Apply are the arguments after "zupgrade apply".
	Apply []string `json:"apply"`
	// UnlessDone skips the run when the journal already says done.
	UnlessDone bool `json:"unless_done,omitempty"`
}

// The fault kinds.
const (
	// KindPowerCut cuts the power: at a simhost command (Command, Args,
	// After; during the command when Command is set) or at a zupgrade
	// crash point (Point).
	KindPowerCut = "power-cut"
	// KindSIGKILL kills zupgrade with SIGKILL at a crash point (Point);
	// the machine stays up.
	KindSIGKILL = "sigkill"
	// KindRemoveDisk pulls Disk out of the machine before boot BeforeBoot
	// (0: missing from the start, before the first run),
	// or, with Command, just before the first command matching Command
	// and Args (armed as a power cut at a command is).
	KindRemoveDisk = "remove-disk"
	// JournalNone is expect.journal when no journal may be written.
	JournalNone = "none"
	// KindReplaceDisk replaces Disk before boot BeforeBoot, as an admin
	// replaces a dead disk: a new blank disk at its name, partitioned like
	// the others (gpart backup | gpart restore) and zpool replace; with
	// Bootcode the admin also wrote the boot code and formatted its ESP,
	// with Labels gave its partitions the dead disk's GPT labels.
	KindReplaceDisk = "replace-disk"
)

// Fault is a failure injected at a named point, never at a moment in time.
type Fault struct {
	Kind string `json:"kind"`
	// Command and Args match a simulated command (power-cut); After is
	// the number of commands that must run first once the fault is armed.
	Command string `json:"command,omitempty"`
	Args    string `json:"args,omitempty"`
	After   int    `json:"after,omitempty"`
	// Point is a zupgrade crash point, STEP:POINT (POINT before-start,
	// after-started or after-run), reached in the run Run (power-cut,
	// sigkill).
	Point string `json:"point,omitempty"`
	Run   int    `json:"run,omitempty"`
	// Boot, for a crash point, arms it in the run the boot hook resumes
	// at boot Boot instead of in run Run.
	Boot int `json:"boot,omitempty"`
	// BeforeBoot arms a simhost fault (or removes Disk) just before the
	// machine's Nth boot (1 is the first boot after the first run); 0
	// arms a simhost fault when the machine is made.
	BeforeBoot int    `json:"before_boot,omitempty"`
	Disk       string `json:"disk,omitempty"`
	// BeforeRun replaces Disk (replace-disk) while the machine is up,
	// just before the admin's run BeforeRun (1 or more).
	BeforeRun int `json:"before_run,omitempty"`
	// Bootcode: the admin wrote boot code on the replacing disk.
	Bootcode bool `json:"bootcode,omitempty"`
	// Labels: the admin gave the replacing disk's partitions the GPT
	// labels the dead disk's had (gpart modify -l after gpart restore,
	// which copies none), as a pool made on the labels needs.
	Labels bool `json:"labels,omitempty"`
}

// Expect is what the machine must look like once the runs ended.
type Expect struct {
	// Kernel and World are the releases of freebsd-version -k and -u
	// (a prefix: 14.2-RELEASE matches 14.2-RELEASE-p1).
	Kernel string `json:"kernel"`
	World  string `json:"world"`
	// Pool is the boot pool's health (ONLINE, DEGRADED).
	Pool string `json:"pool"`
	// Journal is the run's final status (done, failed), or JournalNone
	// when no run may have started (a plan that blocks writes none).
	Journal string `json:"journal"`
	// Message, when set, must occur in the journal's message (what a
	// failed run tells the admin).
	Message string `json:"message,omitempty"`
	// BootCodeEveryMember requires the same, current boot code on every
	// member disk present: gptzfsboot in each freebsd-boot partition
	// (BIOS layouts) and the loader on each formatted ESP.
	BootCodeEveryMember bool `json:"boot_code_every_member,omitempty"`
	// BootsFromEachDisk boots the machine from each disk present alone
	// (the others tried only after it) and requires the target kernel.
	BootsFromEachDisk bool `json:"boots_from_each_disk,omitempty"`
	// Boots is the number of boots the runs took, when set.
	Boots *int `json:"boots,omitempty"`
}

var (
	pointPattern = regexp.MustCompile(`^[a-z][a-z0-9-]*:(before-start|after-started|after-run)$`)
	namePattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)
)

// Load reads and validates one scenario file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var sc Scenario
	if err := dec.Decode(&sc); err != nil {
		return nil, fmt.Errorf("%s: %v (see docs/vmtest.md for the format)", path, err)
	}
	sc.Name = strings.TrimSuffix(filepath.Base(path), ".json")
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	sc.layDisks()
	return &sc, nil
}

// layout is the scenario's disk layout (validated: a known name). The
// default, bsdinstall, is the bsdinstall layout of the machine's preset:
// GPT (BIOS+UEFI), GPT (UEFI) for uefi, GPT (BIOS) for bios.
func (sc *Scenario) layout() *DiskLayout {
	if sc.DiskLayout == "" || sc.DiskLayout == bsdinstallLayout.Name {
		for _, l := range []*DiskLayout{bsdinstallUEFILayout, bsdinstallBIOSLayout} {
			if sc.Machine.Preset == l.Preset {
				return l
			}
		}
		return bsdinstallLayout
	}
	return diskLayouts[sc.DiskLayout]
}

// layDisks lays the machine's disks out as the scenario's disk layout
// says, unless it is the preset's own (bsdinstall): each disk's
// partitions by hand (spec layouts), its labels numbered by the disk's
// unit, and the pool's members named by their GPT labels when the
// layout's pool is made on them.
func (sc *Scenario) layDisks() {
	l := sc.layout()
	if l.Preset != "" {
		return
	}
	sc.Machine.Layouts = map[string][]simhost.PartitionSpec{}
	for i, name := range diskNames(sc.Machine) {
		sc.Machine.Layouts[name] = l.machineLayout(i)
	}
	if l.PoolOnLabels {
		sc.Machine.Naming = "gpt-label"
	}
}

// LoadDir reads every *.json scenario of dir, sorted by name.
func LoadDir(dir string) ([]*Scenario, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no scenarios (*.json) in %s", dir)
	}
	sort.Strings(paths)
	var out []*Scenario
	for _, p := range paths {
		sc, err := Load(p)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

// Validate checks a scenario for mistakes a run would only find late.
func (sc *Scenario) Validate() error {
	if !namePattern.MatchString(sc.Name) {
		return fmt.Errorf("scenario name %q: use lower-case letters, digits and dashes", sc.Name)
	}
	if strings.TrimSpace(sc.Description) == "" {
		return fmt.Errorf("description is empty: say in a sentence what the scenario shows")
	}
	if len(sc.Runs) == 0 {
		return fmt.Errorf("runs is empty: give at least one zupgrade apply run")
	}
	if len(sc.Machine.Faults) > 0 {
		return fmt.Errorf("machine.faults: put faults in the scenario's faults list, with a kind")
	}
	for i, r := range sc.Runs {
		for _, a := range r.Apply {
			if a == "" || strings.ContainsAny(a, "\x00\n") {
				return fmt.Errorf("runs[%d]: argument %q is empty or holds a NUL or newline", i, a)
			}
			if a == "--state-dir" || strings.HasPrefix(a, "--state-dir=") {
				return fmt.Errorf("runs[%d]: --state-dir is the harness's to set", i)
			}
		}
		if i == 0 && r.UnlessDone {
			return fmt.Errorf("runs[0]: unless_done on the first run never skips it")
		}
	}
	if d := sc.StateDir; d != "" && (!path.IsAbs(d) || path.Clean(d) != d || d == "/" || strings.ContainsAny(d, "\x00\n")) {
		return fmt.Errorf("state_dir %q: give an absolute, clean path of the machine, e.g. /zroot/zupgrade", d)
	}
	if sc.DiskLayout != "" {
		if l, ok := diskLayouts[sc.DiskLayout]; !ok || (l.Preset != "" && l != bsdinstallLayout) {
			return fmt.Errorf("disk_layout %q: want bsdinstall or hand-made", sc.DiskLayout)
		}
		if sc.DiskLayout != bsdinstallLayout.Name && (len(sc.Machine.Layouts) > 0 || sc.Machine.Naming != "" || sc.Machine.Preset != "bios+uefi") {
			return fmt.Errorf("disk_layout %s lays out a bios+uefi machine's disks itself: leave machine.layouts and machine.naming out", sc.DiskLayout)
		}
	}
	if sc.Matrix != nil {
		if err := sc.Matrix.check(sc); err != nil {
			return err
		}
	}
	disks := diskNames(sc.Machine)
	for i, f := range sc.Faults {
		where := fmt.Sprintf("faults[%d] (%s)", i, f.Kind)
		switch f.Kind {
		case KindPowerCut, KindSIGKILL:
			if f.Disk != "" {
				return fmt.Errorf("%s: disk is only for remove-disk", where)
			}
			if f.Point != "" {
				if !pointPattern.MatchString(f.Point) {
					return fmt.Errorf("%s: point %q: want STEP:before-start, STEP:after-started or STEP:after-run", where, f.Point)
				}
				if f.Command != "" || f.Args != "" || f.After != 0 || f.BeforeBoot != 0 {
					return fmt.Errorf("%s: a crash point takes only run, not command, args, after or before_boot", where)
				}
				if f.Run < 0 || f.Run >= len(sc.Runs) {
					return fmt.Errorf("%s: run %d: the scenario has runs 0 to %d", where, f.Run, len(sc.Runs)-1)
				}
				if f.Boot < 0 || (f.Boot > 0 && f.Run != 0) {
					return fmt.Errorf("%s: give a crash point either a run or a boot (1 or more), not both", where)
				}
				continue
			}
			if f.Kind == KindSIGKILL {
				return fmt.Errorf("%s: sigkill needs a point (STEP:POINT)", where)
			}
			if f.Run != 0 || f.Boot != 0 {
				return fmt.Errorf("%s: run and boot are only for crash points; use before_boot", where)
			}
			if f.Command == "" && f.After == 0 {
				return fmt.Errorf("%s: name a command, an after count or a point", where)
			}
			if f.After < 0 || f.BeforeBoot < 0 {
				return fmt.Errorf("%s: after and before_boot must not be negative", where)
			}
		case KindRemoveDisk, KindReplaceDisk:
			if !contains(disks, f.Disk) {
				return fmt.Errorf("%s: disk %q is not one of the machine's disks %v", where, f.Disk, disks)
			}
			switch {
			case f.Kind == KindRemoveDisk && f.Command != "":
				if f.Point != "" || f.Run != 0 || f.Boot != 0 || f.BeforeRun != 0 || f.BeforeBoot < 0 || f.After < 0 {
					return fmt.Errorf("%s: a disk pulled out at a command takes command, args, after and before_boot", where)
				}
				continue
			case f.BeforeRun != 0 && f.Kind != KindReplaceDisk:
				return fmt.Errorf("%s: before_run is only for replace-disk; a disk goes missing at a boot (before_boot)", where)
			case f.BeforeRun != 0 && (f.BeforeRun < 1 || f.BeforeRun >= len(sc.Runs) || f.BeforeBoot != 0):
				return fmt.Errorf("%s: before_run %d: give one of runs 1 to %d, and no before_boot", where, f.BeforeRun, len(sc.Runs)-1)
			case f.BeforeRun == 0 && f.BeforeBoot < 0:
				return fmt.Errorf("%s: before_boot must be 0 (missing from the start) or more (the boot the disk is missing at)", where)
			case f.Kind == KindReplaceDisk && f.BeforeRun == 0 && f.BeforeBoot == 0:
				return fmt.Errorf("%s: a disk is replaced before a run (before_run) or a boot (before_boot 1 or more)", where)
			}
			if f.Command != "" || f.Args != "" || f.Point != "" || f.After != 0 || f.Run != 0 || f.Boot != 0 {
				return fmt.Errorf("%s: %s takes only disk and before_boot", where, f.Kind)
			}
			if (f.Bootcode || f.Labels) && f.Kind != KindReplaceDisk {
				return fmt.Errorf("%s: bootcode and labels are only for replace-disk", where)
			}
		default:
			return fmt.Errorf("faults[%d]: kind %q (want power-cut, sigkill, remove-disk or replace-disk)", i, f.Kind)
		}
	}
	e := sc.Expect
	if e.Journal == "" {
		return fmt.Errorf("expect.journal is empty (done, failed, ..., or none when no run may start)")
	}
	if e.Journal != "done" && (e.BootsFromEachDisk || e.BootCodeEveryMember) {
		return fmt.Errorf("expect: boots_from_each_disk and boot_code_every_member need journal done")
	}
	for _, r := range []struct{ name, v string }{{"kernel", e.Kernel}, {"world", e.World}} {
		if r.v == "" {
			return fmt.Errorf("expect.%s is empty: give the release, e.g. 14.2-RELEASE", r.name)
		}
		if _, err := simhost.ParseRelease(r.v); err != nil {
			return fmt.Errorf("expect.%s: %v", r.name, err)
		}
	}
	switch e.Pool {
	case "ONLINE", "DEGRADED":
	default:
		return fmt.Errorf("expect.pool %q: want ONLINE or DEGRADED", e.Pool)
	}
	if e.Boots != nil && *e.Boots < 0 {
		return fmt.Errorf("expect.boots must not be negative")
	}
	return nil
}

// diskNames are the disks the spec makes (its names, else prefix0..N-1).
func diskNames(s simhost.Spec) []string {
	if len(s.DiskNames) > 0 {
		return s.DiskNames
	}
	n := s.Disks
	if n == 0 {
		n = 2
	}
	prefix := s.DiskPrefix
	if prefix == "" {
		prefix = "ada"
	}
	var out []string
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("%s%d", prefix, i))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
