// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
)

// GuestKit is what every Linux-guest scenario shares, made once: Debian's
// kernel (uncompressed, for the PVH entry), and the base initramfs with
// busybox, the modules, zupgrade and the guest agent.
type GuestKit struct {
	QEMU   string
	Accel  string
	Kernel string
	// Base is the base initramfs (BasePath, on disk); each launch appends
	// its job.
	Base     []byte
	BasePath string
	// StallLimit ends a launch whose console stays silent that long;
	// HardLimit bounds one launch, ScenarioLimit a whole scenario.
	StallLimit, HardLimit, ScenarioLimit time.Duration
	// boot staggers the guests' starts: one guest boots at a time, until
	// its agent is up (two TCG guests booting at once on two cores can
	// starve each other's timer calibration).
	boot *bootGate
	// zfs: the guests have real OpenZFS (WithZFS); golden are the raw
	// images of the pool's disks by disk layout, ada0 first, each guest's
	// start.
	zfs    bool
	golden map[string][]ZFSDisk
}

// CIEnv is set by .ci/run (and most CI services): there a Linux guest
// that cannot run is a failure, not a skip.
const CIEnv = "CI"

// The host programs the Linux guest needs, and the Debian package of each.
var guestTools = []struct{ prog, pkg string }{
	{"qemu-system-x86_64", "qemu-system-x86"},
	{"mkfs.ext4", "e2fsprogs"},
	{"debugfs", "e2fsprogs"},
	{"modprobe", "kmod"},
	{"xz", "xz-utils"},
}

// MissingGuestTools names what the host lacks to run the Linux guest, each
// with its Debian package; nil when everything is there.
func MissingGuestTools() []string {
	var missing []string
	for _, t := range guestTools {
		if _, err := exec.LookPath(t.prog); err != nil {
			missing = append(missing, fmt.Sprintf("%s (package %s)", t.prog, t.pkg))
		}
	}
	if !isStaticBusybox("/bin/busybox") {
		missing = append(missing, "a static /bin/busybox (package busybox-static)")
	}
	if _, _, err := findKernel(); err != nil {
		missing = append(missing, err.Error())
	}
	return missing
}

func isStaticBusybox(path string) bool {
	data, err := os.ReadFile(path)
	// A dynamically linked ELF names its interpreter (PT_INTERP).
	return err == nil && bytes.HasPrefix(data, []byte("\x7fELF")) && !bytes.Contains(data[:min(len(data), 4096)], []byte("/lib64/ld-linux"))
}

// findKernel finds the newest /boot/vmlinuz-KVER with its modules.
func findKernel() (vmlinuz, kver string, err error) {
	paths, _ := filepath.Glob("/boot/vmlinuz-*")
	sort.Strings(paths)
	for i := len(paths) - 1; i >= 0; i-- {
		k := strings.TrimPrefix(filepath.Base(paths[i]), "vmlinuz-")
		if _, err := os.Stat(filepath.Join("/lib/modules", k, "modules.dep")); err == nil {
			if f, err := os.Open(paths[i]); err == nil {
				f.Close()
				return paths[i], k, nil
			}
		}
	}
	return "", "", errors.New("a readable /boot/vmlinuz-KVER with /lib/modules/KVER (package linux-image-amd64)")
}

// NewGuestKit extracts the kernel into dir and builds the base initramfs.
func NewGuestKit(dir string, bins *Binaries) (*GuestKit, error) {
	kit := &GuestKit{QEMU: "qemu-system-x86_64", Accel: "tcg", Kernel: filepath.Join(dir, "vmlinux"),
		StallLimit: 4 * time.Minute, HardLimit: 8 * time.Minute, ScenarioLimit: 9 * time.Minute,
		boot: newBootGate()}
	_, files, mods, err := baseInitramfs(kit.Kernel)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, path string }{
		{"vmtest/zupgrade", bins.Zupgrade},
		{"vmtest/vmguest", bins.Guest},
	} {
		e, err := fileEntry(f.name, f.path, 0o755)
		if err != nil {
			return nil, err
		}
		files = append(files, e)
	}
	files = append(files,
		cpioEntry{Name: "init", Mode: modeFile | 0o755, Data: []byte(guestInit)},
		cpioEntry{Name: "vmtest/modules", Mode: modeFile | 0o644, Data: []byte(strings.Join(mods, "\n") + "\n")})
	var b bytes.Buffer
	if err := writeCPIO(&b, append(dirEntries(files), files...)); err != nil {
		return nil, err
	}
	kit.Base = b.Bytes()
	kit.BasePath = filepath.Join(dir, "base.cpio")
	if err := os.WriteFile(kit.BasePath, kit.Base, 0o644); err != nil {
		return nil, err
	}
	return kit, nil
}

// LinuxGuest is back-end 2: the machine lives on an ext4 file system of a
// virtio disk of a Linux guest under QEMU; every launch is one QEMU
// process, ended by the guest's reboot or power-off (-no-reboot), or by
// the harness at a power cut (QMP stop, then quit).
type LinuxGuest struct {
	kit  *GuestKit
	dir  string
	disk string
	sock string
	n    int
	// pool are the guest's own copies of the kit's pool disks (sparse raw
	// images, ada0 first) when it has real OpenZFS; removed are the
	// names of those pulled out (from the launch whose job removed them).
	pool    []ZFSDisk
	removed map[string]bool
	// setup is the first launch's script for the real pool (realPoolSetup).
	setup string
	// stateDir is zupgrade's state directory, a path of the machine.
	stateDir string
	// Retries counts infrastructure retries (no first console byte),
	// apart from test failures.
	Retries int
	// BootToReady is, per launch, the time from QEMU's start to the guest
	// agent's first line.
	BootToReady []time.Duration
}

// NewLinuxGuest makes the scenario's machine on the host with simhost and
// puts it on a fresh ext4 disk image in dir (which keeps the artefacts:
// console logs, argv and rerun scripts per launch, the disk).
func NewLinuxGuest(kit *GuestKit, dir string, sc *Scenario, bins *Binaries) (*LinuxGuest, error) {
	tree := filepath.Join(dir, "tree")
	root := filepath.Join(tree, strings.TrimPrefix(GuestRoot, GuestDisk+"/"))
	m, err := simhost.New(root, sc.Machine, bins.Simhost)
	if err != nil {
		return nil, fmt.Errorf("the scenario's machine: %w", err)
	}
	var pool []ZFSDisk
	var setup string
	if kit.zfs {
		golden := kit.golden[sc.layout().Name]
		if len(golden) == 0 {
			return nil, fmt.Errorf("the kit has no golden disks in the %s layout", sc.layout().Name)
		}
		if want := sc.layout().Preset; (want != "" && sc.Machine.Preset != want) || sc.Machine.Disks != len(golden) {
			return nil, fmt.Errorf("the real pool is a %d-disk mirror in the %s layout: the scenario's machine must have %d disks (and preset %s)", len(golden), sc.layout().Name, len(golden), want)
		}
		if pool, err = realPoolDisks(m, golden, dir); err != nil {
			return nil, err
		}
		if setup, err = realPoolSetup(m); err != nil {
			return nil, err
		}
	}
	disk := filepath.Join(dir, "disk.img")
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-L", "vmtest", "-d", tree, disk, "512M").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mkfs.ext4: %v\n%s", err, out)
	}
	if err := os.RemoveAll(tree); err != nil {
		return nil, err
	}
	// A unix socket path must be short (108 bytes): not under dir.
	sock, err := os.MkdirTemp("", "vmq")
	if err != nil {
		return nil, err
	}
	stateDir := sc.StateDir
	if stateDir == "" {
		stateDir = "/var/db/zupgrade"
	}
	return &LinuxGuest{kit: kit, dir: dir, disk: disk, sock: sock, pool: pool, setup: setup, stateDir: stateDir, removed: map[string]bool{}}, nil
}

// Name says the back-end and the accelerator, e.g. linux-guest/TCG.
func (g *LinuxGuest) Name() string { return "linux-guest/" + strings.ToUpper(g.kit.Accel) }

// Stats are the infrastructure retries and each launch's boot-to-ready.
func (g *LinuxGuest) Stats() (int, []time.Duration) { return g.Retries, g.BootToReady }

// Close removes the QMP socket's directory.
func (g *LinuxGuest) Close() { os.RemoveAll(g.sock) }

// errNoConsole is an infrastructure failure: QEMU printed nothing at all.
var errNoConsole = errors.New("no console output at all")

// Launch boots the guest with the job and waits for its end.
func (g *LinuxGuest) Launch(ctx context.Context, job Job) (*JobResult, error) {
	for attempt := 0; ; attempt++ {
		res, err := g.launchOnce(ctx, job)
		if err == nil {
			g.setup = "" // done once
		}
		if errors.Is(err, errNoConsole) && attempt < 2 {
			g.Retries++
			continue
		}
		return res, err
	}
}

// argv is the QEMU command line of launch n: the machine's ext4 disk
// first, then the pool disks present; table says, for the guest's init,
// which virtio disk is which FreeBSD disk.
func (g *LinuxGuest) argv(initrd, qmp string) (argv []string, table string, err error) {
	disks := []QEMUDisk{{Path: g.disk, Format: "raw", Interface: "virtio"}}
	var t strings.Builder
	for _, d := range g.pool {
		if g.removed[d.Name] {
			continue
		}
		line, err := d.tableLine(fmt.Sprintf("vd%c", 'a'+len(disks)))
		if err != nil {
			return nil, "", err
		}
		t.WriteString(line)
		disks = append(disks, QEMUDisk{Path: d.Path, Format: "raw", Interface: "virtio"})
	}
	argv, err = QEMUArgs(QEMUOptions{
		Binary: g.kit.QEMU, Accel: g.kit.Accel, MemoryMB: 1024,
		Kernel: g.kit.Kernel, Initrd: initrd,
		// no_timer_check: on a loaded host TCG can be too slow for the
		// kernel's IO-APIC timer check, which then panics at boot.
		Append: "console=ttyS0 quiet loglevel=1 panic=-1 no_timer_check rdinit=/init",
		Disks:  disks, QMP: qmp, Serial: "stdio",
	})
	return argv, t.String(), err
}

func (g *LinuxGuest) launchOnce(ctx context.Context, job Job) (*JobResult, error) {
	g.n++
	n := g.n
	jobData, err := json.Marshal(job)
	if err != nil {
		return nil, err
	}
	for _, d := range job.Remove {
		// The disk is pulled out before the job: the guest boots without it.
		g.removed[d] = true
	}
	if err := g.replaceRealDisks(job.Replace); err != nil {
		return nil, err
	}
	initrdPath := filepath.Join(g.dir, fmt.Sprintf("initrd-%d.cpio", n))
	qmp := filepath.Join(g.sock, "qmp")
	os.Remove(qmp)
	argv, table, err := g.argv(initrdPath, qmp)
	if err != nil {
		return nil, err
	}
	entries := []cpioEntry{{Name: strings.TrimPrefix(GuestJob, "/"), Mode: modeFile | 0o644, Data: jobData}}
	if g.kit.zfs {
		entries = append(entries, cpioEntry{Name: "vmtest/disks", Mode: modeFile | 0o644, Data: []byte(table)})
		if g.setup != "" {
			entries = append(entries, cpioEntry{Name: "vmtest/zfs-setup.sh", Mode: modeFile | 0o644, Data: []byte(g.setup)})
		}
	}
	var jobCPIO bytes.Buffer
	if err := writeCPIO(&jobCPIO, entries); err != nil {
		return nil, err
	}
	jobPath := filepath.Join(g.dir, fmt.Sprintf("job-%d.cpio", n))
	if err := os.WriteFile(jobPath, jobCPIO.Bytes(), 0o644); err != nil {
		return nil, err
	}
	initrd := bytes.NewBuffer(append([]byte(nil), g.kit.Base...))
	initrd.Write(jobCPIO.Bytes())
	if err := os.WriteFile(initrdPath, initrd.Bytes(), 0o644); err != nil {
		return nil, err
	}
	defer os.Remove(initrdPath)
	os.WriteFile(filepath.Join(g.dir, fmt.Sprintf("rerun-%d.sh", n)), []byte(rerunScript(argv, initrdPath, g.kit.BasePath, jobPath)), 0o755)
	booting, err := g.kit.boot.enter(ctx)
	if err != nil {
		return nil, fmt.Errorf("launch %d: waiting for another guest to boot: %w", n, err)
	}
	defer booting.leave()
	vm, err := startVM(g.dir, n, argv)
	if err != nil {
		return nil, err
	}
	defer vm.kill()
	start := vm.Started
	lines := consoleLines(vm.Console, vm.Log)
	exited := make(chan error, 1)

	res := &JobResult{}
	var out strings.Builder
	gotAny, gotResult, paused := false, false, false
	stall := time.NewTimer(g.kit.StallLimit)
	defer stall.Stop()
	hard := time.NewTimer(g.kit.HardLimit)
	defer hard.Stop()
	tail := func() string { return vm.tail(30) }
	for lines != nil {
		select {
		case l, ok := <-lines:
			if !ok {
				lines = nil
				break
			}
			gotAny = true
			stall.Reset(g.kit.StallLimit)
			switch {
			case strings.HasPrefix(l, markReady):
				g.BootToReady = append(g.BootToReady, time.Since(start))
				booting.leave()
			case strings.HasPrefix(l, markOutput):
				out.WriteString(strings.TrimPrefix(l, markOutput) + "\n")
			case strings.HasPrefix(l, markResult):
				if err := json.Unmarshal([]byte(strings.TrimPrefix(l, markResult)), res); err != nil {
					return nil, fmt.Errorf("launch %d: the guest's result: %v", n, err)
				}
				gotResult = true
			case strings.HasPrefix(l, markPause):
				// The guest is blocked at the cut: freeze it, then quit.
				paused = true
				if err := freezeAndQuit(qmp); err != nil {
					return nil, fmt.Errorf("launch %d: power cut: %v", n, err)
				}
			case strings.HasPrefix(l, "@@vmtest error"):
				return nil, fmt.Errorf("launch %d: %s\n%s", n, l, tail())
			}
		case <-stall.C:
			if !gotAny {
				return nil, fmt.Errorf("launch %d: %w in %v", n, errNoConsole, g.kit.StallLimit)
			}
			return nil, fmt.Errorf("launch %d: the console was silent for %v (stall limit); last lines:\n%s", n, g.kit.StallLimit, tail())
		case <-hard.C:
			return nil, fmt.Errorf("launch %d: still running after %v (hard limit); last lines:\n%s", n, g.kit.HardLimit, tail())
		case <-ctx.Done():
			return nil, fmt.Errorf("launch %d: the scenario's time is up (%w); last lines:\n%s", n, ctx.Err(), tail())
		}
	}
	go func() { exited <- vm.wait() }()
	select {
	case err := <-exited:
		if err != nil && !paused {
			return nil, fmt.Errorf("launch %d: %v", n, err)
		}
	case <-hard.C:
		return nil, fmt.Errorf("launch %d: qemu does not exit (hard limit)", n)
	}
	if !gotAny {
		return nil, fmt.Errorf("launch %d: %w\n%s", n, errNoConsole, vm.stderr.String())
	}
	disk, onDisk, err := g.diskJournal()
	if err != nil {
		return nil, fmt.Errorf("launch %d: %v", n, err)
	}
	switch {
	case paused:
		res = &JobResult{Cut: true, Down: true, Exit: -1, Journal: disk}
	case job.Kind == JobProbe && gotResult:
		return res, nil
	case !gotResult:
		return nil, fmt.Errorf("launch %d: the guest ended without a result; last lines:\n%s", n, tail())
	case onDisk && res.Journal != disk:
		return nil, fmt.Errorf("launch %d: the guest said the journal is %q, the disk image holds %q", n, res.Journal, disk)
	}
	if job.Kind == JobObserve && res.Outcome != nil {
		onDisk, err := g.diskBootCode(res.Outcome)
		if err != nil {
			return nil, fmt.Errorf("launch %d: %v", n, err)
		}
		if strings.Join(onDisk, "\n") != strings.Join(res.Outcome.BootCode, "\n") {
			return nil, fmt.Errorf("launch %d: the guest says the boot code is %q, its disk image holds %q", n, res.Outcome.BootCode, onDisk)
		}
		if len(g.pool) > 0 {
			if err := g.checkRealBootCode(res.Outcome); err != nil {
				return nil, fmt.Errorf("launch %d: %v", n, err)
			}
		}
	}
	res.Output = out.String()
	return res, nil
}

// debugfsCat reads a file of the machine from the disk image (debugfs,
// without mounting it).
func (g *LinuxGuest) debugfsCat(p string) ([]byte, error) {
	cmd := exec.Command("debugfs", "-R", "cat "+strings.TrimPrefix(GuestRoot, GuestDisk)+p, g.disk)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	data, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("debugfs %s: %v: %s", g.disk, err, errb.String())
	}
	return data, nil
}

// diskBootCode judges the boot code from the disk image itself: the
// machine's model (its disks' partitions and ESP files) and its /boot, as
// the guest left them on the disk.
func (g *LinuxGuest) diskBootCode(o *Outcome) ([]string, error) {
	model, err := g.diskModel()
	if err != nil {
		return nil, err
	}
	gz, loader, err := g.bootFiles(o)
	if err != nil {
		return nil, err
	}
	return BootCodeOf(model, gz, loader), nil
}

// diskModel reads the machine's model from the disk image.
func (g *LinuxGuest) diskModel() (*simhost.Model, error) {
	data, err := g.debugfsCat("/.simhost/machine.json")
	if err != nil {
		return nil, err
	}
	var model simhost.Model
	if err := json.Unmarshal(data, &model); err != nil {
		return nil, fmt.Errorf("the machine's model on the disk image: %v", err)
	}
	return &model, nil
}

// bootFiles are the running system's /boot/gptzfsboot and
// /boot/loader.efi: read from the disk image, or, where the running
// system's root is its real dataset (a guest with real OpenZFS:
// simhost's UseRealRoot), which the host cannot read, as the guest
// read them (Outcome.GPTZFSBoot, LoaderEFI).
func (g *LinuxGuest) bootFiles(o *Outcome) (gptzfsboot, loader []byte, err error) {
	if len(g.pool) > 0 {
		return o.GPTZFSBoot, o.LoaderEFI, nil
	}
	if gptzfsboot, err = g.debugfsCat("/boot/gptzfsboot"); err != nil {
		return nil, nil, err
	}
	loader, err = g.debugfsCat("/boot/loader.efi")
	return gptzfsboot, loader, err
}

// diskJournal reads the run's status from the disk image itself (debugfs,
// without mounting it): "" when there is no journal. onDisk is false
// when the state directory is in the running system's real root (a
// guest with real OpenZFS, the state directory inside the boot
// environment, e.g. /var/db/zupgrade), which the host cannot read: there
// the journal is ZFS's to keep, and the next launch reads it back.
func (g *LinuxGuest) diskJournal() (status string, onDisk bool, err error) {
	if len(g.pool) > 0 {
		model, err := g.diskModel()
		if err != nil {
			return "", false, err
		}
		if !model.OutsideBootEnvironment(g.stateDir) {
			return "", false, nil
		}
	}
	status, err = g.diskJournalStatus()
	return status, err == nil, err
}

// diskJournalStatus reads the journal's status from the ext4 disk image.
func (g *LinuxGuest) diskJournalStatus() (string, error) {
	path := strings.TrimPrefix(GuestRoot, GuestDisk) + g.stateDir + "/journal.json"
	cmd := exec.Command("debugfs", "-R", "cat "+path, g.disk)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	data, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("debugfs %s: %v: %s", g.disk, err, errb.String())
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return "", nil
	}
	var j struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return "", fmt.Errorf("the journal on the disk image: %v", err)
	}
	return j.Status, nil
}

// rerunScript is a shell script that boots the launch again by hand, on
// the disk image as it is now: the initramfs is the base one with the
// launch's job appended.
func rerunScript(argv []string, initrd, base, job string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\nset -e\ncat %s %s > %s\nexec", shellQuote(base), shellQuote(job), shellQuote(initrd))
	for _, a := range argv {
		b.WriteString(" " + shellQuote(a))
	}
	b.WriteString("\n")
	return b.String()
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '-' || r == '_' || r == '.' || r == ',' || r == '=' || r == ':' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// lastLines returns the last n lines of a file.
func lastLines(path string, n int) string {
	data, _ := os.ReadFile(path)
	l := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// AccelEnv chooses the accelerator: tcg (the default) or auto, which uses
// KVM only when a probe boot under KVM comes up within ProbeLimit. A
// /dev/kvm that opens is not enough: on a machine that is itself a
// paravirtual guest, KVM guests hang in the decompressor.
const AccelEnv = "VMTEST_ACCEL"

// ProbeLimit bounds the KVM probe boot (a working KVM boots the guest in
// about a second).
const ProbeLimit = 30 * time.Second

// ChooseAccel sets the kit's accelerator from $VMTEST_ACCEL, probing KVM
// when asked, and says what it chose and why.
func (kit *GuestKit) ChooseAccel(ctx context.Context, dir string) (string, error) {
	switch v := os.Getenv(AccelEnv); v {
	case "", "tcg":
		kit.Accel = "tcg"
		return "TCG (" + AccelEnv + "=auto probes KVM)", nil
	case "auto":
	default:
		return "", fmt.Errorf("%s=%q: want tcg or auto", AccelEnv, v)
	}
	kit.Accel = "tcg"
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return "TCG (/dev/kvm: " + err.Error() + ")", nil
	}
	f.Close()
	probe := *kit
	probe.Accel, probe.StallLimit, probe.HardLimit = "kvm", ProbeLimit, ProbeLimit
	g, err := newProbeGuest(&probe, dir)
	if err != nil {
		return "", err
	}
	defer g.Close()
	if _, err := g.launchOnce(ctx, Job{Kind: JobProbe}); err != nil {
		return "TCG (the KVM probe boot failed: " + firstLine(err.Error()) + ")", nil
	}
	kit.Accel = "kvm"
	return "KVM (a probe boot came up)", nil
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// newProbeGuest is a guest with an empty disk, for probe launches.
func newProbeGuest(kit *GuestKit, dir string) (*LinuxGuest, error) {
	disk := filepath.Join(dir, "probe.img")
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", disk, "8M").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mkfs.ext4: %v\n%s", err, out)
	}
	sock, err := os.MkdirTemp("", "vmq")
	if err != nil {
		return nil, err
	}
	return &LinuxGuest{kit: kit, dir: dir, disk: disk, sock: sock}, nil
}
