// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Spec is the short description a machine is made from (simhost new
// --spec FILE). Every field has a default; README.md documents them.
type Spec struct {
	// Preset is the bsdinstall disk layout: "bios" (GPT BIOS-only),
	// "bios+uefi" (GPT BIOS+UEFI) or "uefi" (GPT UEFI-only).
	Preset string `json:"preset"`
	// Release is the installed and running release, e.g. 13.2-RELEASE-p4.
	Release string `json:"release"`
	// Kernel is the installed kernel when it differs from Release.
	Kernel   string `json:"kernel,omitempty"`
	Arch     string `json:"arch,omitempty"`
	Hostname string `json:"hostname,omitempty"`
	// Disks is the number of disks (1 to 4); with more than one the pool
	// is a mirror of all of them (see Vdev).
	Disks int `json:"disks,omitempty"`
	// DiskNames overrides the disk names; DiskPrefix (ada, da, nda,
	// vtbd) is used otherwise.
	DiskNames  []string `json:"disk_names,omitempty"`
	DiskPrefix string   `json:"disk_prefix,omitempty"`
	// DiskSize is the size of each disk, like 40G.
	DiskSize string `json:"disk_size,omitempty"`
	// Vdev is the pool layout: mirror (default for several disks),
	// raidz1, or stripe.
	Vdev string `json:"vdev,omitempty"`
	// Naming is how pool members appear in zpool status: partition
	// (ada0p3), gpt-label (gpt/zfs0), gptid (gptid/UUID) or diskid
	// (diskid/DISK-SERIALp3).
	Naming string `json:"naming,omitempty"`
	// Geli puts every pool member on a GELI provider (.eli).
	Geli bool `json:"geli,omitempty"`
	// Firmware is what the machine boots with: BIOS or UEFI. The default
	// is BIOS for the bios preset and UEFI otherwise.
	Firmware string `json:"firmware,omitempty"`
	// ESPs says which ESPs the installer formatted: first (default, as
	// bsdinstall), all, or none.
	ESPs string `json:"esps,omitempty"`
	// ESPInFstab mounts the first ESP at /boot/efi through /etc/fstab;
	// the default follows the release.
	ESPInFstab *bool `json:"esp_in_fstab,omitempty"`
	// Pool is the pool name (zroot).
	Pool string `json:"pool,omitempty"`
	// PoolVersion makes a legacy pool (e.g. 15 or 28); 0 means what the
	// installing release creates.
	PoolVersion int `json:"pool_version,omitempty"`
	// PoolRelease is the release that created the pool (its enabled
	// features); it defaults to Release.
	PoolRelease string `json:"pool_release,omitempty"`
	// Features overrides feature states: name -> disabled, enabled, active.
	Features map[string]string `json:"features,omitempty"`
	// Compatibility is the pool's compatibility property (off).
	Compatibility string `json:"compatibility,omitempty"`
	// RootDataset is the boot environment's dataset; the default is
	// POOL/ROOT/default from 10.0 on and POOL before.
	RootDataset string `json:"root_dataset,omitempty"`
	// Packages are third-party packages beyond pkg itself; the default is
	// a small set. Use an empty list for none.
	Packages []PackageSpec `json:"packages,omitempty"`
	// NoPkg leaves pkg(8) uninstalled.
	NoPkg bool `json:"no_pkg,omitempty"`
	// Portmaster installs ports-mgmt/portmaster.
	Portmaster bool `json:"portmaster,omitempty"`
	// Pkgbase makes the base system packaged (FreeBSD-* packages).
	Pkgbase bool `json:"pkgbase,omitempty"`

	// Third-party packages and ports (pkg, portmaster).
	//
	// PkgVersion is the installed pkg(8), e.g. 1.20.9; the default is
	// the last pkg released before the release (pkgVersionFor).
	PkgVersion string `json:"pkg_version,omitempty"`
	// Ports makes the packages (portmaster included) built from the
	// ports tree, which is installed in /usr/ports: pkg records no
	// repository for them (pkg query %R: unknown-repository).
	Ports bool `json:"ports,omitempty"`
	// NoRepository disables the FreeBSD repository in
	// /usr/local/etc/pkg/repos/FreeBSD.conf, as ports-only hosts do.
	NoRepository bool `json:"no_repository,omitempty"`
	// Conflicts are files freebsd-update upgrade cannot merge.
	Conflicts []string `json:"conflicts,omitempty"`
	// Updates maps a release to the newest patch level on the update
	// servers, e.g. {"14.3-RELEASE": 6}.
	Updates map[string]int `json:"updates,omitempty"`
	// RepoOSVersion maps a major version ("14") to the OSVERSION its
	// packages were built for.
	RepoOSVersion map[string]int `json:"repo_osversion,omitempty"`
	Jailed        bool           `json:"jailed,omitempty"`
	// Faults are armed when the machine is made.
	Faults []*Fault `json:"faults,omitempty"`
	// Clock is the machine's time at creation (RFC 3339).
	Clock string `json:"clock,omitempty"`

	// Custom kernels (freebsd-update's handling of KERNCONF).
	// KernelIdent is the configuration the installed kernel was built
	// from (uname -i); GENERIC by default.
	KernelIdent string `json:"kernel_ident,omitempty"`
	// KernelConfigs are the kernel configurations besides GENERIC that the
	// update servers distribute for a release (none for any real amd64 or
	// arm64 release): {"13.4-RELEASE": ["MYKERNEL"]}.
	KernelConfigs map[string][]string `json:"kernel_configs,omitempty"`

	// Disks and pool members (see disks.go). Layouts lays out the named
	// disks partition by partition instead of the preset (any order,
	// indexes and GPT labels, crossed ones included). Resilvering names
	// disks whose member is being resilvered. Replaced are disks that died
	// and were replaced by a new disk at the same name.
	Layouts     map[string][]PartitionSpec `json:"layouts,omitempty"`
	Resilvering []string                   `json:"resilvering,omitempty"`
	Replaced    []Replacement              `json:"replaced,omitempty"`

	// Boot programs and firmware: every loader that can start the host.

	// Installed is the release bsdinstall installed the machine with when
	// it has been upgraded since: the disk layout, the ESPs and the pool
	// are that release's, /boot and the world are Release's (e.g.
	// 11.2-RELEASE: the 800K boot1.efifat ESPs).
	Installed string `json:"installed,omitempty"`
	// OtherDisks are disks outside the pool, each a GPT disk with a 260M
	// FAT32 ESP and nothing else (a boot SSD, another system's disk).
	OtherDisks []string `json:"other_disks,omitempty"`
	// ESPFiles are files put on ESPs after the install: another system's
	// boot program, an older FreeBSD loader, a loader.env.
	ESPFiles []ESPFile `json:"esp_files,omitempty"`
	// BootEntries are firmware boot entries added after the install.
	BootEntries []BootEntry `json:"boot_entries,omitempty"`
	// BootOrder lists entry labels in the order the firmware tries them;
	// entries left out follow in their own order.
	BootOrder []string `json:"boot_order,omitempty"`
	// BootCurrent is the label of the entry the running system was started
	// from, picked once in the firmware's boot menu (BootNext); the
	// default is whatever BootOrder starts.
	BootCurrent string `json:"boot_current,omitempty"`
	// FstabESP writes the /boot/efi line of /etc/fstab (instead of the
	// installer's); nil keeps the installer's.
	FstabESP *FstabESP `json:"fstab_esp,omitempty"`

	// Trial deadline (watchdog.go): Watchdog names the hardware watchdog
	// driver the kernel attaches (ichwd, wbwd, ...); none by default, as
	// on most virtual machines.
	Watchdog string `json:"watchdog,omitempty"`
}

// ESPFile is a file on the ESP of a disk (a pool disk or one of
// OtherDisks). Program is a boot program: loader.efi or boot1.efi of
// Release (default: the installed release), or another system's: grub,
// windows. Text is the content of any other file.
type ESPFile struct {
	Disk    string `json:"disk"`
	Path    string `json:"path"`
	Program string `json:"program,omitempty"`
	Release string `json:"release,omitempty"`
	Text    string `json:"text,omitempty"`
}

// BootEntry is a firmware boot entry for a file on a disk's ESP.
type BootEntry struct {
	Label    string `json:"label"`
	Disk     string `json:"disk"`
	Path     string `json:"path"`
	Inactive bool   `json:"inactive,omitempty"`
}

// FstabESP is the /etc/fstab line that mounts an ESP at /boot/efi: the
// ESP of Disk named by its GPT label (By "label", as bsdinstall writes
// it) or by its device (By "device": /dev/ada0p1).
type FstabESP struct {
	Disk   string `json:"disk"`
	By     string `json:"by,omitempty"`
	Failok bool   `json:"failok,omitempty"`
}

// PackageSpec is a third-party package to install.
type PackageSpec struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	// Libs are the base shared objects it links against, by short name
	// (libssl, libcrypto, libutil); default libc and libssl.
	Libs []string `json:"libs,omitempty"`
	// NotInRepo: the repository does not carry the package (any more):
	// its port was removed, or failed to build.
	NotInRepo bool `json:"not_in_repo,omitempty"`

	// Staged upgrades (staged.go): PostInstallOpens is a device the
	// package's POST-INSTALL script reads with a redirection (e.g.
	// /dev/random to make a key); a chroot without devfs lacks it.
	PostInstallOpens string `json:"post_install_opens,omitempty"`
}

// ReadSpec reads a JSON spec file.
func ReadSpec(path string) (Spec, error) {
	var s Spec
	data, err := os.ReadFile(path)
	if err != nil {
		return s, err
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return s, fmt.Errorf("spec %s: %w", path, err)
	}
	return s, nil
}

// kernelIdentRE is the form of a kernel configuration name (config(8)'s ident).
var kernelIdentRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// normalized fills defaults and checks the spec.
func (s Spec) normalized() (Spec, error) {
	switch strings.ToLower(s.Preset) {
	case "", "bios+uefi", "bios-uefi", "hybrid":
		s.Preset = "bios+uefi"
	case "bios", "bios-only":
		s.Preset = "bios"
	case "uefi", "uefi-only":
		s.Preset = "uefi"
	default:
		return s, fmt.Errorf("spec: unknown preset %q (want bios, bios+uefi or uefi)", s.Preset)
	}
	if s.Release == "" {
		s.Release = "14.2-RELEASE"
	}
	rel, err := ParseRelease(s.Release)
	if err != nil {
		return s, fmt.Errorf("spec: %w", err)
	}
	if !rel.Known() {
		return s, fmt.Errorf("spec: release %s is not one the simulated host knows (8.2 to 15.0)", rel)
	}
	if s.Preset != "bios" && !rel.Has(CapUEFI) {
		return s, fmt.Errorf("spec: %s cannot boot through UEFI; use the bios preset", rel)
	}
	inst := rel
	if s.Installed != "" {
		if inst, err = ParseRelease(s.Installed); err != nil {
			return s, fmt.Errorf("spec installed: %w", err)
		}
		if rel.Base().Compare(inst.Base()) < 0 {
			return s, fmt.Errorf("spec: installed %s is newer than release %s", inst, rel)
		}
		if s.Preset != "bios" && !inst.Has(CapUEFI) {
			return s, fmt.Errorf("spec: %s could not install a UEFI layout; use the bios preset", inst)
		}
		s.Installed = inst.String()
	}
	if s.Kernel != "" {
		if _, err := ParseRelease(s.Kernel); err != nil {
			return s, fmt.Errorf("spec kernel: %w", err)
		}
	}
	if s.Arch == "" {
		s.Arch = "amd64"
	}
	if s.Arch != "amd64" && s.Arch != "arm64" {
		return s, fmt.Errorf("spec: arch %q (want amd64 or arm64)", s.Arch)
	}
	if s.Arch == "arm64" && s.Preset != "uefi" {
		return s, fmt.Errorf("spec: arm64 machines boot through UEFI only; use the uefi preset")
	}
	if s.Hostname == "" {
		s.Hostname = "simhost"
	}
	if len(s.DiskNames) > 0 {
		s.Disks = len(s.DiskNames)
	}
	if s.Disks == 0 {
		s.Disks = 2
	}
	if s.Disks < 1 || s.Disks > 4 {
		return s, fmt.Errorf("spec: %d disks (want 1 to 4)", s.Disks)
	}
	if s.DiskPrefix == "" {
		s.DiskPrefix = "ada"
	}
	if len(s.DiskNames) == 0 {
		for i := 0; i < s.Disks; i++ {
			s.DiskNames = append(s.DiskNames, fmt.Sprintf("%s%d", s.DiskPrefix, i))
		}
	}
	if s.DiskSize == "" {
		s.DiskSize = "40G"
	}
	if _, err := parseSize(s.DiskSize); err != nil {
		return s, fmt.Errorf("spec disk_size: %w", err)
	}
	switch s.Vdev {
	case "":
		s.Vdev = "mirror"
		if s.Disks == 1 {
			s.Vdev = "stripe"
		}
	case "mirror", "raidz1", "stripe":
	default:
		return s, fmt.Errorf("spec: vdev %q (want mirror, raidz1 or stripe)", s.Vdev)
	}
	switch s.Naming {
	case "":
		s.Naming = "partition"
	case "partition", "gpt-label", "gptid", "diskid":
	default:
		return s, fmt.Errorf("spec: naming %q (want partition, gpt-label, gptid or diskid)", s.Naming)
	}
	switch strings.ToUpper(s.Firmware) {
	case "":
		s.Firmware = "UEFI"
		if s.Preset == "bios" {
			s.Firmware = "BIOS"
		}
	case "BIOS", "UEFI":
		s.Firmware = strings.ToUpper(s.Firmware)
	default:
		return s, fmt.Errorf("spec: firmware %q (want BIOS or UEFI)", s.Firmware)
	}
	if s.Firmware == "BIOS" && s.Preset == "uefi" {
		return s, fmt.Errorf("spec: a uefi-only layout has no BIOS boot code")
	}
	if s.Firmware == "UEFI" && s.Preset == "bios" {
		return s, fmt.Errorf("spec: a bios-only layout has no ESP")
	}
	switch s.ESPs {
	case "":
		s.ESPs = "first"
		if s.Preset != "bios" && !inst.AtLeast(12, 1) {
			// bsdinstall's zfsboot (zfs_create_diskpart) wrote
			// boot1.efifat onto the ESP of every disk before 12.1.
			s.ESPs = "all"
		}
	case "first", "all", "none":
	default:
		return s, fmt.Errorf("spec: esps %q (want first, all or none)", s.ESPs)
	}
	if s.Pool == "" {
		s.Pool = "zroot"
	}
	if s.PoolRelease == "" {
		s.PoolRelease = inst.Base().String()
	}
	if _, err := ParseRelease(s.PoolRelease); err != nil {
		return s, fmt.Errorf("spec pool_release: %w", err)
	}
	if s.Compatibility == "" {
		s.Compatibility = "off"
	}
	if s.RootDataset == "" {
		s.RootDataset = s.Pool
		if rel.AtLeast(10, 0) {
			s.RootDataset = s.Pool + "/ROOT/default"
		}
	}
	if s.Packages == nil {
		s.Packages = []PackageSpec{
			{Name: "sudo", Version: "1.9.16p2", Libs: []string{"libutil"}},
			{Name: "curl", Version: "8.11.1", Libs: []string{"libssl", "libcrypto"}},
		}
	}
	if s.PkgVersion != "" {
		if _, err := parsePkgVersion(s.PkgVersion); err != nil {
			return s, fmt.Errorf("spec pkg_version: %w", err)
		}
	}
	if s.Clock == "" {
		s.Clock = "2025-03-01T10:00:00Z"
	}
	if s.KernelIdent == "" {
		s.KernelIdent = GenericKernel
	}
	if !kernelIdentRE.MatchString(s.KernelIdent) {
		return s, fmt.Errorf("spec kernel_ident %q: want a kernel configuration name (letters, digits, _ and -), e.g. MYKERNEL", s.KernelIdent)
	}
	for k := range s.KernelConfigs {
		if _, err := ParseRelease(k); err != nil {
			return s, fmt.Errorf("spec kernel_configs: %w", err)
		}
	}
	if _, err := time.Parse(time.RFC3339, s.Clock); err != nil {
		return s, fmt.Errorf("spec clock: %w", err)
	}
	for k := range s.Updates {
		if _, err := ParseRelease(k); err != nil {
			return s, fmt.Errorf("spec updates: %w", err)
		}
	}
	for _, f := range s.Faults {
		if err := f.check(); err != nil {
			return s, fmt.Errorf("spec faults: %w", err)
		}
	}
	if err := s.checkDisks(); err != nil {
		return s, fmt.Errorf("spec: %w", err)
	}
	return s.normalizedBoot(inst)
}

// normalizedBoot checks the fields about boot programs and firmware;
// inst is the release the machine was installed with.
func (s Spec) normalizedBoot(inst Release) (Spec, error) {
	disks := map[string]bool{}
	for _, d := range s.DiskNames {
		disks[d] = true
	}
	for _, d := range s.OtherDisks {
		if disks[d] || d == "" {
			return s, fmt.Errorf("spec other_disks: %q is empty or named twice", d)
		}
		disks[d] = true
	}
	if len(s.OtherDisks) > 0 && s.Preset == "bios" {
		return s, fmt.Errorf("spec: other_disks carry an ESP; a bios layout has none")
	}
	for i, f := range s.ESPFiles {
		if !disks[f.Disk] {
			return s, fmt.Errorf("spec esp_files: no disk %q", f.Disk)
		}
		if cleanFAT(f.Path) == "" {
			return s, fmt.Errorf("spec esp_files: a file on %s needs a path", f.Disk)
		}
		switch f.Program {
		case "":
		case BlobLoaderEFI, BlobBoot1EFI:
			if f.Release == "" {
				f.Release = inst.String()
			}
			if _, err := ParseRelease(f.Release); err != nil {
				return s, fmt.Errorf("spec esp_files: %w", err)
			}
		case "grub", "windows":
		default:
			return s, fmt.Errorf("spec esp_files: program %q (want loader.efi, boot1.efi, grub or windows)", f.Program)
		}
		s.ESPFiles[i] = f
	}
	labels := map[string]bool{}
	for _, e := range s.BootEntries {
		if !disks[e.Disk] || e.Label == "" || cleanFAT(e.Path) == "" {
			return s, fmt.Errorf("spec boot_entries: %q needs a label, a disk of the spec and a path", e.Label)
		}
		labels[e.Label] = true
	}
	if s.Preset == "bios" && (len(s.BootEntries) > 0 || len(s.BootOrder) > 0 || s.BootCurrent != "") {
		return s, fmt.Errorf("spec: boot entries need a UEFI layout")
	}
	if f := s.FstabESP; f != nil {
		if !disks[f.Disk] {
			return s, fmt.Errorf("spec fstab_esp: no disk %q", f.Disk)
		}
		switch f.By {
		case "":
			f.By = "label"
		case "label", "device":
		default:
			return s, fmt.Errorf("spec fstab_esp: by %q (want label or device)", f.By)
		}
	}
	return s, nil
}

// parseSize reads sizes like 40G, 512M, 1T or a byte count.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult = 1 << 10
	case strings.HasSuffix(s, "M"):
		mult = 1 << 20
	case strings.HasSuffix(s, "G"):
		mult = 1 << 30
	case strings.HasSuffix(s, "T"):
		mult = 1 << 40
	}
	n, err := strconv.ParseInt(strings.TrimRight(s, "KMGT"), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// idSource derives stable identifiers (GUIDs, UUIDs, serials) from names,
// so that the same spec always makes the same machine.
type idSource struct{ seed string }

func (g idSource) u64(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(g.seed + "\x00" + name))
	v := h.Sum64()
	if v == 0 {
		v = 1
	}
	return v
}

func (g idSource) uuid(name string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], g.u64(name+"/a"))
	binary.BigEndian.PutUint64(b[8:], g.u64(name+"/b"))
	b[6] = b[6]&0x0f | 0x10 // time-based, as FreeBSD's uuidgen makes them
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func (g idSource) serial(name string) string {
	const digits = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
	v := g.u64(name)
	out := make([]byte, 12)
	for i := range out {
		out[i] = digits[v%uint64(len(digits))]
		v /= uint64(len(digits))
	}
	return "S" + string(out[:11])
}
