// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zupgrade/zupgrade/vmtest/simhost"
	"github.com/zupgrade/zupgrade/zpool"
)

// realZFSScenarioDir holds the scenarios run on real OpenZFS: their
// machines are the BIOS+UEFI mirror the real pool is made on, in the
// scenario's disk layout (bsdinstall's or one made by hand).
const realZFSScenarioDir = "../testdata/realzfs"

// loaderReads says whether release's boot code reads a pool on which
// feature is active, from simhost's feature table (stand/libsa/zfs/
// zfsimpl.c features_for_read, by release); known is false for a feature
// the table lacks.
func loaderReads(feature, release string) (reads, known bool) {
	f, ok := simhost.LookupFeature(feature)
	if !ok {
		return false, false
	}
	if f.ReadOnlyCompat {
		return true, true
	}
	if f.LoaderSince == "" {
		return false, true
	}
	since := simhost.MustRelease(f.LoaderSince + "-RELEASE")
	return simhost.MustRelease(release).AtLeast(since.Major, since.Minor), true
}

// upgradedForLoader checks the real pool after a zpool upgrade for
// release: every feature that release's boot code reads is enabled (the
// upgrade reached the real pool), and none it cannot read is active.
func upgradedForLoader(t *testing.T, p *parsed, release string) {
	t.Helper()
	for f, st := range p.props.Features() {
		reads, known := loaderReads(f, release)
		switch {
		case !known:
			t.Errorf("the real pool has feature %s, simhost's feature table lacks it", f)
		case reads && st == zpool.FeatureDisabled && simhost.KnownTo(f, simhost.MustRelease(release)):
			t.Errorf("feature %s, which %s's loader reads, is still disabled on the real pool: zupgrade's zpool upgrade did not reach it", f, release)
		case !reads && st == zpool.FeatureActive:
			t.Errorf("feature %s is active on the real pool; %s's loader cannot read it", f, release)
		}
	}
}

// knownTo checks the real pool after a zpool upgrade on release: the
// features the release's OpenZFS does not know (simhost's feature table:
// 14.2's OpenZFS 2.2 lacks fast_dedup and large_microzap, which the
// guest's OpenZFS 2.3 has, compatibility.d/openzfs-2.3 against
// openzfs-2.2) are still disabled on the real pool.
func knownTo(t *testing.T, p *parsed, l *zfsLab, release string) {
	t.Helper()
	r := simhost.MustRelease(release)
	for _, f := range l.profile(t, "openzfs-2.3") {
		if simhost.KnownTo(f, r) {
			continue
		}
		if st := p.props.Feature(f); st != zpool.FeatureDisabled {
			t.Errorf("feature %s is %s on the real pool; %s's OpenZFS does not know it", f, st, release)
		}
	}
}

// zupgradeBEs are the boot environments zupgrade made on the real pool.
func zupgradeBEs(p *parsed) []string {
	var out []string
	for _, fs := range p.gozfs.Filesystems {
		if strings.HasPrefix(fs.Name, "zroot/ROOT/zupgrade-") {
			out = append(out, fs.Name)
		}
	}
	return out
}

// upgradedOnce checks the real pool after one in-place upgrade to 14.2:
// its features for 14.2's loader, bootfs still the default BE, and the
// one backup boot environment bectl made.
func upgradedOnce(t *testing.T, p *parsed, l *zfsLab) {
	upgradedForLoader(t, p, "14.2-RELEASE")
	knownTo(t, p, l, "14.2-RELEASE")
	if b, _ := p.props.Bootfs(); b != "zroot/ROOT/default" {
		t.Errorf("bootfs %q, want zroot/ROOT/default (upgraded in place)", b)
	}
	bes := zupgradeBEs(p)
	if len(bes) != 1 {
		t.Errorf("boot environments made by bectl on the real pool: %v, want zupgrade's one backup", bes)
	}
	// What the real datasets hold: the running boot environment's was
	// the running system's root through the whole run, so what the run
	// wrote last (its journal, done, in /var/db/zupgrade inside the boot
	// environment) is in it, with 14.2's kernel; zupgrade's backup keeps
	// 13.4.
	want := map[string]string{
		"zroot/ROOT/default": "FreeBSD kernel 14.2-RELEASE amd64 journal done",
	}
	for _, be := range bes {
		want[be] = "FreeBSD kernel 13.4-RELEASE amd64 journal "
	}
	got := beContents(p)
	for be, w := range want {
		if !strings.HasPrefix(got[be], w) {
			t.Errorf("the real dataset %s holds %q, want %q (all: %q)", be, got[be], w, got)
		}
	}
}

// beContents maps each boot environment on the real pool to what its
// real dataset holds: its kernel's first line (beKernelsJob) and its
// journal's status in /var/db/zupgrade (beJournalsJob).
func beContents(p *parsed) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(p.beKernels), "\n") {
		if be, k, ok := strings.Cut(l, " "); ok {
			out[be] = k
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(p.beJournals), "\n") {
		if be, j, ok := strings.Cut(l, " "); ok {
			out[be] += " journal " + j
		}
	}
	return out
}

// origins maps each file system on the real pool to its origin ("" for
// none), as go-zfs reads them.
func origins(p *parsed) map[string]string {
	out := map[string]string{}
	for _, fs := range p.gozfs.Filesystems {
		out[fs.Name] = strings.TrimPrefix(fs.Origin, "-")
	}
	return out
}

// stagedBEs checks the boot environments on the real pool after a staged
// run to 14.2: bootfs is want, the boot environment 14.2-RELEASE exists
// beside default and no other, the one of the two that is not bootfs is
// the clone of a snapshot of the other (bectl create -r clones the
// running one; bectl activate promotes the clone: lib/libbe/be.c
// be_activate, zfs_promote), and the pool's features are as installed
// (a staged run leaves them to finalize).
func stagedBEs(t *testing.T, p *parsed, l *zfsLab, want string) {
	t.Helper()
	const def, staged = "zroot/ROOT/default", "zroot/ROOT/14.2-RELEASE"
	if b, _ := p.props.Bootfs(); b != want {
		t.Errorf("bootfs %q on the real pool, want %s", b, want)
	}
	o := origins(p)
	var bes []string
	for name := range o {
		if strings.HasPrefix(name, "zroot/ROOT/") {
			bes = append(bes, name)
		}
	}
	sort.Strings(bes)
	if strings.Join(bes, " ") != staged+" "+def {
		t.Errorf("boot environments on the real pool: %v, want %s and %s", bes, def, staged)
	}
	clone := def
	if want == def {
		clone = staged
	}
	if o[want] != "" || !strings.HasPrefix(o[clone], want+"@") {
		t.Errorf("origins on the real pool: %s %q, %s %q; want %s none and %s a clone of %s@...", want, o[want], clone, o[clone], want, clone, want)
	}
	if got := disabled(&p.props); strings.Join(got, " ") != strings.Join(l.disabled, " ") {
		t.Errorf("the real pool's disabled features changed: %v, installed %v; a staged run leaves them to finalize", got, l.disabled)
	}
	// What each real dataset holds: freebsd-update -b wrote 14.2 into the
	// mounted real clone, the old one keeps 13.4.
	kernels := staged + " FreeBSD kernel 14.2-RELEASE amd64\n" + def + " FreeBSD kernel 13.4-RELEASE amd64"
	if got := strings.TrimSpace(p.beKernels); got != kernels {
		t.Errorf("the kernels in the real boot environments' datasets:\n%s\nwant:\n%s", got, kernels)
	}
}

// realPoolChecks say, per scenario, what the real pool must show after
// the scenario, read by a guest of its own from the scenario's disks.
var realPoolChecks = map[string]func(t *testing.T, p *parsed, l *zfsLab){
	"bios-uefi-mirror-major": upgradedOnce,
	// The second ESP's real FAT and loader: checkRealESP, at the end.
	"esp-formatted-second-disk": upgradedOnce,
	"cut-during-zpool-upgrade":  upgradedOnce,
	"cut-before-zpool-upgrade":  upgradedOnce,
	"member-replaced-mid-run": func(t *testing.T, p *parsed, l *zfsLab) {
		upgradedOnce(t, p, l)
		if got := leafNames(&p.pool); strings.Join(got, " ") != "gpt/zfs0 gpt/zfs1" || p.pool.State != "ONLINE" {
			t.Errorf("the real pool after the replace: %s with members %v, want ONLINE gpt/zfs0 gpt/zfs1", p.pool.State, got)
		}
	},
	"member-missing-at-start": func(t *testing.T, p *parsed, l *zfsLab) {
		if got := disabled(&p.props); strings.Join(got, " ") != strings.Join(l.disabled, " ") {
			t.Errorf("the real pool's disabled features changed: %v, installed %v; a blocked plan writes nothing", got, l.disabled)
		}
		if bes := zupgradeBEs(p); len(bes) != 0 {
			t.Errorf("a blocked plan made boot environments %v", bes)
		}
		if p.pool.State != "DEGRADED" {
			t.Errorf("the real pool is %s with one member missing, want DEGRADED", p.pool.State)
		}
	},
	"staged-major": func(t *testing.T, p *parsed, l *zfsLab) {
		stagedBEs(t, p, l, "zroot/ROOT/14.2-RELEASE")
	},
	"staged-trial-fails": func(t *testing.T, p *parsed, l *zfsLab) {
		stagedBEs(t, p, l, "zroot/ROOT/default")
	},
	"compatibility-freebsd-profile": func(t *testing.T, p *parsed, l *zfsLab) {
		in := map[string]bool{}
		for _, f := range l.profile(t, "openzfs-2.1-freebsd") {
			in[f] = true
		}
		for f, st := range p.props.Features() {
			if st != zpool.FeatureDisabled && !in[f] {
				t.Errorf("feature %s is %s on the real pool, outside its compatibility profile openzfs-2.1-freebsd", f, st)
			}
		}
		if c := p.props.Compatibility(); strings.Join(c, ",") != "openzfs-2.1-freebsd" {
			t.Errorf("compatibility %v, want openzfs-2.1-freebsd kept", c)
		}
		if bes := zupgradeBEs(p); len(bes) != 1 {
			t.Errorf("boot environments made by bectl on the real pool: %v, want zupgrade's one backup", bes)
		}
	},
}

// beKernelsJob reports, per boot environment on the real pool, the
// first line of the kernel its real dataset holds (FreeBSD kernel REL
// ARCH), each mounted in turn (mount -t zfs: the one the import mounted
// already is mounted a second time, read-write as there).
const beKernelsJob = `bekernels() {
	mkdir -p /be
	for be in $(zfs list -H -o name -r zroot/ROOT | grep '^zroot/ROOT/'); do
		mount -t zfs "$be" /be || return 1
		printf '%s %s\n' "$be" "$(grep -m 1 '^FreeBSD kernel ' /be/boot/kernel/kernel)"
		umount /be || return 1
	done
}
sec be-kernels bekernels
`

// beJournalsJob reports, per boot environment on the real pool, the
// status of the journal its real dataset holds in /var/db/zupgrade
// (the top-level "status" of the indented JSON), "none" without one.
const beJournalsJob = `bejournals() {
	mkdir -p /be
	for be in $(zfs list -H -o name -r zroot/ROOT | grep '^zroot/ROOT/'); do
		mount -t zfs "$be" /be || return 1
		st=$(sed -n 's/^  "status": "\([a-z_]*\)",*$/\1/p' /be/var/db/zupgrade/journal.json 2>/dev/null)
		printf '%s %s\n' "$be" "${st:-none}"
		umount /be || return 1
	done
}
sec be-journals bejournals
`

// TestRealZFSScenarios runs the scenarios of testdata/realzfs through
// zupgrade apply in the Linux guest with real OpenZFS: simhost's zpool and
// zfs are the real ones on the real mirror (in each disk layout the
// scenarios use, made once), bectl's datasets are real, and what stays simulated is
// FreeBSD's alone. Each scenario also runs in process: the back-ends must
// reach the same end state; then the real pool is read again from the
// scenario's disks by a guest of its own. It runs beside the package's
// other guest tests (t.Parallel).
func TestRealZFSScenarios(t *testing.T) {
	if testing.Short() {
		t.Skip("boots Linux guests with OpenZFS under QEMU; not in -short")
	}
	t.Parallel()
	scs, err := LoadDir(realZFSScenarioDir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	l := newZFSLab(t, "vmtest-realzfs-")
	dir, zkit, assets := l.dir, l.kit, l.assets
	// The golden pool of each layout a scenario uses, bsdinstall's
	// first, all installed at once.
	layouts := []*DiskLayout{bsdinstallLayout}
	for _, sc := range scs {
		if layout := sc.layout(); !slices.Contains(layouts, layout) {
			layouts = append(layouts, layout)
		}
	}
	installs := l.install(t, layouts...)
	for _, layout := range layouts {
		checkInstalled(t, l, installs[layout.Name], l.golden[layout.Name])
	}
	if t.Failed() {
		return
	}
	t.Logf("the golden pool: %.1fs", time.Since(start).Seconds())
	b := binaries(t)
	gk, err := NewGuestKit(filepath.Join(dir), b)
	if err != nil {
		t.Fatal(err)
	}
	gk.boot = guestBootGate
	kit, err := gk.WithZFS(dir, assets, l.golden)
	if err != nil {
		t.Fatal(err)
	}
	// Two guests at a time (the build machine's two cores): the kit
	// staggers their boots.
	readPool := func(t *testing.T, name string, disks []ZFSDisk) *ZFSRun {
		n := l.next()
		ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
		defer cancel()
		r, err := zkit.Launch(ctx, dir, n, disks, importJob(disks)+reportJob+beKernelsJob+beJournalsJob)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: launch %d, boot-to-ready %.1fs, wall %.1fs", name, n, r.BootToReady.Seconds(), r.Wall.Seconds())
		return r
	}
	t.Run("scenarios", func(t *testing.T) {
		for _, sc := range scs {
			t.Run(sc.Name, func(t *testing.T) {
				t.Parallel()
				runRealZFSScenario(t, sc, kit, b, l, readPool)
			})
		}
	})
	msg := fmt.Sprintf("vmtest: %d scenarios on real OpenZFS %s, %d reports of the real pool: wall %.1fs in all", len(scs), assets.Versions["zfs-dkms"], l.launches(), time.Since(start).Seconds())
	t.Log(msg)
	fmt.Fprintln(os.Stderr, msg)
}

// runRealZFSScenario runs one scenario on real OpenZFS and in process,
// then checks the real pool (realPoolChecks) from a report launch.
func runRealZFSScenario(t *testing.T, sc *Scenario, kit *GuestKit, b *Binaries, l *zfsLab, readPool func(*testing.T, string, []ZFSDisk) *ZFSRun) {
	dir := l.dir
	sdir := filepath.Join(dir, sc.Name)
	if err := os.MkdirAll(sdir, 0o755); err != nil {
		t.Fatal(err)
	}
	refc := make(chan *Result, 1)
	refDir := t.TempDir()
	go func() {
		ip, err := NewInProcess(refDir, sc, b)
		if err != nil {
			t.Error(err)
			refc <- nil
			return
		}
		res, err := Execute(context.Background(), sc, ip)
		if err != nil {
			t.Error(err)
		}
		refc <- res
	}()
	defer func() { <-refc }() // never leave it running into TempDir's removal
	g, err := NewLinuxGuest(kit, sdir, sc, b)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	began := time.Now()
	// The limit runs from when the scenario's guest starts, not while it
	// waits for another guest's boot (t.Parallel).
	ctx, cancel := withScenarioLimit(context.Background(), 2*kit.ScenarioLimit)
	defer cancel()
	res, err := Execute(ctx, sc, g)
	if err != nil {
		if ctx.Err() != nil {
			t.Fatalf("%v: %v", err, context.Cause(ctx))
		}
		t.Fatal(err)
	}
	msg := fmt.Sprintf("%s %s with real OpenZFS: %d launches %s, %d boots, %d cuts, wall %.1fs, boot-to-ready %s",
		sc.Name, res.Backend, len(res.Launches), durations(res.Launches), res.Boots, res.Cuts, time.Since(began).Seconds(), durations(g.BootToReady))
	t.Log(msg)
	fmt.Fprintln(os.Stderr, "vmtest: "+msg)
	if !res.Passed() {
		t.Fatalf("%s:\n%s\nlog:\n%s", sc.Name, strings.Join(res.Failures, "\n"), res.Log)
	}
	ref := <-refc
	refc <- ref
	if ref != nil && (ref.Outcome.Kernel != res.Outcome.Kernel || ref.Outcome.Pool != res.Outcome.Pool || ref.Outcome.Journal != res.Outcome.Journal || ref.Boots != res.Boots) {
		t.Errorf("the back-ends differ:\n in-process: %d boots, %+v\n real OpenZFS: %d boots, %+v", ref.Boots, ref.Outcome, res.Boots, res.Outcome)
	}
	var disks []ZFSDisk
	for _, d := range g.pool {
		if !g.removed[d.Name] {
			disks = append(disks, d)
		}
	}
	if realBootenvScenarios[sc.Name] {
		checkRealBootenv(t, l, disks)
	}
	r := readPool(t, sc.Name+"-report", disks)
	check := realPoolChecks[sc.Name]
	if check == nil {
		t.Fatalf("no check of the real pool for scenario %s (realPoolChecks)", sc.Name)
	}
	p := parseReport(t, r)
	if s, err := r.Get("be-kernels"); err == nil && s.RC == 0 {
		p.beKernels = s.Out
	}
	if s, err := r.Get("be-journals"); err == nil && s.RC == 0 {
		p.beJournals = s.Out
	}
	membersNamed(t, p, g.pool)
	check(t, p, l)
}

// membersNamed checks that real zpool status names each member of the
// real pool as it was created on its disk (the disk's pool device:
// ada0p4 on bsdinstall's layout, gpt/zfs0 on the hand-made one), a
// missing member by the path it was last seen at.
func membersNamed(t *testing.T, p *parsed, disks []ZFSDisk) {
	t.Helper()
	var got, want []string
	for _, v := range p.pool.DataLeaves() {
		name := v.Name
		if v.Was != "" {
			name = strings.TrimPrefix(v.Was, "/dev/")
		}
		got = append(got, name)
	}
	want = poolDevs(disks)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the real pool's members are %v, want %v: the names the pool was created on", got, want)
	}
}
