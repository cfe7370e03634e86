// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/host"
)

// mutationTrap answers read-only commands from a capture and fails the test
// on any other command: it proves that gathering facts and building a plan
// never ask the host to change.
type mutationTrap struct {
	t    *testing.T
	next host.Runner
}

func (m mutationTrap) Run(ctx context.Context, cmd host.Command) (host.Result, error) {
	if !host.ReadOnly(cmd.Args) {
		m.t.Fatalf("planning ran a command that may change the host: %s", cmd.Line())
	}
	return m.next.Run(ctx, cmd)
}

// factsOf gathers the facts of an example capture.
func factsOf(t *testing.T, example string) *facts.Facts {
	t.Helper()
	name := filepath.Join("..", "examples", example+".txtar")
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := host.ParseCapture(name, data)
	if err != nil {
		t.Fatal(err)
	}
	f, err := facts.Gather(context.Background(), mutationTrap{t: t, next: rp})
	if err != nil {
		t.Fatalf("%s: %v", example, err)
	}
	return f
}

var planTime = time.Date(2026, 11, 26, 13, 5, 9, 0, time.UTC)

func planFor(t *testing.T, example, to string) *Plan {
	t.Helper()
	return Build(factsOf(t, example), Options{To: to, Now: planTime})
}

func (p *Plan) step(id string) Step {
	for _, s := range p.Steps {
		if s.ID == id {
			return s
		}
	}
	return Step{}
}

func (p *Plan) check(id string) Check {
	for _, c := range p.Checks {
		if c.ID == id {
			return c
		}
	}
	return Check{}
}

// lines returns the step's commands as command lines.
func (s Step) lines() []string {
	var out []string
	for _, c := range s.Commands {
		out = append(out, host.QuoteArgs(c.Args))
	}
	return out
}

func grepLines(lines []string, prefix string) []string {
	var out []string
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func TestPlanBootcodePerDisk(t *testing.T) {
	tests := []struct {
		example, to string
		gpart       []string // every gpart bootcode command, in order
		mounts      []string // mount_msdosfs commands
		loaders     int      // loader.efi copies (renames onto efi/freebsd/loader.efi)
	}{
		{"bios-mirror", "14.2-RELEASE", []string{
			"gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 1 ada0",
			"gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 1 ada1"}, nil, 0},
		{"mirror-bios-uefi", "14.2-RELEASE", []string{
			"gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 2 ada0",
			"gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 2 ada1",
			"gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 2 ada2"},
			// ada0's ESP is mounted on /boot/efi already; ada2's is not formatted.
			[]string{"mount_msdosfs /dev/ada1p1 /var/db/zupgrade/mnt/ada1p1"}, 2},
		{"uefi-nda-mirror", "15.0-RELEASE", nil, []string{
			"mount_msdosfs /dev/nda1p1 /var/db/zupgrade/mnt/nda1p1"}, 2},
		// Crossed labels: gpt/zfs0 lives on ada1, whose freebsd-boot is index 2.
		// ada1's 800K legacy ESP gets the new boot1.efi (no loader.efi).
		{"crossed-labels", "14.3-RELEASE", []string{
			"gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 2 ada1",
			"gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 1 ada0"},
			[]string{"mount_msdosfs /dev/ada1p1 /var/db/zupgrade/mnt/ada1p1"}, 0},
		{"single-disk", "14.3-RELEASE", []string{
			"gpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 2 vtbd0"}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.example, func(t *testing.T) {
			p := planFor(t, tt.example, tt.to)
			bc := p.step(StepBootcode).lines()
			if got := grepLines(bc, "gpart "); !slices.Equal(got, tt.gpart) {
				t.Errorf("gpart commands:\n got %q\nwant %q", got, tt.gpart)
			}
			if got := grepLines(bc, "mount_msdosfs "); !slices.Equal(got, tt.mounts) {
				t.Errorf("mounts:\n got %q\nwant %q", got, tt.mounts)
			}
			n := 0
			for _, l := range bc {
				if strings.HasPrefix(l, "mv ") && strings.HasSuffix(l, "efi/freebsd/loader.efi") {
					n++
				}
			}
			if n != tt.loaders {
				t.Errorf("%d loader.efi copies, want %d:\n%s", n, tt.loaders, strings.Join(bc, "\n"))
			}
			for _, l := range bc {
				if strings.Contains(l, "gpart bootcode") && strings.Contains(l, "-i 1 ") && strings.Contains(tt.example, "uefi") {
					t.Errorf("BIOS boot code aimed at an ESP: %s", l)
				}
			}
			// The zpool upgrade step repeats the boot code after the
			// upgrade, on the same disks.
			if zp := p.step(StepZpoolUpgrade); zp.Skip == "" {
				if got := grepLines(zp.lines(), "gpart "); !slices.Equal(got, tt.gpart) {
					t.Errorf("zpool-upgrade boot code:\n got %q\nwant %q", got, tt.gpart)
				}
			}
			if p.Blocked() {
				t.Errorf("plan blocked: %+v", p.Checks)
			}
		})
	}
}

func TestPlanStepOrder(t *testing.T) {
	p := planFor(t, "mirror-bios-uefi", "14.2-RELEASE")
	var ids []string
	for _, s := range p.Steps {
		ids = append(ids, s.ID)
	}
	want := []string{StepPreflight, StepQuirkMeta, StepBackup, StepUpgrade, StepInstallKern, StepBootcode,
		StepRebootKernel, StepInstallWorld, StepPackages, StepInstallLibs, StepZpoolUpgrade, StepZfsUpgrade, StepRebootFinal}
	if !slices.Equal(ids, want) {
		t.Fatalf("steps %q, want %q", ids, want)
	}
	up := p.step(StepUpgrade).Commands[0]
	if got := host.QuoteArgs(up.Args); got != "freebsd-update --not-running-from-cron -r 14.2-RELEASE upgrade" {
		t.Errorf("upgrade command %q", got)
	}
	if !slices.Contains(up.Env, "PAGER=cat") || !up.Terminal {
		t.Errorf("upgrade is not answered: env %q, terminal %v", up.Env, up.Terminal)
	}
	if got := p.step(StepBackup).lines(); !slices.Equal(got, []string{"bectl create -r zupgrade-14.1-RELEASE-p6-to-14.2-RELEASE-20261126T130509"}) {
		t.Errorf("backup %q", got)
	}
	for _, id := range []string{StepRebootKernel, StepRebootFinal} {
		s := p.step(id)
		if !s.Checkpoint || !slices.Contains(s.lines(), "shutdown -r now") {
			t.Errorf("%s: checkpoint %v, commands %q", id, s.Checkpoint, s.lines())
		}
	}
	// Pool features are decided once the new system runs; the plan says
	// so, and the preflight warns about edonr, which the loader cannot read.
	zp := p.step(StepZpoolUpgrade)
	if zp.Commands[0].When.IsZero() || host.QuoteArgs(zp.Commands[0].Args) != "zpool upgrade zroot" {
		t.Errorf("zpool-upgrade first command %+v", zp.Commands[0])
	}
	if c := p.check("loader-features"); c.Verdict != Warn {
		t.Errorf("loader-features check %+v", c)
	}
}

func TestPlanBlocks(t *testing.T) {
	tests := []struct {
		name, example, to string
		mutate            func(*facts.Facts)
		block             []string // IDs of the checks that must block
	}{
		{"degraded mirror", "degraded-mirror", "14.2-RELEASE", nil, []string{"pool-health", "boot-partitions"}},
		{"14 to 15 without EN-25:18", "fifteen-from-14.3-no-en", "15.0-RELEASE", nil, []string{"en-25-18"}},
		{"malformed target", "bios-mirror", "14.2", nil, []string{"target"}},
		{"older target", "bios-mirror", "13.3-RELEASE", nil, []string{"target"}},
		{"same release", "bios-mirror", "13.4-RELEASE", nil, []string{"target"}},
		{"not root", "bios-mirror", "14.2-RELEASE", func(f *facts.Facts) { f.Root = false }, []string{"root"}},
		{"not FreeBSD", "bios-mirror", "14.2-RELEASE", func(f *facts.Facts) { f.OS = "Linux" }, []string{"freebsd"}},
		{"UFS root", "bios-mirror", "14.2-RELEASE", func(f *facts.Facts) { f.RootMount = "ufs:/dev/ada0p2" }, []string{"zfs-root"}},
		{"scrub running", "bios-mirror", "14.2-RELEASE", func(f *facts.Facts) {
			f.Pools[0].Scan = facts.Scan{Kind: "scrub", InProgress: true, Text: "scrub in progress"}
		}, []string{"pool-scan"}},
		{"foreign pending install", "bios-mirror", "14.2-RELEASE", func(f *facts.Facts) {
			f.Update.Pending, f.Update.Fetched, f.Update.Phase = true, "13.4-RELEASE-p2", "patches"
		}, []string{"pending-update"}},
		{"pkgbase", "bios-mirror", "14.2-RELEASE", func(f *facts.Facts) { f.Pkg.Pkgbase = true }, []string{"pkgbase"}},
		{"BIOS host, disk without freebsd-boot", "bios-mirror", "14.2-RELEASE", func(f *facts.Facts) {
			f.Disks[1].BootPartitions = nil
		}, []string{"boot-partitions"}},
		{"UEFI host, disk without ESP", "uefi-nda-mirror", "15.0-RELEASE", func(f *facts.Facts) {
			f.Disks[0].ESPs = nil
		}, []string{"boot-partitions", "boot-entries"}},
		{"little free space", "bios-mirror", "14.2-RELEASE", func(f *facts.Facts) { f.Pools[0].Free = 1 << 30 }, []string{"free-space"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := factsOf(t, tt.example)
			if tt.mutate != nil {
				tt.mutate(f)
			}
			p := Build(f, Options{To: tt.to, Now: planTime})
			var got []string
			for _, c := range p.Checks {
				if c.Verdict == Block {
					got = append(got, c.ID)
					if c.Reason == "" || c.Fix == "" {
						t.Errorf("check %s blocks without reason or fix: %+v", c.ID, c)
					}
				}
			}
			if !slices.Equal(got, tt.block) {
				t.Errorf("blocking checks %q, want %q", got, tt.block)
			}
			if !p.Blocked() {
				t.Error("plan not blocked")
			}
		})
	}
}

func TestPlanLegacy82(t *testing.T) {
	p := planFor(t, "legacy-8.2", "9.0-RELEASE")
	q := p.step(StepQuirkMeta)
	if q.Skip != "" || !slices.Contains(q.lines(), "sed -i '' -e s/=_/=%@_/ /usr/sbin/freebsd-update") {
		t.Errorf("quirk step: skip %q commands %q", q.Skip, q.lines())
	}
	if len(q.lines()) != 3 || !strings.HasPrefix(q.lines()[1], "cp -p /usr/sbin/freebsd-update ") {
		t.Errorf("quirk step does not back up the script first: %q", q.lines())
	}
	b := p.step(StepBackup).lines()
	if len(b) != 1 || !strings.HasPrefix(b[0], "zfs snapshot -r zroot@zupgrade-8.2-RELEASE-to-9.0-RELEASE-") {
		t.Errorf("backup without bectl: %q", b)
	}
	if c := p.check("boot-partition-size"); c.Verdict != Warn || !strings.Contains(c.Reason, "64.0 KiB") {
		t.Errorf("small boot partitions not reported: %+v", c)
	}
	if c := p.check("boot-environments"); c.Verdict != Warn {
		t.Errorf("missing bectl not reported: %+v", c)
	}
	// 8.2's freebsd-update predates --not-running-from-cron and rejects it.
	if got := p.step(StepUpgrade).lines(); len(got) != 1 || got[0] != "freebsd-update -r 9.0-RELEASE upgrade" {
		t.Errorf("upgrade on 8.2: %q", got)
	}
	if got := planFor(t, "bios-mirror", "14.2-RELEASE").step(StepUpgrade).lines(); got[0] != "freebsd-update --not-running-from-cron -r 14.2-RELEASE upgrade" {
		t.Errorf("upgrade on 13.4: %q", got)
	}
}

// A patch run whose patches were fetched by hand (on a terminal) installs
// them: the pending install is its own.
func TestPlanPatchesFetchedByHand(t *testing.T) {
	f := factsOf(t, "legacy-8.2")
	f.Update.Pending, f.Update.Fetched, f.Update.Phase = true, "8.2-RELEASE-p3", "patches"
	p := Build(f, Options{Now: planTime})
	if c := p.check("pending-update"); c.Verdict != OK {
		t.Errorf("pending-update %+v", c)
	}
}

func TestPlanPatchMode(t *testing.T) {
	p := planFor(t, "single-disk", "")
	if p.Mode != "patch" || p.To != "" {
		t.Fatalf("mode %q to %q", p.Mode, p.To)
	}
	var ids []string
	for _, s := range p.Steps {
		ids = append(ids, s.ID)
	}
	want := []string{StepPreflight, StepQuirkMeta, StepFetch, StepBackup, StepInstall, StepBootcode, StepRebootFinal}
	if !slices.Equal(ids, want) {
		t.Errorf("steps %q, want %q", ids, want)
	}
	if got := host.QuoteArgs(p.step(StepFetch).Commands[0].Args); got != "freebsd-update --not-running-from-cron fetch" {
		t.Errorf("fetch %q", got)
	}
}

func TestFingerprint(t *testing.T) {
	f := factsOf(t, "mirror-bios-uefi")
	h := Fingerprint(f)
	g := *f
	g.Pools = append([]facts.Pool(nil), f.Pools...)
	g.Pools[0].Free -= 1 << 20
	if Fingerprint(&g) != h {
		t.Error("fingerprint changes with free space")
	}
	g.Release.Running = "14.2-RELEASE"
	if Fingerprint(&g) == h {
		t.Error("fingerprint ignores the running release")
	}
}
