// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// ModelFormat is the version of the JSON model file; Open refuses others.
const ModelFormat = 1

// Power is the machine's power state.
type Power string

// The power states. A machine is On while it runs; GoingDown after
// shutdown -r or reboot until the next boot; Off after a power cut.
const (
	PowerOn        Power = "on"
	PowerGoingDown Power = "going-down"
	PowerOff       Power = "off"
)

// Model is everything the simulated host knows, stored as one JSON file.
// The files of the running boot environment live as real files under the
// machine's root directory; the files of other boot environments and of
// snapshots live in the machine's store (see README.md).
type Model struct {
	Format   int       `json:"format"`
	Hostname string    `json:"hostname"`
	Arch     string    `json:"arch"`
	Clock    time.Time `json:"clock"`
	Power    Power     `json:"power"`
	// Running is the volatile state of the booted system; nil when the
	// machine is not running.
	Running  *Running  `json:"running,omitempty"`
	Firmware Firmware  `json:"firmware"`
	Disks    []*Disk   `json:"disks"`
	Pools    []*Pool   `json:"pools"`
	Behavior Behavior  `json:"behavior"`
	Faults   []*Fault  `json:"faults,omitempty"`
	Commands int       `json:"commands"`
	History  []Command `json:"history,omitempty"`
	// LastBoot is the report of the most recent boot.
	LastBoot *BootReport `json:"last_boot,omitempty"`
	// RootFiles is the dataset whose files are at the root directory
	// (the boot environment last booted).
	RootFiles string `json:"root_files"`

	// doomed are the processes of a running system that just ended (a
	// power cut, a reset, a reboot), killed once the model is saved.
	doomed []ProcessRecord
	// saved, when set, runs once the model is written and before the
	// doomed processes are killed (vmtest: commit the files, report a
	// power cut to the VM harness; see PauseEnv).
	saved func()

	// Boot-time environment: the programs daemon(8) detached.
	Daemons []*Daemon `json:"daemons,omitempty"`
}

// Running is the state that exists only while the system runs: it is
// rebuilt at every boot and lost at a power cut.
type Running struct {
	Kernel string `json:"kernel"`
	// Ident is the running kernel's configuration (uname -i).
	Ident      string    `json:"ident,omitempty"`
	BE         string    `json:"be"`
	BootMethod string    `json:"boot_method"`
	BootDisk   string    `json:"boot_disk"`
	Loader     string    `json:"loader"`
	Since      time.Time `json:"since"`
	Mounts     []Mount   `json:"mounts,omitempty"`
	// Processes are the processes that end with the running system.
	Processes []ProcessRecord `json:"processes,omitempty"`

	// Staged upgrades (staged.go): the devfs file systems mounted with
	// mount -t devfs besides the one at /dev, by mount point.
	Devfs []string `json:"devfs,omitempty"`

	// Trial deadline (watchdog.go): the timeout a watchdog driver took
	// (watchdog -t), 0 while the watchdog is off.
	Watchdog time.Duration `json:"watchdog,omitempty"`
}

// Mount is a mounted FAT file system (an ESP) at a point of the machine.
type Mount struct {
	Device string `json:"device"`
	Point  string `json:"point"`
	Disk   string `json:"disk"`
	Index  int    `json:"index"`
	// Real is where the real FAT is mounted too, with real disks
	// (realfat.go).
	Real string `json:"real,omitempty"`
}

// Firmware is how the machine starts: BIOS or UEFI, the order of disks
// it tries, and for UEFI the boot variables efibootmgr shows.
type Firmware struct {
	// Mode is BIOS or UEFI.
	Mode string `json:"mode"`
	// DiskOrder is the order in which the firmware tries disks (BIOS
	// boot order; UEFI removable-media fallback order).
	DiskOrder []string `json:"disk_order"`
	// BootOrder lists EFI boot entry numbers in the order tried.
	BootOrder []int       `json:"boot_order,omitempty"`
	Entries   []*EFIEntry `json:"entries,omitempty"`
	// BootNext is a one-shot entry number (efibootmgr -n), nil when unset.
	BootNext *int `json:"boot_next,omitempty"`
	// BootCurrent is the entry the firmware booted last, -1 for the
	// removable-media fallback.
	BootCurrent int `json:"boot_current"`
}

// EFIEntry is one UEFI Boot#### variable pointing at a file on an ESP.
type EFIEntry struct {
	Num      int    `json:"num"`
	Label    string `json:"label"`
	Active   bool   `json:"active"`
	PartUUID string `json:"part_uuid"`
	// Path is the file on the ESP, with backslashes as UEFI writes it.
	Path string `json:"path"`
}

// Disk is a physical disk with a GPT.
type Disk struct {
	Name       string `json:"name"`
	Serial     string `json:"serial"`
	Descr      string `json:"descr"`
	Sectors    int64  `json:"sectors"`
	SectorSize int    `json:"sector_size"`
	// First is the first usable LBA (34 on old installs, 40 since 10.x).
	First int64 `json:"first"`
	// Missing disks have been pulled out (or died).
	Missing bool `json:"missing,omitempty"`
	// BootArea is the boot code in sector 0 (the first 446 bytes, as
	// gpart bootcode -b writes them); empty means none.
	BootArea   []byte       `json:"boot_area,omitempty"`
	Partitions []*Partition `json:"partitions"`
}

// Last is the last usable LBA of the disk.
func (d *Disk) Last() int64 { return d.Sectors - 34 }

// Partition is one GPT entry and what it holds.
type Partition struct {
	Index   int    `json:"index"`
	Type    string `json:"type"`
	Label   string `json:"label,omitempty"`
	RawUUID string `json:"rawuuid"`
	Start   int64  `json:"start"`
	Size    int64  `json:"size"`
	// Data is what raw writes (gpart bootcode -p) left at the start of the
	// partition; the rest reads as zeros.
	Data []byte `json:"data,omitempty"`
	// FAT is the file system of a formatted ESP; nil when none (never
	// formatted, or destroyed by a raw write).
	FAT *FAT `json:"fat,omitempty"`
	// Corrupt says why the partition's content is no longer what its
	// type promises (boot code written over it).
	Corrupt string `json:"corrupt,omitempty"`
}

// FAT is an msdosfs file system. Synced is what is on the medium;
// Files is the live view including writes not yet synced. FAT has no
// journal: a power cut keeps Synced, with every file written since the
// last sync left empty (a torn write).
type FAT struct {
	Label  string     `json:"label"`
	Bits   int        `json:"bits"`
	Serial uint32     `json:"serial"`
	Files  []*FATFile `json:"files"`
	Synced []*FATFile `json:"synced"`
	// Written lists the paths written since the last sync.
	Written []string `json:"written,omitempty"`
}

// FATFile is a file or directory on a FAT file system. Path is relative
// to the file system's root, with the case it was created with; FAT
// compares names without case.
type FATFile struct {
	Path string `json:"path"`
	Dir  bool   `json:"dir,omitempty"`
	Data []byte `json:"data,omitempty"`
}

// Pool is a ZFS pool.
type Pool struct {
	Name string `json:"name"`
	GUID uint64 `json:"guid"`
	// Version is the SPA version: 5000 for feature flags, else legacy.
	Version int `json:"version"`
	// Vdevs are the top-level vdevs.
	Vdevs []*Vdev `json:"vdevs"`
	// Features maps short feature names to "enabled" or "active"; a
	// feature not listed is disabled.
	Features      map[string]string `json:"features,omitempty"`
	Compatibility string            `json:"compatibility"`
	Bootfs        string            `json:"bootfs,omitempty"`
	// NextBoot is the boot environment dataset to boot once
	// (bectl activate -t), consumed by the next boot.
	NextBoot string     `json:"next_boot,omitempty"`
	Size     int64      `json:"size"`
	Alloc    int64      `json:"alloc"`
	Scan     string     `json:"scan,omitempty"`
	Datasets []*Dataset `json:"datasets"`
	// Resilver is the last resilver, running or done; it is what the scan
	// line shows when set.
	Resilver *Resilver `json:"resilver,omitempty"`
}

// Vdev is a vdev: a mirror or raidz with children, or a leaf backed by a
// partition of a disk.
type Vdev struct {
	Type     string  `json:"type"`
	Name     string  `json:"name,omitempty"`
	GUID     uint64  `json:"guid"`
	Disk     string  `json:"disk,omitempty"`
	Index    int     `json:"index,omitempty"`
	Children []*Vdev `json:"children,omitempty"`
	// Resilvering: the leaf is being resilvered.
	Resilvering bool `json:"resilvering,omitempty"`
}

// Dataset is a ZFS file system.
type Dataset struct {
	Name       string     `json:"name"`
	Mountpoint string     `json:"mountpoint"`
	Canmount   string     `json:"canmount"`
	Version    int        `json:"version"`
	Created    time.Time  `json:"created"`
	Origin     string     `json:"origin,omitempty"`
	Used       int64      `json:"used"`
	Snapshots  []Snapshot `json:"snapshots,omitempty"`
	// Mounted is where a boot environment other than the running one is
	// mounted (bectl mount; staged.go): its files are there instead of in
	// the store until it is unmounted or the system ends.
	Mounted string `json:"mounted,omitempty"`
	// RealFiles (real OpenZFS, realbe.go): the boot environment's files
	// are in its real dataset, mounted there by bectl mount, not in the
	// store; the next boot reads them from it.
	RealFiles bool `json:"real_files,omitempty"`

	// The state directory of a staged upgrade (the pool's root dataset).
	// Readonly is the readonly property (module/zcommon/zfs_prop.c
	// zfs_prop_init registers it off by default); it is the dataset's own
	// value, inheritance is not modelled.
	Readonly bool `json:"readonly,omitempty"`
	// Unmounted: a dataset outside the boot environments that would
	// mount at its mountpoint is not mounted (zfs umount; zfsmount.go),
	// until zfs mount or the next boot mounts it.
	Unmounted bool `json:"unmounted,omitempty"`
}

// Snapshot is a ZFS snapshot of a dataset.
type Snapshot struct {
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
}

// Behavior holds the spec's choices about how the world around the host
// behaves: update servers, package repository, merge conflicts.
type Behavior struct {
	// Conflicts are files freebsd-update upgrade cannot merge.
	Conflicts []string `json:"conflicts,omitempty"`
	// Updates maps a release (14.3-RELEASE) to the newest patch level the
	// update servers offer for it.
	Updates map[string]int `json:"updates,omitempty"`
	// RepoOSVersion is the OSVERSION packages in the repository were
	// built for, per major version; 0 means "the running userland's".
	RepoOSVersion map[string]int `json:"repo_osversion,omitempty"`
	// RepoMissing are the packages the repository does not carry (spec
	// packages with not_in_repo).
	RepoMissing []string `json:"repo_missing,omitempty"`
	// Jailed makes the host report security.jail.jailed=1.
	Jailed bool `json:"jailed,omitempty"`
	// KernelConfigs are the kernel configurations besides GENERIC the
	// update servers carry, per release (14.2-RELEASE -> [MYKERNEL]).
	KernelConfigs map[string][]string `json:"kernel_configs,omitempty"`
	// Watchdog is the hardware watchdog driver the kernel attaches
	// (spec watchdog, watchdog.go); "" for none.
	Watchdog string `json:"watchdog,omitempty"`
}

// Command is one command the machine ran, kept for tests and `simhost state`.
type Command struct {
	N    int      `json:"n"`
	Argv []string `json:"argv"`
	Exit int      `json:"exit"`
	// Waiting: the command let other commands run and waits until it is
	// killed (a hang fault, a prompt no one answers); it started and has
	// not finished. Pid is its process when it runs as one.
	Waiting bool `json:"waiting,omitempty"`
	Pid     int  `json:"pid,omitempty"`
	// Beside lists the pids of waiting commands (above) still running
	// when this one started: on a real host they run beside it. A
	// SIGKILL of the program that started one does not end it, as
	// exit1() in sys/kern/kern_exit.c hands a dying process's children to
	// the reaper without a signal (a child in a session of its own gets
	// no SIGHUP from its parent's terminal either).
	Beside []int `json:"beside,omitempty"`
}

// disk finds a present or missing disk by name.
func (m *Model) disk(name string) *Disk {
	for _, d := range m.Disks {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// partition finds a partition by disk name and index.
func (m *Model) partition(disk string, index int) *Partition {
	d := m.disk(disk)
	if d == nil {
		return nil
	}
	for _, p := range d.Partitions {
		if p.Index == index {
			return p
		}
	}
	return nil
}

// pool finds a pool by name.
func (m *Model) pool(name string) *Pool {
	for _, p := range m.Pools {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// dataset finds a dataset by full name, with its pool.
func (m *Model) dataset(name string) (*Pool, *Dataset) {
	poolName, _, _ := strings.Cut(name, "/")
	p := m.pool(poolName)
	if p == nil {
		return nil, nil
	}
	for _, d := range p.Datasets {
		if d.Name == name {
			return p, d
		}
	}
	return p, nil
}

// bootPool is the pool holding the running (or, when off, the bootfs)
// root file system.
func (m *Model) bootPool() *Pool {
	if m.Running != nil {
		if p, _ := m.dataset(m.Running.BE); p != nil {
			return p
		}
	}
	for _, p := range m.Pools {
		if p.Bootfs != "" {
			return p
		}
	}
	if len(m.Pools) > 0 {
		return m.Pools[0]
	}
	return nil
}

// beRoot is the parent dataset of a pool's boot environments.
func beRoot(p *Pool) string { return p.Name + "/ROOT" }

// bootEnvironments lists the datasets directly below POOL/ROOT.
func (p *Pool) bootEnvironments() []*Dataset {
	var out []*Dataset
	prefix := beRoot(p) + "/"
	for _, d := range p.Datasets {
		if strings.HasPrefix(d.Name, prefix) && !strings.Contains(strings.TrimPrefix(d.Name, prefix), "/") {
			out = append(out, d)
		}
	}
	return out
}

// leaves returns the leaf vdevs of the pool in order.
func (p *Pool) leaves() []*Vdev {
	var out []*Vdev
	var walk func(v *Vdev)
	walk = func(v *Vdev) {
		if len(v.Children) == 0 && v.Type == "disk" {
			out = append(out, v)
			return
		}
		for _, c := range v.Children {
			walk(c)
		}
	}
	for _, v := range p.Vdevs {
		walk(v)
	}
	return out
}

// featureState returns enabled, active or disabled.
func (p *Pool) featureState(name string) string {
	if s, ok := p.Features[name]; ok {
		return s
	}
	return "disabled"
}

// activeFeatures lists the features active on the pool, sorted.
func (p *Pool) activeFeatures() []string {
	var out []string
	for n, s := range p.Features {
		if s == "active" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// leafState is the state of a leaf vdev given the disks present.
func (m *Model) leafState(v *Vdev) string {
	d := m.disk(v.Disk)
	if d == nil || d.Missing {
		return "UNAVAIL"
	}
	part := m.partition(v.Disk, v.Index)
	if part == nil || part.Type != "freebsd-zfs" {
		return "UNAVAIL"
	}
	if part.Corrupt != "" {
		return "FAULTED"
	}
	return "ONLINE"
}

// vdevState computes the state of any vdev from its leaves.
func (m *Model) vdevState(v *Vdev) string {
	if len(v.Children) == 0 {
		return m.leafState(v)
	}
	online := 0
	for _, c := range v.Children {
		if m.vdevState(c) == "ONLINE" {
			online++
		}
	}
	switch v.Type {
	case "mirror", "replacing": // vdev_mirror.c serves both
		switch {
		case online == len(v.Children):
			return "ONLINE"
		case online > 0:
			return "DEGRADED"
		}
		return "UNAVAIL"
	default: // raidzN
		parity := 1
		fmt.Sscanf(strings.TrimPrefix(v.Type, "raidz"), "%d", &parity)
		switch {
		case online == len(v.Children):
			return "ONLINE"
		case len(v.Children)-online <= parity:
			return "DEGRADED"
		}
		return "UNAVAIL"
	}
}

// poolState is the pool's health: ONLINE, DEGRADED or UNAVAIL.
func (m *Model) poolState(p *Pool) string {
	state := "ONLINE"
	for _, v := range p.Vdevs {
		switch m.vdevState(v) {
		case "DEGRADED":
			state = "DEGRADED"
		case "UNAVAIL", "FAULTED":
			return "UNAVAIL"
		}
	}
	return state
}

// efiEntry finds a UEFI boot entry by number.
func (f *Firmware) efiEntry(num int) *EFIEntry {
	for _, e := range f.Entries {
		if e.Num == num {
			return e
		}
	}
	return nil
}

// partitionByUUID finds a partition by its rawuuid.
func (m *Model) partitionByUUID(uuid string) (*Disk, *Partition) {
	for _, d := range m.Disks {
		for _, p := range d.Partitions {
			if strings.EqualFold(p.RawUUID, uuid) {
				return d, p
			}
		}
	}
	return nil, nil
}
