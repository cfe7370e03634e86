// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/log"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/steps"
)

// stateDataset is the file system the state directory dir is on, as df
// names it (for ZFS the dataset; bin/df/df.c prints statfs(2)'s
// f_mntfromname): the nearest directory of dir that exists is asked, as
// the state directory itself is made by the first apply. "" when it
// cannot tell, and with a capture (replay), which holds no such probe.
// A staged upgrade needs its journal outside the boot environments.
func stateDataset(ctx context.Context, env Env, replay, dir string, logger *log.Logger) string {
	if replay != "" {
		return ""
	}
	r, err := hostRunner(env, "", logger)
	if err != nil {
		return ""
	}
	return dfDataset(ctx, r, dir)
}

// dfDataset is the file system df -k names for the nearest directory of
// dir that exists, "" when it cannot tell.
func dfDataset(ctx context.Context, r host.Runner, dir string) string {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			out, err := host.Output(ctx, r, "df", "-k", d)
			if err != nil {
				return ""
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if f := strings.Fields(lines[len(lines)-1]); len(lines) > 1 && len(f) >= 6 {
				return f[0]
			}
			return ""
		}
		if d == filepath.Dir(d) {
			return ""
		}
	}
}

// replayStateDirWhy is why a plan from a capture does not know where the
// journal would be on the captured host: the capture holds the probes of
// inspect, no df -k of a state directory and no zfs get of the pool's
// root dataset (sharedStateDir), and the machine that plans is not the
// host.
const replayStateDirWhy = "a capture cannot tell (it holds no df -k of the state directory, nor zfs get of the pool's root dataset, where zupgrade keeps it without --state-dir): plan on the host itself to know"

// defaultStateDir is the state directory when neither --state-dir nor
// ZUPGRADE_STATE_DIR names one, with why it is there, for plan's Method
// line. A staged upgrade needs its journal where both boot environments
// read it, and every command must find it in either of them without a
// flag; so on a host whose root is a boot environment it is zupgrade/ on
// the boot pool's root dataset (sharedStateDir: bsdinstall's zroot at
// /zroot, usr.sbin/bsdinstall/scripts/zfsboot), which is no part of any
// boot environment and which rc.d/zfs mounts (zfs mount -va, BEFORE
// FILESYSTEMS: libexec/rc/rc.d/zfs) before the boot hook runs
// (REQUIRE: LOGIN). Whichever boot environment runs, the pool is the
// same, so the directory is. Else it is /var/db/zupgrade, inside the boot
// environment, and why says what keeps the pool's root dataset from
// holding it; so is a run still pending there (one started before
// zupgrade kept its state on the pool) while the pool's directory has
// none.
func defaultStateDir(ctx context.Context, env Env) (dir, why string) {
	root := hostRoot(env)
	inBE := filepath.Join(root, steps.DefaultStateDir)
	r := host.ReadOnlyRunner{Next: env.runner()}
	shared, pool, why := sharedStateDir(ctx, r, root)
	if shared == "" {
		return inBE, why
	}
	if pendingIn(inBE) && !journalIn(shared) {
		return inBE, fmt.Sprintf("a run is pending in %s, where it started", inBE)
	}
	why = fmt.Sprintf("the journal is kept in %s, on the pool's root dataset %s, which both boot environments mount", shared, pool)
	if _, err := os.Stat(shared); err != nil {
		why += " (apply creates the directory)"
	}
	return shared, why
}

// sharedStateDir is zupgrade/ on the root dataset of the pool the root
// file system is on (kenv vfs.root.mountfrom, zfs:POOL/ROOT/BE), when
// that dataset is mounted and writable: an absolute mountpoint,
// canmount=on and readonly=off (zfs get), and df -k names it for its
// mount point. Otherwise dir is "" and why says what is missing ("" when
// the root is no boot environment at all: plan says so itself).
func sharedStateDir(ctx context.Context, r host.Runner, root string) (dir, pool, why string) {
	out, err := host.Output(ctx, r, "kenv", "-q", "vfs.root.mountfrom")
	ds, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "zfs:")
	if err != nil || !ok || !strings.Contains(path.Dir(ds), "/") {
		return "", "", ""
	}
	pool, _, _ = strings.Cut(ds, "/")
	// fix is what the admin can do: make the dataset hold it, or name
	// another directory.
	fix := func(cmd string) string {
		return fmt.Sprintf("; %s, or give --state-dir a directory outside the boot environments", cmd)
	}
	out, err = host.Output(ctx, r, "zfs", "get", "-H", "-o", "property,value", "mountpoint,canmount,readonly", pool)
	if err != nil {
		return "", pool, fmt.Sprintf("the pool's root dataset %s, where zupgrade keeps its journal, cannot be read: %v%s", pool, err, fix("check the pool (zpool status "+pool+")"))
	}
	props := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if k, v, ok := strings.Cut(l, "\t"); ok {
			props[k] = v
		}
	}
	mp := props["mountpoint"]
	switch {
	case !path.IsAbs(mp):
		return "", pool, fmt.Sprintf("the pool's root dataset %s, where zupgrade keeps its journal, has mountpoint=%s and is not mounted (zfs get mountpoint %s)%s", pool, mp, pool, fix("zfs set mountpoint=/"+pool+" "+pool+" (bsdinstall's)"))
	case props["canmount"] != "on":
		return "", pool, fmt.Sprintf("the pool's root dataset %s, where zupgrade keeps its journal, has canmount=%s and is not mounted (zfs get canmount %s)%s", pool, props["canmount"], pool, fix("zfs set canmount=on "+pool))
	case props["readonly"] != "off":
		return "", pool, fmt.Sprintf("the pool's root dataset %s, where zupgrade keeps its journal, has readonly=%s (zfs get readonly %s)%s", pool, props["readonly"], pool, fix("zfs set readonly=off "+pool))
	}
	at := filepath.Join(root, mp)
	if got := dfDataset(ctx, r, at); got != pool {
		return "", pool, fmt.Sprintf("the pool's root dataset %s, where zupgrade keeps its journal, is not mounted at %s (df -k %s names %s)%s", pool, mp, mp, orDash(got), fix("zfs mount "+pool))
	}
	dir = filepath.Join(at, "zupgrade")
	if err := steps.CheckHookDir("the state directory", dir); err != nil {
		return "", pool, fmt.Sprintf("the pool's root dataset %s is mounted at %s, which the boot hook cannot be given: %v", pool, mp, err)
	}
	return dir, pool, ""
}

// pendingIn reports whether the state directory dir holds the journal of
// a run that has not ended.
func pendingIn(dir string) bool {
	j, err := steps.Store{Dir: dir}.Load()
	return err == nil && j != nil && j.Status != steps.StatusDone && j.Status != steps.StatusRolledBack
}

// journalIn reports whether the state directory dir holds a journal.
func journalIn(dir string) bool {
	_, err := os.Stat(steps.Store{Dir: dir}.JournalPath())
	return err == nil
}
