// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"fmt"
	"strings"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/freebsdupdate"
)

// minFreeBytes is the free space below which the boot pool blocks an
// upgrade: freebsd-update keeps the old and new files of the whole base
// system under /var/db/freebsd-update, and the backup boot environment grows
// as files change.
const (
	minFreeBytes  = 2 << 30
	warnFreeBytes = 8 << 30
)

// smallBootPartition is the freebsd-boot size below which a plan warns; the
// installer has made 512K ones since FreeBSD 10, older layouts used 64K.
const smallBootPartition = 128 << 10

// target is the parsed target of a plan.
type target struct {
	mode    string // "upgrade" or "patch"
	current freebsdupdate.Release
	to      freebsdupdate.Release
	move    freebsdupdate.Move
}

// preflight runs every check on f for the target and returns them in a fixed
// order. It never stops early: the admin sees everything that is wrong.
func preflight(f *facts.Facts, opts Options, t target, tErr error) []Check {
	var cs []Check
	add := func(id, title string, v Verdict, reason, fix string) {
		cs = append(cs, Check{ID: id, Title: title, Verdict: v, Reason: reason, Fix: fix})
	}

	if f.Root {
		add("root", "running as root", OK, "uid 0", "")
	} else {
		add("root", "running as root", Block, "zupgrade is not running as root", "run it as root (su - or sudo)")
	}

	if f.OS == "FreeBSD" {
		add("freebsd", "the host runs FreeBSD", OK, f.OS+" "+f.Release.Running, "")
	} else {
		add("freebsd", "the host runs FreeBSD", Block, fmt.Sprintf("uname -s says %q", f.OS), "zupgrade only upgrades FreeBSD hosts")
	}

	if c, ok := runtimeCheck(f); ok {
		cs = append(cs, c)
	}

	if f.Jailed {
		add("jail", "not inside a jail", Block, "security.jail.jailed is 1", "upgrade the host, then its jails with freebsd-update -j")
	}

	pool := bootPool(f)
	switch {
	case !strings.HasPrefix(f.RootMount, "zfs:"):
		add("zfs-root", "root file system on ZFS", Block, fmt.Sprintf("vfs.root.mountfrom is %q", f.RootMount), "zupgrade upgrades hosts whose root is on ZFS; use freebsd-update directly")
	case pool == nil:
		add("zfs-root", "root file system on ZFS", Block, fmt.Sprintf("root is %s but zpool status does not show pool %q", f.RootMount, f.BootPool), "import the boot pool, then plan again")
	default:
		add("zfs-root", "root file system on ZFS", OK, fmt.Sprintf("%s on pool %s", f.RootDataset, pool.Name), "")
	}

	if pool != nil {
		resilver := resilverUnderWay(pool)
		switch {
		case len(pool.Problems) == 0:
			add("pool-health", "boot pool healthy, every member ONLINE", OK, fmt.Sprintf("%s is %s with %d member(s) ONLINE", pool.Name, pool.Health, len(pool.Members)), "")
		case resilver != "":
			add("pool-health", "boot pool healthy, every member ONLINE", Block, strings.Join(pool.Problems, "; "), waitForResilver(pool, resilver))
		default:
			add("pool-health", "boot pool healthy, every member ONLINE", Block, strings.Join(pool.Problems, "; "),
				"repair the pool first (zpool status -x; replace or online the missing device and let it resilver): boot code cannot be written to a missing disk")
		}
		switch {
		case pool.Scan.InProgress && pool.Scan.Kind == "resilver":
			reason := pool.Scan.Text
			if resilver != "" {
				reason += " (" + resilver + ")"
			}
			add("pool-scan", "no scrub or resilver running", Block, reason, waitForResilver(pool, resilver))
		case pool.Scan.InProgress:
			add("pool-scan", "no scrub or resilver running", Block, pool.Scan.Kind+" in progress: "+pool.Scan.Text,
				"wait until it finishes (zpool status), or stop it with zpool scrub -s "+pool.Name)
		default:
			add("pool-scan", "no scrub or resilver running", OK, "none running", "")
		}
		switch {
		case pool.Size == 0:
			add("free-space", "free space on the boot pool", Warn, "the pool's free space is unknown", "check zpool list "+pool.Name)
		case pool.Free < minFreeBytes:
			add("free-space", "free space on the boot pool", Block, fmt.Sprintf("%s free on %s", facts.HumanBytes(pool.Free), pool.Name), "free at least "+facts.HumanBytes(minFreeBytes)+" (old boot environments and snapshots: bectl list, zfs list -t snapshot)")
		case pool.Free < warnFreeBytes:
			add("free-space", "free space on the boot pool", Warn, fmt.Sprintf("%s free on %s", facts.HumanBytes(pool.Free), pool.Name), "an upgrade may need several GiB; consider freeing space")
		default:
			add("free-space", "free space on the boot pool", OK, facts.HumanBytes(pool.Free)+" free", "")
		}
	}

	// Target.
	switch {
	case tErr != nil:
		add("target", "target release", Block, tErr.Error(), "name a newer release, e.g. --to 14.2-RELEASE, or leave --to out to apply patches")
	case t.mode == "patch":
		add("target", "target release", OK, "patches for "+t.current.Base().String(), "")
	default:
		add("target", "target release", OK, fmt.Sprintf("%s upgrade from %s to %s", t.move, t.current, t.to), "")
	}

	// freebsd-update's own state.
	switch {
	case f.Pkg.Pkgbase:
		add("pkgbase", "base system installed by freebsd-update, not packages", Block, "pkg which /usr/bin/uname: the base system is packaged (pkgbase); freebsd-update refuses such hosts",
			"upgrade with pkg: pkg upgrade -r FreeBSD-base (zupgrade does not drive pkgbase upgrades yet)")
	default:
		add("pkgbase", "base system installed by freebsd-update, not packages", OK, "distribution sets", "")
	}
	if f.Update.Pending {
		fetched := f.Update.Fetched
		own := tErr == nil && t.mode == "upgrade" && fetched != "" && sameBase(fetched, t.to)
		patches := tErr == nil && t.mode == "patch" && f.Update.Phase == "patches" && fetched != "" && sameBase(fetched, t.current)
		switch {
		case patches:
			add("pending-update", "no foreign pending freebsd-update install", OK,
				fmt.Sprintf("patches up to %s are fetched already; apply installs them", fetched), "")
		case own:
			add("pending-update", "no foreign pending freebsd-update install", OK,
				fmt.Sprintf("an install for %s is already pending (next: %s); apply continues from there", fetched, phaseOr(f.Update.Phase)), "")
		default:
			what := "an install is pending"
			if fetched != "" {
				what += " for " + fetched
			}
			if f.Update.Phase != "" {
				what += " (next phase: " + f.Update.Phase + ")"
			}
			add("pending-update", "no foreign pending freebsd-update install", Block, what,
				"finish it (freebsd-update install, rebooting when it says so) or drop it (rm -r /var/db/freebsd-update/*-install), then plan again")
		}
	} else {
		add("pending-update", "no foreign pending freebsd-update install", OK, "nothing pending", "")
	}
	if c, ok := kernelConfigCheck(f, opts, t, tErr); ok {
		cs = append(cs, c)
	}
	switch f.Update.MetadataPattern {
	case "old":
		add("quirk-metadata-path", "freebsd-update accepts today's metadata", Warn, "this freebsd-update rejects metadata paths with % and @ (the 8.x integrity-check bug)", "apply patches it (step quirk-metadata-path), keeping a backup")
	case "unknown":
		add("quirk-metadata-path", "freebsd-update accepts today's metadata", Warn, "could not find freebsd-update's metadata path pattern", "check "+freebsdupdate.ScriptPath)
	}
	if c, ok := libsysCheck(f, t, tErr); ok {
		cs = append(cs, c)
	}

	// Boot environments.
	switch {
	case f.BootEnvs.Tool == "bectl" && f.BootEnvs.Supported:
		add("boot-environments", "backup boot environment possible", OK, "bectl check passes", "")
	case f.BootEnvs.Tool == "bectl":
		add("boot-environments", "backup boot environment possible", Warn, "bectl check fails: the root layout does not support boot environments", "zupgrade takes a recursive snapshot of the root dataset instead")
	default:
		add("boot-environments", "backup boot environment possible", Warn, "bectl is not installed (FreeBSD before 12)", "zupgrade takes a recursive snapshot of the root dataset instead; rollback explains how to return to it")
	}

	// Boot partitions on every member.
	if pool != nil {
		cs = append(cs, bootPartitionChecks(f, pool, opts)...)
		cs = append(cs, loaderChecks(f, pool, builder{f: f}.bootDisks())...)
		if c, ok := loaderFeatureCheck(pool, opts); ok {
			cs = append(cs, c)
		}
	}
	return cs
}

// kernelConfigCheck warns when the running kernel was built from a
// configuration other than GENERIC (uname -i). freebsd-update upgrades only
// the kernel configurations FreeBSD distributes (upgrade_guess_components,
// upgrade_guess_new_kernel in freebsd-update.sh): it leaves any other kernel
// as it is, and fetch patches none, or, for one the new release dropped, it
// offers to replace it with GENERIC.
func kernelConfigCheck(f *facts.Facts, opts Options, t target, tErr error) (Check, bool) {
	id := f.KernelIdent
	if id == "" || id == "GENERIC" || tErr != nil {
		return Check{}, false
	}
	c := Check{ID: "kernel-config", Title: "kernel configuration freebsd-update upgrades", Verdict: Warn}
	if t.mode == "patch" {
		c.Reason = fmt.Sprintf("the running kernel is %s, not GENERIC: freebsd-update fetch patches only the kernel configurations FreeBSD distributes, so this kernel keeps its patch level", id)
		c.Fix = fmt.Sprintf("rebuild it from patched sources (make buildkernel installkernel KERNCONF=%s) after the update", id)
		return c, true
	}
	c.Reason = fmt.Sprintf("the running kernel is %s, not GENERIC: freebsd-update upgrades only the kernel configurations FreeBSD distributes; it leaves %s as it is, or offers to replace it with GENERIC when %s dropped it", id, id, t.to)
	agree := "without --yes zupgrade declines the replacement and stops"
	if opts.Yes {
		agree = "--yes lets freebsd-update replace it with GENERIC"
	}
	c.Fix = fmt.Sprintf("if freebsd-update leaves the kernel as it is, apply stops before the first install (build a %s kernel of %s yourself, or boot GENERIC); %s; to keep %s, upgrade from source (make buildworld buildkernel KERNCONF=%s)", id, t.to, agree, id, id)
	return c, true
}

// bootPartitionChecks checks that every member of the boot pool resolves to a
// disk that carries boot partitions of the kind the host boots with.
func bootPartitionChecks(f *facts.Facts, pool *facts.Pool, opts Options) []Check {
	var cs []Check
	var bad, unformatted, small []string
	for _, m := range pool.Members {
		if m.Disk == "" && m.Replacing {
			continue // the device being replaced: the pool-health check speaks of it
		}
		if m.Disk == "" {
			why := m.Error
			if why == "" {
				why = "its disk is unknown"
			}
			bad = append(bad, fmt.Sprintf("member %s: %s", m.Name, why))
			continue
		}
		d := diskByName(f, m.Disk)
		if d == nil {
			bad = append(bad, fmt.Sprintf("member %s: disk %s has no partition table zupgrade can read", m.Name, m.Disk))
			continue
		}
		bios, uefi := len(d.BootPartitions) > 0, len(d.ESPs) > 0
		switch f.BootMethod {
		case "BIOS":
			if !bios {
				bad = append(bad, fmt.Sprintf("disk %s (member %s) has no freebsd-boot partition, and this host boots by BIOS", d.Name, m.Name))
			}
		case "UEFI":
			if !uefi {
				bad = append(bad, fmt.Sprintf("disk %s (member %s) has no EFI system partition, and this host boots by UEFI", d.Name, m.Name))
			}
		default:
			if !bios && !uefi {
				bad = append(bad, fmt.Sprintf("disk %s (member %s) has neither a freebsd-boot partition nor an EFI system partition", d.Name, m.Name))
			}
		}
		for _, bp := range d.BootPartitions {
			if bp.Size > 0 && bp.Size < smallBootPartition {
				small = append(small, fmt.Sprintf("%s on %s has %s", bp.Name, d.Name, facts.HumanBytes(bp.Size)))
			}
		}
		for _, e := range d.ESPs {
			if e.Format == "empty" && !opts.FormatESPs {
				unformatted = append(unformatted, fmt.Sprintf("%s on %s was never formatted", e.Name, d.Name))
			}
		}
	}
	if len(bad) > 0 {
		cs = append(cs, Check{ID: "boot-partitions", Title: "boot partitions on every boot-pool disk", Verdict: Block, Reason: strings.Join(bad, "; "),
			Fix: "every disk of the boot pool must be able to boot the host: add the missing boot partition (gpart add -t freebsd-boot or -t efi) or replace the disk, then plan again"})
	} else {
		cs = append(cs, Check{ID: "boot-partitions", Title: "boot partitions on every boot-pool disk", Verdict: OK,
			Reason: fmt.Sprintf("%d disk(s), each with boot partitions for %s", len(builder{f: f}.bootDisks()), bootKinds(f))})
	}
	if len(unformatted) > 0 {
		cs = append(cs, Check{ID: "esp-format", Title: "EFI system partitions formatted", Verdict: Warn, Reason: strings.Join(unformatted, "; "),
			Fix: "the installer formats only the first disk's ESP, so the other disks cannot boot alone: --format-esps formats them (newfs_msdos -F 32 -c 1) and installs the loader; without it zupgrade skips them"})
	}
	if len(small) > 0 {
		cs = append(cs, Check{ID: "boot-partition-size", Title: "freebsd-boot partitions large enough", Verdict: Warn, Reason: strings.Join(small, "; "),
			Fix: "a newer gptzfsboot may not fit: apply compares the new /boot/gptzfsboot with each partition before writing anything and stops if one is too small; the installer has made 512K partitions since FreeBSD 10"})
	}
	return cs
}

// resilverUnderWay describes the members of a pool being resilvered or
// replaced ("ada1p4 is being resilvered; 1234 is being replaced"), "" when
// none is.
func resilverUnderWay(pool *facts.Pool) string {
	var parts []string
	for _, m := range pool.Members {
		switch {
		case m.Resilvering && m.Disk != "":
			parts = append(parts, m.Name+" on "+m.Disk+" is being resilvered")
		case m.Resilvering:
			parts = append(parts, m.Name+" is being resilvered")
		case m.Replacing && m.Disk == "":
			parts = append(parts, m.Name+" is being replaced")
		}
	}
	return strings.Join(parts, "; ")
}

// waitForResilver is the fix for a pool whose resilver runs.
func waitForResilver(pool *facts.Pool, what string) string {
	fix := "wait until the resilver finishes (zpool status " + pool.Name + " says \"resilvered ... with 0 errors\" and every member is ONLINE), then plan again"
	if what != "" {
		fix += "; the disk being resilvered then gets the boot code too"
	}
	return fix
}

// loaderFeatureCheck warns when zpool upgrade would enable features the
// FreeBSD loader cannot read, or the pool already uses such features.
func loaderFeatureCheck(pool *facts.Pool, opts Options) (Check, bool) {
	c := Check{ID: "loader-features", Title: "pool features the boot loader can read"}
	switch {
	case len(pool.ActiveUnreadable) > 0:
		c.Verdict = Warn
		c.Reason = fmt.Sprintf("%s already uses %s, which the FreeBSD loader cannot read", pool.Name, strings.Join(pool.ActiveUnreadable, ", "))
		c.Fix = "check that the host boots from every disk before upgrading; zupgrade will not enable more features"
	case len(pool.LoaderUnreadable) > 0 && !opts.NoPoolUpgrade:
		c.Verdict = Warn
		c.Reason = fmt.Sprintf("zpool upgrade would enable %s on %s, which the FreeBSD loader cannot read once active", strings.Join(pool.LoaderUnreadable, ", "), pool.Name)
		c.Fix = "zupgrade enables the other features one by one and leaves these off; to make that lasting, set the pool's compatibility property to a FreeBSD profile (zpool set compatibility=... " + pool.Name + ", see /usr/share/zfs/compatibility.d)"
	default:
		return c, false
	}
	return c, true
}

func bootKinds(f *facts.Facts) string {
	switch f.BootMethod {
	case "BIOS", "UEFI":
		return f.BootMethod
	}
	return "BIOS or UEFI"
}

func bootPool(f *facts.Facts) *facts.Pool {
	for i := range f.Pools {
		if f.Pools[i].Name == f.BootPool && f.BootPool != "" {
			return &f.Pools[i]
		}
	}
	return nil
}

func diskByName(f *facts.Facts, name string) *facts.Disk {
	for i := range f.Disks {
		if f.Disks[i].Name == name {
			return &f.Disks[i]
		}
	}
	return nil
}

func sameBase(fetched string, to freebsdupdate.Release) bool {
	r, err := freebsdupdate.ParseRelease(fetched)
	return err == nil && r.Base() == to.Base()
}

func phaseOr(p string) string {
	if p == "" {
		return "install"
	}
	return p + " install"
}

// libsysCheck decides the EN-25:18 check: every upgrade from below 15 to 15
// or later needs a freebsd-update that installs libsys before libc
// (install_from_index before the errata sorts by path, so the new libc
// lands first and every dynamic tool fails: bug 289769).
func libsysCheck(f *facts.Facts, t target, tErr error) (Check, bool) {
	if tErr != nil || t.mode != "upgrade" || t.current.Major >= 15 || t.to.Major < 15 {
		return Check{}, false
	}
	c := Check{ID: "en-25-18", Title: "EN-25:18 installed before upgrading to 15"}
	if f.Update.LibsysOrdering {
		c.Verdict, c.Reason = OK, "freebsd-update installs libsys in order"
		return c, true
	}
	c.Verdict = Block
	c.Reason = "this freebsd-update lacks the EN-25:18 fix (libsys install ordering); upgrading to " + t.to.Base().String() + " with it can leave the system inoperative (bug 289769)"
	via, patches := freebsdupdate.LibsysErrataRelease(t.current)
	if patches {
		c.Fix = "apply patches to " + t.current.Base().String() + " first (zupgrade apply with no --to), then plan again"
	} else {
		c.Fix = t.current.Base().String() + " never received EN-25:18 and its patches do not bring it: upgrade to " + via.String() + " first (zupgrade apply --to " + via.String() + "), apply its patches (zupgrade apply with no --to), then plan again"
	}
	return c, true
}

// minRunRelease is the oldest FreeBSD whose kernel runs zupgrade: Go 1.26
// supports FreeBSD 12 and later (the Go wiki's FreeBSD page lists Go 1.19 as
// the last for 11-STABLE, Go 1.9.7 for 8 and 9).
var minRunRelease = freebsdupdate.MustParseRelease("12.0-RELEASE")

// runtimeCheck blocks a plan for a host whose running kernel is older than
// minRunRelease: zupgrade cannot run there, so apply could not carry the
// plan out (and on a real such host the binary does not start). A plan made
// from a capture still shows every step, for an admin doing them by hand.
func runtimeCheck(f *facts.Facts) (Check, bool) {
	r, err := freebsdupdate.ParseRelease(f.Release.Running)
	if err != nil {
		return Check{}, false
	}
	if !r.Before(minRunRelease) {
		return Check{}, false
	}
	return Check{ID: "runtime", Title: "zupgrade can run on this release", Verdict: Block,
		Reason: fmt.Sprintf("the running kernel is %s; zupgrade (built with Go 1.26) runs on FreeBSD %s or later only", r, minRunRelease.Version()),
		Fix:    "upgrade to FreeBSD 12 or later by hand first (freebsd-update -r RELEASE upgrade, install, reboot, install; the steps below show the commands for this host), then run zupgrade there"}, true
}
