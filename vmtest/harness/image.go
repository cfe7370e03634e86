// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/disk"
	"github.com/diskfs/go-diskfs/filesystem"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// The hypervisors of the image back-end.
const (
	HypervisorQEMU  = "qemu"
	HypervisorBhyve = "bhyve"
)

// ImageOptions describe the real FreeBSD image back-end (back-end 3): an
// official FreeBSD amd64 ZFS VM image (BASIC-CLOUDINIT: nuageinit reads the
// seed disk at the first boot), booted by its own boot code under QEMU
// (SeaBIOS or OVMF) or bhyve (UEFI).
type ImageOptions struct {
	// Image is the image file (qcow2 or raw), never written: each
	// scenario boots a copy.
	Image string
	// Release is the image's release (14.3-RELEASE), read from its file
	// name when empty; a scenario whose machine runs another is skipped.
	Release string
	// Hypervisor is qemu (the default) or bhyve.
	Hypervisor string
	// QEMU and Accel are QEMU's binary and accelerator (tcg or kvm).
	QEMU, Accel string
	// OVMFCode and OVMFVars are OVMF's code and the variables template
	// (copied per guest) for uefi under QEMU; BhyveROM and BhyveVars the
	// same for bhyve.
	OVMFCode, OVMFVars    string
	BhyveROM, BhyveVars   string
	MemoryMB              int
	Zupgrade              string
	StallLimit, HardLimit time.Duration
}

// DefaultImageOptions are the paths of Debian's ovmf and FreeBSD's
// edk2-bhyve packages, TCG, 2 GiB, and the limits of a TCG guest.
func DefaultImageOptions(image, zupgrade string) ImageOptions {
	return ImageOptions{
		Image: image, Hypervisor: HypervisorQEMU, QEMU: "qemu-system-x86_64", Accel: "tcg",
		OVMFCode: "/usr/share/OVMF/OVMF_CODE_4M.fd", OVMFVars: "/usr/share/OVMF/OVMF_VARS_4M.fd",
		BhyveROM: "/usr/local/share/uefi-firmware/BHYVE_UEFI.fd", BhyveVars: "/usr/local/share/uefi-firmware/BHYVE_UEFI_VARS.fd",
		MemoryMB: 2048, Zupgrade: zupgrade, StallLimit: 5 * time.Minute, HardLimit: 20 * time.Minute,
	}
}

var imageRelease = regexp.MustCompile(`FreeBSD-(\d+\.\d+-(RELEASE|BETA\d*|RC\d*|STABLE|CURRENT))`)

// CheckImage fills in the release from the file name and refuses options
// that cannot work, saying what to give.
func (o *ImageOptions) CheckImage() error {
	if _, err := os.Stat(o.Image); err != nil {
		return fmt.Errorf("--image: %v", err)
	}
	if o.Release == "" {
		m := imageRelease.FindStringSubmatch(filepath.Base(o.Image))
		if m == nil {
			return fmt.Errorf("--image %s: the release is not in the file name (FreeBSD-14.3-RELEASE-amd64-...): give --image-release", o.Image)
		}
		o.Release = m[1]
	}
	if _, err := simhost.ParseRelease(o.Release); err != nil {
		return fmt.Errorf("--image-release: %v", err)
	}
	switch o.Hypervisor {
	case HypervisorQEMU, HypervisorBhyve:
	default:
		return fmt.Errorf("--hypervisor %q: want qemu or bhyve", o.Hypervisor)
	}
	return nil
}

// cannotRun says why a scenario cannot run on the image with the firmware
// ("" when it can): faults at simulated commands exist only in simhost,
// the image runs one release, bhyve boots it by UEFI only.
func (o *ImageOptions) cannotRun(sc *Scenario, firmware string) string {
	for _, f := range sc.Faults {
		switch {
		case f.Kind == KindPowerCut && f.Point == "":
			return "a power cut at a simulated command (" + f.Command + " " + f.Args + ") needs simhost"
		case f.Kind == KindReplaceDisk:
			return "replacing a disk needs simhost"
		case f.Point != "" && f.Boot > 0:
			return "a crash point in the run the boot hook resumes needs simhost"
		}
	}
	if o.Hypervisor == HypervisorBhyve && firmware == "bios" {
		return "bhyve boots the image by UEFI here (a BIOS boot would need bhyveload or CSM firmware)"
	}
	if sc.Machine.Release != "" && o.Release != "" {
		want, err1 := simhost.ParseRelease(sc.Machine.Release)
		have, err2 := simhost.ParseRelease(o.Release)
		if err1 == nil && err2 == nil && want.Base() != have.Base() {
			return fmt.Sprintf("the machine runs %s, the image %s", want.Base(), have.Base())
		}
	}
	return ""
}

//go:embed image-agent.sh
var imageAgent []byte

// seedUserData is nuageinit's user-data (a script, run once at the first
// boot): it installs zupgrade and the agent from the seed disk, makes the
// root pool a mirror onto the added disks, and powers off.
func seedUserData(mirrors []string) string {
	var b strings.Builder
	b.WriteString(`#!/bin/sh
# vmtest provisioning: run once by nuageinit at the first boot.
set -e
seed=/media/nuageinit
install -d /usr/local/sbin /usr/local/etc/rc.d
install -m 555 "$seed/zupgrade" /usr/local/sbin/zupgrade
install -m 555 "$seed/vmtest.rc" /usr/local/etc/rc.d/vmtest
sysrc vmtest_enable=YES
`)
	if len(mirrors) > 0 {
		b.WriteString(`pool=$(kenv -q vfs.root.mountfrom | sed -e 's/^zfs://' -e 's,/.*,,')
leaf=$(zpool list -vHP "$pool" | awk 'NR == 2 { print $1 }')
zidx=$(gpart show ada0 | awk '$4 == "freebsd-zfs" { print $3 }')
bidx=$(gpart show ada0 | awk '$4 == "freebsd-boot" { print $3 }')
eidx=$(gpart show ada0 | awk '$4 == "efi" { print $3 }')
`)
		for _, d := range mirrors {
			fmt.Fprintf(&b, `gpart backup ada0 | gpart restore -F %[1]s
zpool attach -w "$pool" "$leaf" /dev/%[1]sp"$zidx"
if [ -n "$bidx" ]; then gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i "$bidx" %[1]s; fi
if [ -n "$eidx" ]; then
	newfs_msdos -F 32 -c 1 /dev/%[1]sp"$eidx"
	mkdir -p /mnt/esp
	mount -t msdosfs /dev/%[1]sp"$eidx" /mnt/esp
	mkdir -p /mnt/esp/efi/boot /mnt/esp/efi/freebsd
	cp /boot/loader.efi /mnt/esp/efi/boot/bootx64.efi
	cp /boot/loader.efi /mnt/esp/efi/freebsd/loader.efi
	umount /mnt/esp
fi
`, d)
		}
	}
	b.WriteString("poweroff\n")
	return b.String()
}

// SeedFiles are the seed disk's files for a launch: nuageinit's
// meta-data and user-data (used at the first boot only), zupgrade and the
// agent, and the job (kind, args one a line, crash_at, crash_is_cut).
func SeedFiles(name string, mirrors []string, job Job, zupgrade []byte) (map[string][]byte, error) {
	for _, a := range job.Apply {
		if a == "" || strings.ContainsAny(a, "\x00\n") {
			return nil, fmt.Errorf("apply argument %q is empty or holds a NUL or newline", a)
		}
	}
	for _, d := range mirrors {
		if !regexp.MustCompile(`^ada[1-9][0-9]*$`).MatchString(d) {
			return nil, fmt.Errorf("mirror disk %q: want ada1, ada2, ...", d)
		}
	}
	kind := job.Kind
	if kind == JobObserve {
		kind = "observe"
	}
	files := map[string][]byte{
		"meta-data": []byte("instance-id: vmtest-" + name + "\nlocal-hostname: vmtest\n"),
		"user-data": []byte(seedUserData(mirrors)),
		"vmtest.rc": imageAgent,
		"zupgrade":  zupgrade,
		"kind":      []byte(kind + "\n"),
		"args":      []byte(strings.Join(job.Apply, "\n")),
		"crash_at":  []byte(job.CrashAt),
		"out/.keep": nil,
	}
	if len(job.Apply) > 0 {
		files["args"] = append(files["args"], '\n')
	}
	if job.CrashIsCut {
		files["crash_is_cut"] = []byte("yes\n")
	}
	return files, nil
}

// seedSize is the seed disk's size: zupgrade, the boot files the agent
// copies back, and room.
const seedSize = 96 << 20

// WriteSeedDisk writes a FAT32 image labelled cidata (which nuageinit
// looks for as /dev/msdosfs/cidata) holding the files.
func WriteSeedDisk(path string, files map[string][]byte) error {
	os.Remove(path)
	d, err := diskfs.Create(path, seedSize, diskfs.SectorSizeDefault)
	if err != nil {
		return err
	}
	if err := fillSeed(d, files); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}

func fillSeed(d *disk.Disk, files map[string][]byte) error {
	fsys, err := d.CreateFilesystem(disk.FilesystemSpec{Partition: 0, FSType: filesystem.TypeFat32, VolumeLabel: "cidata"})
	if err != nil {
		return err
	}
	for name, data := range files {
		p := "/" + name
		if dir := filepath.Dir(p); dir != "/" {
			if err := fsys.Mkdir(dir); err != nil {
				return fmt.Errorf("seed %s: %w", dir, err)
			}
		}
		f, err := fsys.OpenFile(p, os.O_CREATE|os.O_RDWR|os.O_TRUNC)
		if err != nil {
			return fmt.Errorf("seed %s: %w", name, err)
		}
		if _, err := f.Write(data); err != nil {
			f.Close()
			return fmt.Errorf("seed %s: %w", name, err)
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

// readSeedOut reads the agent's out/ directory from a seed disk image.
func readSeedOut(path string) (map[string][]byte, error) {
	d, err := diskfs.Open(path, diskfs.WithOpenMode(diskfs.ReadOnly))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	fsys, err := d.GetFilesystem(0)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	err = fs.WalkDir(fsys, "out", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := fsys.ReadFile(p)
		if err != nil {
			return err
		}
		out[strings.ToLower(strings.TrimPrefix(p, "out/"))] = data
		return nil
	})
	return out, err
}

// BhyveExit says what a bhyve(8) exit status means: 0 the guest
// rebooted, 1 it powered off, 2 it halted, 3 a triple fault, 4 an error.
func BhyveExit(code int) (down bool, err error) {
	switch code {
	case 0:
		return true, nil
	case 1, 2:
		return false, nil
	case 3:
		return false, errors.New("bhyve: the guest triple-faulted")
	}
	return false, fmt.Errorf("bhyve: exit %d (an error of bhyve)", code)
}

// ImageGuest is back-end 3: a copy of a real FreeBSD image, with blank
// disks added when the scenario's machine is a mirror, provisioned offline
// from a seed disk at its first boot.
type ImageGuest struct {
	o        ImageOptions
	dir      string
	sc       *Scenario
	firmware string
	// disks are the member disks, ada0 (the image's copy) first.
	disks   []string
	names   []string
	removed map[string]bool
	vars    string
	sock    string
	n       int
	// provisioned is true once the first boot installed the agent.
	provisioned bool
	// lastOut and lastNames are the last launch's out/ files and disks.
	lastOut     map[string][]byte
	lastNames   []string
	Retries     int
	BootToReady []time.Duration
}

// NewImageGuest copies the image (qcow2 overlay for QEMU, a sparse raw
// copy for bhyve), adds blank disks for a mirror of sc.Machine.Disks
// members, and copies the UEFI variables template.
func NewImageGuest(o ImageOptions, dir string, sc *Scenario, firmware string) (*ImageGuest, error) {
	g := &ImageGuest{o: o, dir: dir, sc: sc, firmware: firmware, removed: map[string]bool{}}
	size, err := imageSize(o.Image)
	if err != nil {
		return nil, err
	}
	n := max(sc.Machine.Disks, 1)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("ada%d", i)
		path := filepath.Join(dir, name+".raw")
		var cmd *exec.Cmd
		if i == 0 {
			cmd = exec.Command("qemu-img", "convert", "-O", "raw", o.Image, path)
		} else {
			cmd = exec.Command("qemu-img", "create", "-f", "raw", path, fmt.Sprint(size))
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
		}
		g.disks = append(g.disks, path)
		g.names = append(g.names, name)
	}
	if firmware == "uefi" {
		src := o.OVMFVars
		if o.Hypervisor == HypervisorBhyve {
			src = o.BhyveVars
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, fmt.Errorf("the UEFI variables template: %w", err)
		}
		g.vars = filepath.Join(dir, "vars.fd")
		if err := os.WriteFile(g.vars, data, 0o644); err != nil {
			return nil, err
		}
	}
	if g.sock, err = os.MkdirTemp("", "vmq"); err != nil {
		return nil, err
	}
	return g, nil
}

// imageSize is the image's virtual size in bytes (qemu-img info).
func imageSize(image string) (int64, error) {
	out, err := exec.Command("qemu-img", "info", "--output=json", image).Output()
	if err != nil {
		return 0, fmt.Errorf("qemu-img info %s: %v", image, err)
	}
	var info struct {
		VirtualSize int64 `json:"virtual-size"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		return 0, err
	}
	return info.VirtualSize, nil
}

// Name says the back-end, hypervisor, firmware and accelerator.
func (g *ImageGuest) Name() string {
	return fmt.Sprintf("image/%s/%s/%s", g.o.Hypervisor, g.firmware, strings.ToUpper(g.o.Accel))
}

// vmName is the bhyve VM's name: one per scenario directory, so that
// guests running at once never share one.
func (g *ImageGuest) vmName() string {
	return "vmtest-" + strings.ReplaceAll(filepath.Base(g.dir), "_", "-")
}

// Stats are the infrastructure retries and each launch's boot-to-ready.
func (g *ImageGuest) Stats() (int, []time.Duration) { return g.Retries, g.BootToReady }

// Close removes the QMP socket's directory.
func (g *ImageGuest) Close() { os.RemoveAll(g.sock) }

// present are the disks attached at this launch (the removed left out).
func (g *ImageGuest) present() (names, paths []string) {
	for i, n := range g.names {
		if !g.removed[n] {
			names = append(names, n)
			paths = append(paths, g.disks[i])
		}
	}
	return names, paths
}

// Argv is the hypervisor's command line for the disks and the seed.
func (g *ImageGuest) Argv(disks []string, seed, qmp string) ([]string, error) {
	if g.o.Hypervisor == HypervisorBhyve {
		return BhyveArgs(BhyveOptions{Name: g.vmName(), MemoryMB: g.o.MemoryMB,
			BootROM: g.o.BhyveROM, Vars: g.vars, Disks: append(append([]string(nil), disks...), seed)})
	}
	var qd []QEMUDisk
	for _, d := range disks {
		qd = append(qd, QEMUDisk{Path: d, Format: "raw", Interface: "ahci"})
	}
	qd = append(qd, QEMUDisk{Path: seed, Format: "raw", Interface: "ahci"})
	return QEMUArgs(QEMUOptions{Binary: g.o.QEMU, Accel: g.o.Accel, MemoryMB: g.o.MemoryMB,
		Firmware: g.firmware, OVMFCode: g.o.OVMFCode, OVMFVars: g.vars, Disks: qd, QMP: qmp, Serial: "stdio"})
}

// Launch runs the job: the first launch provisions the image first (one
// boot of its own, which powers off).
func (g *ImageGuest) Launch(ctx context.Context, job Job) (*JobResult, error) {
	for _, d := range job.Remove {
		g.removed[d] = true
	}
	if len(job.Arm) > 0 {
		return nil, errors.New("faults at simulated commands need simhost")
	}
	if !g.provisioned {
		var mirrors []string
		if len(g.names) > 1 {
			mirrors = g.names[1:]
		}
		if _, err := g.boot(ctx, Job{Kind: "provision"}, mirrors, nil); err != nil {
			return nil, fmt.Errorf("provisioning the image: %w", err)
		}
		g.provisioned = true
	}
	if job.Kind == JobObserve {
		return g.observe(ctx)
	}
	return g.boot(ctx, job, nil, nil)
}

// boot is one launch, tried again (counted apart) when the console stays
// empty: an infrastructure failure, not the scenario's.
func (g *ImageGuest) boot(ctx context.Context, job Job, mirrors, only []string) (*JobResult, error) {
	for attempt := 0; ; attempt++ {
		res, err := g.bootOnce(ctx, job, mirrors, only)
		if errors.Is(err, errNoConsole) && attempt < 2 {
			g.Retries++
			continue
		}
		return res, err
	}
}

// bootOnce is one launch: a fresh seed disk with the job, the hypervisor until
// it ends, then the agent's out/ read back from the seed disk. only, when
// set, are the disks attached (booting one disk alone).
func (g *ImageGuest) bootOnce(ctx context.Context, job Job, mirrors, only []string) (*JobResult, error) {
	zup, err := os.ReadFile(g.o.Zupgrade)
	if err != nil {
		return nil, err
	}
	files, err := SeedFiles(g.sc.Name, mirrors, job, zup)
	if err != nil {
		return nil, err
	}
	g.n++
	n := g.n
	seed := filepath.Join(g.dir, fmt.Sprintf("seed-%d.img", n))
	if err := WriteSeedDisk(seed, files); err != nil {
		return nil, err
	}
	names, paths := g.present()
	if only != nil {
		names, paths = nil, nil
		for i, nm := range g.names {
			if contains(only, nm) {
				names, paths = append(names, nm), append(paths, g.disks[i])
			}
		}
	}
	qmp := filepath.Join(g.sock, "qmp")
	os.Remove(qmp)
	argv, err := g.Argv(paths, seed, qmp)
	if err != nil {
		return nil, err
	}
	var rerun strings.Builder
	rerun.WriteString("#!/bin/sh\n# The launch again, on the disks as they are now, with its seed disk.\nexec")
	for _, a := range argv {
		rerun.WriteString(" " + shellQuote(a))
	}
	os.WriteFile(filepath.Join(g.dir, fmt.Sprintf("rerun-%d.sh", n)), []byte(rerun.String()+"\n"), 0o755)
	vm, err := startVM(g.dir, n, argv)
	if err != nil {
		return nil, err
	}
	defer vm.kill()
	cw := &ConsoleWatch{Log: vm.Log, StallLimit: g.o.StallLimit, HardLimit: g.o.HardLimit,
		OnPause: func() error {
			if g.o.Hypervisor == HypervisorBhyve {
				// bhyvectl's forced power-off is bhyve's power cut
				// (SIGTERM would be an ACPI shutdown).
				return exec.Command("bhyvectl", "--vm="+g.vmName(), "--force-poweroff").Run()
			}
			return freezeAndQuit(qmp)
		}}
	seen, err := cw.Watch(ctx, vm.Console)
	if seen.Ready {
		g.BootToReady = append(g.BootToReady, seen.ReadyAfter)
	}
	if err != nil {
		return nil, fmt.Errorf("launch %d: %w", n, err)
	}
	werr := vm.wait()
	if g.o.Hypervisor == HypervisorBhyve {
		// The VM outlives bhyve's process until it is destroyed.
		exec.Command("bhyvectl", "--destroy", "--vm="+g.vmName()).Run()
	}
	res := &JobResult{}
	if seen.Paused {
		res.Cut, res.Down, res.Exit = true, true, -1
		return res, nil
	}
	if g.o.Hypervisor == HypervisorBhyve {
		code := 0
		var ee *exec.ExitError
		if errors.As(werr, &ee) {
			code = ee.ExitCode()
		}
		if res.Down, err = BhyveExit(code); err != nil {
			return nil, fmt.Errorf("launch %d: %w\n%s", n, err, vm.stderr.String())
		}
	} else if werr != nil {
		return nil, fmt.Errorf("launch %d: %v", n, werr)
	}
	out, err := readSeedOut(seed)
	if err != nil {
		return nil, fmt.Errorf("launch %d: the seed disk's out/: %w", n, err)
	}
	if job.Kind == "provision" {
		return res, nil
	}
	res.Output = string(out["output"])
	if j := out["journal.json"]; len(j) > 0 {
		var st struct {
			Status string `json:"status"`
		}
		if err := json.Unmarshal(j, &st); err != nil {
			return nil, fmt.Errorf("launch %d: the journal: %v", n, err)
		}
		res.Journal = st.Status
	}
	if !seen.Result || res.Journal == "rebooting" {
		// zupgrade rebooted the machine (a checkpoint) before the agent
		// could power it off.
		res.Down = true
	}
	if job.Kind == JobBoot {
		res.Booted = seen.Ready
		if !seen.Ready {
			res.Reason = "the agent never came up; see " + vm.LogPath
		}
	}
	fmt.Sscan(string(out["exit"]), &res.Exit)
	res.Outcome = &Outcome{
		Kernel: strings.TrimSpace(string(out["kernel"])), World: strings.TrimSpace(string(out["world"])),
		Pool: strings.TrimSpace(string(out["pool"])), Journal: res.Journal, HookLeft: len(out["hook_left"]) > 0,
	}
	g.lastOut, g.lastNames = out, names
	return res, nil
}

// observe reads the end state: the agent's report, the boot code read
// from the disk images, and a boot from each disk alone.
func (g *ImageGuest) observe(ctx context.Context) (*JobResult, error) {
	res, err := g.boot(ctx, Job{Kind: JobObserve}, nil, nil)
	if err != nil {
		return nil, err
	}
	o := res.Outcome
	out, names := g.lastOut, g.lastNames
	ref := BootFiles{PMBR: out["boot/pmbr"], GPTZFSBoot: out["boot/gptzfsboot"], Loader: out["boot/loader.efi"]}
	images := map[string]string{}
	for i, nm := range g.names {
		if contains(names, nm) {
			images[nm] = g.disks[i]
		}
	}
	if o.BootCode, err = JudgeDiskImages(images, ref); err != nil {
		return nil, err
	}
	for _, nm := range names {
		r, err := g.boot(ctx, Job{Kind: JobObserve}, nil, []string{nm})
		if err != nil {
			return nil, err
		}
		if r.Outcome.Kernel == "" {
			o.DiskBoots = append(o.DiskBoots, nm+": does not boot")
			continue
		}
		o.DiskBoots = append(o.DiskBoots, fmt.Sprintf("%s: %s via %s", nm, r.Outcome.Kernel, nm))
	}
	// Last, once with every disk again, so that the pool resilvers what
	// the single-disk boots changed.
	if _, err := g.boot(ctx, Job{Kind: JobObserve}, nil, nil); err != nil {
		return nil, err
	}
	return &JobResult{Journal: res.Journal, Outcome: o}, nil
}

// ConsoleWatch follows a guest's serial console: every line to Log, the
// agent's markers noted, a pause handed to OnPause (which freezes and
// ends the VM), a stall limit (no output for that long) and a hard limit.
type ConsoleWatch struct {
	Log                   io.Writer
	StallLimit, HardLimit time.Duration
	OnPause               func() error
}

// ConsoleSeen is what the console showed.
type ConsoleSeen struct {
	Any, Ready, Paused, Result bool
	ReadyAfter                 time.Duration
	// Tail is the last lines, for errors.
	Tail []string
}

// Watch reads the console until it ends (the VM exited) and returns what
// it saw; an error when a limit struck or the agent reported one.
func (w *ConsoleWatch) Watch(ctx context.Context, console io.Reader) (ConsoleSeen, error) {
	var seen ConsoleSeen
	start := time.Now()
	lines := consoleLines(console, w.Log)
	stall := time.NewTimer(w.StallLimit)
	defer stall.Stop()
	hard := time.NewTimer(w.HardLimit)
	defer hard.Stop()
	tail := func() string { return strings.Join(seen.Tail, "\n") }
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				if !seen.Any {
					return seen, errNoConsole
				}
				return seen, nil
			}
			seen.Any = true
			seen.Tail = append(seen.Tail, l)
			if len(seen.Tail) > 30 {
				seen.Tail = seen.Tail[1:]
			}
			stall.Reset(w.StallLimit)
			switch {
			case strings.HasPrefix(l, markReady):
				seen.Ready, seen.ReadyAfter = true, time.Since(start)
			case strings.HasPrefix(l, markPause):
				seen.Paused = true
				if err := w.OnPause(); err != nil {
					return seen, fmt.Errorf("power cut: %w", err)
				}
			case strings.HasPrefix(l, "@@vmtest result"):
				seen.Result = true
			case strings.HasPrefix(l, "@@vmtest error"):
				return seen, fmt.Errorf("%s\n%s", l, tail())
			}
		case <-stall.C:
			if !seen.Any {
				return seen, fmt.Errorf("%w in %v", errNoConsole, w.StallLimit)
			}
			return seen, fmt.Errorf("the console was silent for %v (stall limit); last lines:\n%s", w.StallLimit, tail())
		case <-hard.C:
			return seen, fmt.Errorf("still running after %v (hard limit); last lines:\n%s", w.HardLimit, tail())
		case <-ctx.Done():
			return seen, fmt.Errorf("the scenario's time is up (%w); last lines:\n%s", ctx.Err(), tail())
		}
	}
}
