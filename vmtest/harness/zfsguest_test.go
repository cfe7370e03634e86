// SPDX-License-Identifier: BSD-2-Clause

package harness

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zupgrade/zupgrade/vmtest/guestzfs"
	"github.com/zupgrade/zupgrade/zpool"
)

// ZFSCaptureEnv names a directory where TestRealOpenZFSGuest writes what
// real zpool and zfs printed, one file per launch and section, to be
// compared with the FreeBSD fixtures.
const ZFSCaptureEnv = "VMTEST_ZFS_CAPTURE"

// zfsLab is the shared state of the tests on real OpenZFS: the kit, the
// golden disks made once per disk layout, and a launch counter for
// artefact names.
type zfsLab struct {
	kit    *ZFSKit
	assets *guestzfs.Assets
	dir    string
	golden map[string][]ZFSDisk
	// mu guards n, counted by launches that run at once.
	mu sync.Mutex
	n  int
	// disabled are the installed pool's disabled features, sorted.
	disabled []string
}

// next numbers a launch: its artefacts are console-N.log and the like.
func (l *zfsLab) next() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	return l.n
}

// launches is how many launches the lab numbered.
func (l *zfsLab) launches() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// launch runs one job on disks and fails t on an infrastructure error;
// the console logs stay in the lab's directory.
func (l *zfsLab) launch(t *testing.T, name string, disks []ZFSDisk, job string) *ZFSRun {
	t.Helper()
	r, err := l.run(name, disks, job)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: launch %d, boot-to-ready %.1fs, wall %.1fs", name, r.n, r.BootToReady.Seconds(), r.Wall.Seconds())
	return r.ZFSRun
}

// labRun is a launch of the lab with its number.
type labRun struct {
	*ZFSRun
	n int
}

// run is launch without a test: it returns the infrastructure error
// instead (named), so that a goroutine beside the test can run it.
func (l *zfsLab) run(name string, disks []ZFSDisk, job string) (labRun, error) {
	n := l.next()
	ctx, cancel := context.WithTimeout(context.Background(), 9*time.Minute)
	defer cancel()
	r, err := l.kit.Launch(ctx, l.dir, n, disks, job)
	if err != nil {
		return labRun{}, fmt.Errorf("%s: %v", name, err)
	}
	if d := os.Getenv(ZFSCaptureEnv); d != "" {
		for s, sec := range r.Sections {
			os.MkdirAll(d, 0o755)
			os.WriteFile(filepath.Join(d, fmt.Sprintf("%s-%s.txt", name, s)), []byte(sec.Out), 0o644)
		}
	}
	return labRun{r, n}, nil
}

// ok returns a section's output, failing unless the command exited 0.
func ok(t *testing.T, r *ZFSRun, name string) string {
	t.Helper()
	s, err := r.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	if s.RC != 0 {
		t.Fatalf("%s exited %d:\n%s", name, s.RC, s.Out)
	}
	return s.Out
}

// overlays gives a subtest its own copies of the golden disks of the
// bsdinstall layout.
func (l *zfsLab) overlays(t *testing.T) []ZFSDisk {
	var o []ZFSDisk
	for _, g := range l.golden[bsdinstallLayout.Name] {
		d := g.at(filepath.Join(t.TempDir(), g.Name+".qcow2"))
		if err := Overlay(g.Path, d.Path); err != nil {
			t.Fatal(err)
		}
		o = append(o, d)
	}
	return o
}

// importJob imports zroot from the pool partitions of the disks present,
// each offered under all its names (its FreeBSD name and its GPT label:
// zpool import keeps the one the pool was created on, linkDisks), under
// the altroot /mnt as a FreeBSD installer or rescue shell does.
func importJob(disks []ZFSDisk) string {
	var b strings.Builder
	b.WriteString("sec import zpool import")
	for _, d := range disks {
		for _, n := range d.poolNames() {
			fmt.Fprintf(&b, " -d /dev/%s", n)
		}
	}
	b.WriteString(" -R /mnt zroot\n")
	return b.String()
}

// poolDevs are the pool devices of disks, in order.
func poolDevs(disks []ZFSDisk) []string {
	var out []string
	for _, d := range disks {
		out = append(out, d.poolDev())
	}
	return out
}

// reportJob prints what zupgrade reads (facts/gather.go: zpool status,
// zpool get -H -p all, zpool upgrade, zfs upgrade) and go-zfs's view.
const reportJob = `sec status zpool status
sec get zpool get -H -p all
sec upgrade-list zpool upgrade
sec zfs-upgrade zfs upgrade
sec zfs-list zfs list -H -o name,mountpoint,canmount
sec gozfs /vmtest/gozfsreport
`

// installJob lays zroot out as bsdinstall does on a two-disk mirror
// (freebsd-src usr.sbin/bsdinstall/scripts/zfsboot: zpool create with
// -O compress=lz4 -O atime=off -m none, the ZFSBOOT_DATASETS list, bootfs
// on ROOT/default) over the disks' pool devices (bsdinstall's device
// names, or the labels a hand-made layout's admin names), created with
// the features of OpenZFS 2.1 as FreeBSD 13 made it
// (compatibility=openzfs-2.1-freebsd), then with the property off again
// as on a pool FreeBSD 13 installed: zpool upgrade has the newer features
// to enable.
func installJob(disks []ZFSDisk) string {
	var devs []string
	for _, d := range poolDevs(disks) {
		devs = append(devs, "/dev/"+d)
	}
	return "sec create zpool create -o altroot=/mnt -o compatibility=openzfs-2.1-freebsd -O compress=lz4 -O atime=off -m none -f zroot mirror " + strings.Join(devs, " ") + "\n" + datasetsJob
}

// datasetsJob is the rest of installJob: the datasets, bootfs, the
// compatibility property off, the report and the export.
const datasetsJob = `zfs create -o mountpoint=none zroot/ROOT
zfs create -o mountpoint=/ zroot/ROOT/default
zfs create -o mountpoint=/home zroot/home
zfs create -o mountpoint=/tmp -o exec=on -o setuid=off zroot/tmp
zfs create -o mountpoint=/usr -o canmount=off zroot/usr
zfs create -o setuid=off zroot/usr/ports
zfs create zroot/usr/src
zfs create -o mountpoint=/var -o canmount=off zroot/var
zfs create -o exec=off -o setuid=off zroot/var/audit
zfs create -o exec=off -o setuid=off zroot/var/crash
zfs create -o exec=off -o setuid=off zroot/var/log
zfs create -o atime=on zroot/var/mail
zfs create -o setuid=off zroot/var/tmp
sec bootfs zpool set bootfs=zroot/ROOT/default zroot
echo default > /mnt/be-name
sec compat-off zpool set compatibility=off zroot
` + reportJob + `sec export zpool export zroot
`

// TestRealOpenZFSGuest runs real OpenZFS 2.3 (Debian's zfs-dkms, built for
// the guest kernel) on real GPT disks with FreeBSD partition types in the
// Linux guest: a bsdinstall mirror made once, then on copies of it a
// zpool upgrade booted from each disk alone, a power cut during zpool
// upgrade, a compatibility profile and a member replaced, each on copies
// of its own and so side by side (t.Parallel, as many at once as
// -parallel lets run). zupgrade's zpool parsers read everything real
// zpool prints, and go-zfs reads the pools independently. It runs beside
// the package's other guest tests (t.Parallel).
func TestRealOpenZFSGuest(t *testing.T) {
	if testing.Short() {
		t.Skip("boots Linux guests with OpenZFS under QEMU; not in -short")
	}
	t.Parallel()
	start := time.Now()
	l := newZFSLab(t, "vmtest-zfs-")
	installs := l.install(t, bsdinstallLayout)
	t.Run("bsdinstall-mirror", func(t *testing.T) {
		checkInstalled(t, l, installs[bsdinstallLayout.Name], l.golden[bsdinstallLayout.Name])
	})
	if t.Failed() {
		return
	}
	// The summary once the parallel subtests below are done too.
	t.Cleanup(func() {
		msg := fmt.Sprintf("vmtest: real OpenZFS %s on %s, %s: %d launches, wall %.1fs", l.assets.Versions["zfs-dkms"], l.assets.Kernel, "linux-guest/TCG", l.launches(), time.Since(start).Seconds())
		t.Log(msg)
		fmt.Fprintln(os.Stderr, msg)
	})
	for _, sub := range []struct {
		name string
		run  func(*testing.T, *zfsLab)
	}{
		{"upgrade-then-each-disk-alone", upgradeEachDiskAlone},
		{"cut-during-zpool-upgrade", cutDuringUpgrade},
		{"compatibility-profile", compatibilityProfile},
		{"member-replaced-and-resilvered", replaceMember},
	} {
		t.Run(sub.name, func(t *testing.T) {
			t.Parallel()
			sub.run(t, l)
		})
	}
}

// newZFSLab sets up what the tests on real OpenZFS share: it skips the
// test (fails it in CI) when the host lacks the guest's tools or the
// OpenZFS assets, builds go-zfs's report program and the ZFS kit in a
// directory of its own (kept when the test fails).
func newZFSLab(t *testing.T, prefix string) *zfsLab {
	missing := append(MissingGuestTools(), MissingZFSDiskTools()...)
	var assets *guestzfs.Assets
	if len(missing) == 0 {
		_, kver, _ := findKernel()
		a, err := guestzfs.Find(context.Background(), kver)
		if err != nil {
			missing = append(missing, err.Error())
		}
		assets = a
	}
	needTools(t, "the OpenZFS guest needs: ", missing)
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("VMTEST_KEEP") == "always" {
			t.Logf("artefacts kept in %s (console-N.log, argv-N.txt, job-N.sh)", dir)
			return
		}
		os.RemoveAll(dir)
	})
	report := filepath.Join(dir, "gozfsreport")
	build := exec.Command("go", "build", "-o", report, "github.com/zupgrade/zupgrade/vmtest/guestzfs/cmd/gozfsreport")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build gozfsreport: %v\n%s", err, out)
	}
	kit, err := NewZFSKit(dir, assets, report)
	if err != nil {
		t.Fatal(err)
	}
	return &zfsLab{kit: kit, assets: assets, dir: dir, golden: map[string][]ZFSDisk{}}
}

// install makes the two golden disks of each layout (ada0 and ada1),
// reads their partitions back from their real GPTs, and installs the
// mirror on them (installJob), the layouts' guests at once, as many as
// -parallel lets tests run at once (each guest is a pool of its own, on
// disks of its own); it returns what each install launch printed, by
// layout name, and fails t on an infrastructure error of any of them.
func (l *zfsLab) install(t *testing.T, layouts ...*DiskLayout) map[string]*ZFSRun {
	t.Helper()
	type done struct {
		layout string
		r      labRun
		err    error
	}
	for _, layout := range layouts {
		l.golden[layout.Name] = makeGoldenDisks(t, l.dir, "golden-"+layout.Name+"-", layout)
	}
	slots := make(chan struct{}, parallelFlag())
	c := make(chan done, len(layouts))
	for _, layout := range layouts {
		disks := l.golden[layout.Name]
		go func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			r, err := l.run("install-"+layout.Name, disks, installJob(disks))
			c <- done{layout.Name, r, err}
		}()
	}
	runs := map[string]*ZFSRun{}
	for range layouts {
		d := <-c
		if d.err != nil {
			t.Error(d.err)
			continue
		}
		t.Logf("install-%s: launch %d, boot-to-ready %.1fs, wall %.1fs", d.layout, d.r.n, d.r.BootToReady.Seconds(), d.r.Wall.Seconds())
		runs[d.layout] = d.r.ZFSRun
	}
	if t.Failed() {
		t.FailNow()
	}
	return runs
}

// parallelFlag is go test's -parallel: how many tests (here: guests) run
// at once; GOMAXPROCS by default.
func parallelFlag() int {
	if f := flag.Lookup("test.parallel"); f != nil {
		if g, ok := f.Value.(flag.Getter); ok {
			if n, ok := g.Get().(int); ok && n > 0 {
				return n
			}
		}
	}
	return max(runtime.GOMAXPROCS(0), 1)
}

// parsed is what zupgrade's parsers and go-zfs make of a report.
type parsed struct {
	pool    zpool.Pool
	props   zpool.Properties
	upgrade zpool.UpgradeList
	gozfs   struct {
		Pools []struct {
			Name, Health string
			Size, Free   uint64
		} `json:"pools"`
		Filesystems []struct{ Name, Mountpoint, Origin string } `json:"filesystems"`
	}
	// beKernels is, when the report has it, one line per boot
	// environment: its dataset and its kernel's first line (beKernelsJob).
	beKernels string
	// beJournals is, when the report has it, one line per boot
	// environment: its dataset and its journal's status (beJournalsJob).
	beJournals string
}

// parseReport reads a run's report sections with zupgrade's parsers; any
// parse error fails the test: real zpool's output must be read.
func parseReport(t *testing.T, r *ZFSRun) *parsed {
	t.Helper()
	var p parsed
	pools, err := zpool.ParseStatus(ok(t, r, "status"))
	if err != nil || len(pools) != 1 {
		t.Fatalf("zpool.ParseStatus: %d pools, %v\n%s", len(pools), err, ok(t, r, "status"))
	}
	p.pool = pools[0]
	props, err := zpool.ParseProperties(ok(t, r, "get"))
	if err != nil || len(props) != 1 {
		t.Fatalf("zpool.ParseProperties: %d pools, %v", len(props), err)
	}
	p.props = props[0]
	if p.upgrade, err = zpool.ParseUpgradeList(ok(t, r, "upgrade-list")); err != nil {
		t.Fatalf("zpool.ParseUpgradeList: %v\n%s", err, ok(t, r, "upgrade-list"))
	}
	if _, err := zpool.ParseFilesystemUpgradeList(ok(t, r, "zfs-upgrade")); err != nil {
		t.Fatalf("zpool.ParseFilesystemUpgradeList: %v\n%s", err, ok(t, r, "zfs-upgrade"))
	}
	if err := json.Unmarshal([]byte(ok(t, r, "gozfs")), &p.gozfs); err != nil {
		t.Fatalf("go-zfs's report: %v\n%s", err, ok(t, r, "gozfs"))
	}
	return &p
}

// leafNames are the names of a pool's data leaves, sorted.
func leafNames(p *zpool.Pool) []string {
	var out []string
	for _, v := range p.DataLeaves() {
		out = append(out, v.Name)
	}
	sort.Strings(out)
	return out
}

// disabled are the features `zpool get` says are disabled, sorted.
func disabled(p *zpool.Properties) []string {
	var out []string
	for f, s := range p.Features() {
		if s == zpool.FeatureDisabled {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return out
}

// profile reads a compatibility file of the assets with zupgrade's parser.
func (l *zfsLab) profile(t *testing.T, name string) []string {
	t.Helper()
	path := filepath.Join(l.assets.Root, "usr/share/zfs/compatibility.d", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := zpool.ParseCompatibilityFile(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// checkInstalled checks the golden pool installed on disks: healthy, its
// members named as the pool was created on them, bootfs, and the
// features of OpenZFS 2.1 on FreeBSD.
func checkInstalled(t *testing.T, l *zfsLab, r *ZFSRun, disks []ZFSDisk) {
	for _, s := range []string{"create", "bootfs", "compat-off", "export"} {
		ok(t, r, s)
	}
	p := parseReport(t, r)
	if p.pool.Name != "zroot" || p.pool.State != "ONLINE" || len(p.pool.Problems()) > 0 {
		t.Errorf("pool %s state %s, problems %v; want zroot ONLINE and healthy", p.pool.Name, p.pool.State, p.pool.Problems())
	}
	if got, want := leafNames(&p.pool), poolDevs(disks); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("mirror members %v, want the FreeBSD names %v", got, want)
	}
	if p.pool.Root == nil || len(p.pool.Root.Children) != 1 || p.pool.Root.Children[0].Kind != zpool.KindMirror {
		t.Errorf("config tree: want one mirror under zroot")
	}
	if b, _ := p.props.Bootfs(); b != "zroot/ROOT/default" {
		t.Errorf("bootfs %q, want zroot/ROOT/default", b)
	}
	if c := p.props.Compatibility(); len(c) != 0 {
		t.Errorf("compatibility %v after setting it off", c)
	}
	// The pool has the features of OpenZFS 2.1 on FreeBSD and no more:
	// the disabled ones are those outside the profile, and they are what
	// zpool upgrade lists to enable (the two parsers agree).
	in21 := map[string]bool{}
	for _, f := range l.profile(t, "openzfs-2.1-freebsd") {
		in21[f] = true
	}
	dis := disabled(&p.props)
	if l.disabled != nil && strings.Join(dis, " ") != strings.Join(l.disabled, " ") {
		t.Errorf("disabled features %v, the other golden pool's %v", dis, l.disabled)
	}
	l.disabled = dis
	if len(dis) == 0 {
		t.Fatal("no disabled features: zpool upgrade would have nothing to enable")
	}
	for f, s := range p.props.Features() {
		if in21[f] == (s == zpool.FeatureDisabled) {
			t.Errorf("feature %s is %s; openzfs-2.1-freebsd has it: %v", f, s, in21[f])
		}
	}
	// zupgrade's feature table knows every feature OpenZFS 2.3 prints, so
	// its loader check can judge each one.
	for f := range p.props.Features() {
		if _, known := zpool.LookupFeature(f); !known {
			t.Errorf("zpool get prints feature %s, zupgrade's feature table lacks it", f)
		}
	}
	var listed []string
	for _, f := range p.upgrade.NotEnabled["zroot"] {
		listed = append(listed, f.Name)
	}
	sort.Strings(listed)
	if strings.Join(listed, " ") != strings.Join(dis, " ") {
		t.Errorf("zpool upgrade lists %v, zpool get says disabled %v", listed, dis)
	}
	if len(p.gozfs.Pools) != 1 || p.gozfs.Pools[0].Name != "zroot" || p.gozfs.Pools[0].Health != "ONLINE" || p.gozfs.Pools[0].Size == 0 {
		t.Errorf("go-zfs reads pools %+v", p.gozfs.Pools)
	}
	want := map[string]bool{"zroot/ROOT/default": true, "zroot/var/log": true, "zroot/usr/ports": true}
	for _, f := range p.gozfs.Filesystems {
		delete(want, f.Name)
	}
	if len(want) > 0 {
		t.Errorf("go-zfs does not read the datasets %v among %+v", want, p.gozfs.Filesystems)
	}
}

// upgradeEachDiskAlone: zpool upgrade on the mirror, then the pool is
// imported from each disk alone (the other one gone, as when the firmware
// boots one disk of a broken mirror): DEGRADED, the missing member named
// as FreeBSD names it, every feature enabled, the boot environment there.
func upgradeEachDiskAlone(t *testing.T, l *zfsLab) {
	disks := l.overlays(t)
	r := l.launch(t, "upgrade", disks, importJob(disks)+"sec zpool-upgrade zpool upgrade zroot\n"+reportJob+"sec export zpool export zroot\n")
	ok(t, r, "import")
	ok(t, r, "zpool-upgrade")
	p := parseReport(t, r)
	if d := disabled(&p.props); len(d) != 0 {
		t.Errorf("after zpool upgrade still disabled: %v", d)
	}
	if w := p.upgrade.WouldEnable("zroot"); len(w) != 0 {
		t.Errorf("after zpool upgrade the listing still names %v", w)
	}
	for i, d := range disks {
		name, other := d.Name, disks[1-i].poolDev()
		alone := []ZFSDisk{d}
		r := l.launch(t, "alone-"+name, alone, importJob(alone)+"sec be cat /mnt/be-name\n"+reportJob)
		ok(t, r, "import")
		if be := strings.TrimSpace(ok(t, r, "be")); be != "default" {
			t.Errorf("%s alone: the boot environment reads %q", name, be)
		}
		p := parseReport(t, r)
		if p.pool.State != "DEGRADED" || len(p.pool.Problems()) == 0 {
			t.Errorf("%s alone: state %s, problems %v; want DEGRADED", name, p.pool.State, p.pool.Problems())
		}
		var missing *zpool.Vdev
		for _, v := range p.pool.DataLeaves() {
			if v.State != "ONLINE" {
				missing = v
			}
		}
		if missing == nil || missing.Was != "/dev/"+other {
			t.Errorf("%s alone: want a member that was /dev/%s, got %+v", name, other, missing)
		}
		if d := disabled(&p.props); len(d) != 0 {
			t.Errorf("%s alone: disabled features %v", name, d)
		}
		if b, _ := p.props.Bootfs(); b != "zroot/ROOT/default" {
			t.Errorf("%s alone: bootfs %q", name, b)
		}
		if c := zpool.CheckLoader(&p.props, nil); len(c.ActiveUnknown) > 0 {
			t.Errorf("%s alone: active features zupgrade does not know: %v", name, c.ActiveUnknown)
		} else {
			t.Logf("%s alone: loader check after zpool upgrade: %+v", name, c)
		}
		if len(p.gozfs.Pools) != 1 || p.gozfs.Pools[0].Health != "DEGRADED" {
			t.Errorf("%s alone: go-zfs reads %+v", name, p.gozfs.Pools)
		}
	}
}

// cutDuringUpgrade: half the features are enabled one by one (zpool set
// waits for the transaction group to sync), then zpool upgrade starts and
// the power fails at once. The pool imports healthy, the synced features
// are enabled, every other one is either state, zpool upgrade finishes
// the job and a scrub finds nothing.
func cutDuringUpgrade(t *testing.T, l *zfsLab) {
	disks := l.overlays(t)
	// The features to enable are the installed pool's disabled ones.
	first := l.disabled[:len(l.disabled)/2]
	var job strings.Builder
	job.WriteString(importJob(disks))
	for _, f := range first {
		fmt.Fprintf(&job, "sec set-%s zpool set feature@%s=enabled zroot\n", f, f)
	}
	job.WriteString("zpool upgrade zroot > /dev/null 2>&1 &\ncut\n")
	r := l.launch(t, "cut", disks, job.String())
	if !r.Cut {
		t.Fatal("the launch was not cut")
	}
	for _, f := range first {
		ok(t, r, "set-"+f)
	}
	after := l.launch(t, "cut-after", disks, importJob(disks)+reportJob+"sec zpool-upgrade zpool upgrade zroot\nsec scrub zpool scrub -w zroot\nsec status-scrubbed zpool status\nsec get-upgraded zpool get -H -p all\n")
	p := parseReport(t, after)
	if p.pool.State != "ONLINE" || len(p.pool.Problems()) > 0 {
		t.Errorf("after the cut: state %s, problems %v", p.pool.State, p.pool.Problems())
	}
	for _, f := range first {
		if s := p.props.Feature(f); s == zpool.FeatureDisabled {
			t.Errorf("feature %s was enabled and synced before the cut, now %s", f, s)
		}
	}
	ok(t, after, "zpool-upgrade")
	pools, err := zpool.ParseStatus(ok(t, after, "status-scrubbed"))
	if err != nil || len(pools) != 1 {
		t.Fatalf("status after scrub: %v", err)
	}
	if len(pools[0].Scans) == 0 || pools[0].Scans[0].Kind != zpool.ScanScrub || len(pools[0].Problems()) > 0 {
		t.Errorf("after the scrub: scans %+v, problems %v", pools[0].Scans, pools[0].Problems())
	}
	props, err := zpool.ParseProperties(ok(t, after, "get-upgraded"))
	if err != nil || len(props) != 1 {
		t.Fatalf("zpool get after upgrade: %v", err)
	}
	if d := disabled(&props[0]); len(d) != 0 {
		t.Errorf("after the resumed zpool upgrade still disabled: %v", d)
	}
}

// compatibilityProfile: with compatibility set to a FreeBSD profile, the
// features zupgrade computes as allowed (zpool.AllowedByCompatibility over
// the listing and the profile files) are exactly those real zpool upgrade
// enables.
func compatibilityProfile(t *testing.T, l *zfsLab) {
	disks := l.overlays(t)
	const profile = "openzfs-2.2-freebsd"
	r := l.launch(t, "compat", disks, importJob(disks)+"sec set-compat zpool set compatibility="+profile+" zroot\n"+reportJob+
		"sec zpool-upgrade zpool upgrade zroot\nsec get-upgraded zpool get -H -p all\n")
	ok(t, r, "set-compat")
	p := parseReport(t, r)
	if c := p.props.Compatibility(); strings.Join(c, ",") != profile {
		t.Errorf("compatibility %v, want %s", c, profile)
	}
	sets := map[string][]string{profile: l.profile(t, profile)}
	allowed := zpool.AllowedByCompatibility(p.upgrade.WouldEnable("zroot"), p.props.Compatibility(), sets)
	sort.Strings(allowed)
	if len(allowed) == 0 {
		t.Fatalf("%s allows none of %v: nothing to compare", profile, p.upgrade.WouldEnable("zroot"))
	}
	ok(t, r, "zpool-upgrade")
	props, err := zpool.ParseProperties(ok(t, r, "get-upgraded"))
	if err != nil || len(props) != 1 {
		t.Fatalf("zpool get after upgrade: %v", err)
	}
	var enabled []string
	for f, s := range props[0].Features() {
		if s != zpool.FeatureDisabled && p.props.Feature(f) == zpool.FeatureDisabled {
			enabled = append(enabled, f)
		}
	}
	sort.Strings(enabled)
	if strings.Join(enabled, " ") != strings.Join(allowed, " ") {
		t.Errorf("real zpool upgrade enabled %v; zupgrade's reading of %s allows %v", enabled, profile, allowed)
	}
}

// replaceMember: ada1p4 is replaced by the pool partition of a new disk
// ada2 (the same bsdinstall layout) and resilvered; zupgrade's parser
// reads the result: the new member ONLINE, the resilver's scan line.
func replaceMember(t *testing.T, l *zfsLab) {
	disks := l.overlays(t)
	img := filepath.Join(t.TempDir(), "ada2.img")
	if err := MakeFreeBSDDisk(img, bsdinstallLayout, 2); err != nil {
		t.Fatal(err)
	}
	spare, err := readZFSDisk("ada2", img, bsdinstallLayout)
	if err != nil {
		t.Fatal(err)
	}
	r := l.launch(t, "replace", append(disks, spare),
		importJob(disks)+"sec replace zpool replace zroot "+disks[1].poolDev()+" /dev/"+spare.poolDev()+"\nsec wait zpool wait -t resilver zroot\nsec status-resilvered zpool status\n"+
			"sec wait-replace zpool wait -t replace zroot\nsec status zpool status\n")
	ok(t, r, "import")
	ok(t, r, "replace")
	ok(t, r, "wait")
	ok(t, r, "wait-replace")
	// Right after the resilver the old member may still sit in a
	// replacing vdev (OpenZFS detaches it asynchronously): the parser
	// reads either shape.
	if _, err := zpool.ParseStatus(ok(t, r, "status-resilvered")); err != nil {
		t.Errorf("status right after the resilver: %v\n%s", err, ok(t, r, "status-resilvered"))
	}
	pools, err := zpool.ParseStatus(ok(t, r, "status"))
	if err != nil || len(pools) != 1 {
		t.Fatalf("zpool.ParseStatus: %v\n%s", err, ok(t, r, "status"))
	}
	p := pools[0]
	if got, want := leafNames(&p), disks[0].poolDev()+" "+spare.poolDev(); strings.Join(got, " ") != want || len(p.Problems()) > 0 {
		t.Errorf("after the replace: members %v, problems %v", got, p.Problems())
	}
	if len(p.Scans) == 0 || p.Scans[0].Kind != zpool.ScanResilver || p.Scans[0].Running() {
		t.Errorf("after the resilver: scans %+v", p.Scans)
	}
}

// makeGoldenDisks makes the two disks of layout in dir (ada0 and ada1, in
// files named prefix, then the disk's name, then .img) and reads their
// partitions back from their real GPTs.
func makeGoldenDisks(t *testing.T, dir, prefix string, layout *DiskLayout) []ZFSDisk {
	t.Helper()
	var disks []ZFSDisk
	for i := range 2 {
		name := fmt.Sprintf("ada%d", i)
		img := filepath.Join(dir, prefix+name+".img")
		if err := MakeFreeBSDDisk(img, layout, i); err != nil {
			t.Fatal(err)
		}
		d, err := readZFSDisk(name, img, layout)
		if err != nil {
			t.Fatal(err)
		}
		disks = append(disks, d)
	}
	return disks
}
