// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// realZFSFileName, in the machine's state directory, names the directory
// of real OpenZFS programs (zpool and zfs) whose pools are the machine's:
// in a VM guest with OpenZFS, the pools live on the guest's real disks and
// only what is FreeBSD's alone stays simulated.
const realZFSFileName = "real-zfs"

// UseRealZFS makes the machine's zpool(8) and zfs(8) the real programs in
// dir, run on real pools of the same names as the model's: every simulated
// command that reads or changes a pool goes to them, and the model's pools
// follow the real ones (features, compatibility, bootfs) after each.
func (m *Machine) UseRealZFS(dir string) error {
	if !filepath.IsAbs(dir) || strings.ContainsAny(dir, "\n") {
		return fmt.Errorf("real OpenZFS programs: %q is not an absolute directory", dir)
	}
	return os.WriteFile(filepath.Join(m.stateDir(), realZFSFileName), []byte(dir+"\n"), 0o644)
}

// realZFS is the directory of the real OpenZFS programs, "" when the
// machine's pools are the model's only.
func (m *Machine) realZFS() string {
	data, err := os.ReadFile(filepath.Join(m.stateDir(), realZFSFileName))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// realPools is the PoolBackend over real OpenZFS: zpool and zfs are the
// real programs, and the operations bectl does go to the real pool as
// well as to the model (whose datasets keep the boot environments' files).
type realPools struct {
	modelPools
	dir string
}

// Zpool runs the real zpool(8) with the invocation's arguments, then
// reads the pools' properties back into the model. The real zpool is a
// newer OpenZFS than the running release's may be (the guest's 2.3 stands
// for 14.2's 2.2), and a zpool knows only the features of its own
// OpenZFS (module/zcommon/zfeature_common.c zpool_feature_init registers
// them; zpool get, zpool upgrade and zpool set feature@ go over that
// table): so what the running release's OpenZFS does not know (simhost's
// feature table, featuresOf; OpenZFS's cmd/zpool/compatibility.d/
// openzfs-2.2 lists 2.2's) is left out of zpool get's lines, zpool set
// of such a feature fails as the release's zpool does, and zpool upgrade
// enables only the features the release knows, one zpool set
// feature@NAME=enabled each on the real pool, saying what the release's
// zpool upgrade says (zpoolUpgrade). zpool status is the real one's,
// but for what it says of the features, which is the release's
// (releaseFeatureStatus).
func (b realPools) Zpool(inv *Invocation) int {
	if len(inv.Args) == 0 {
		return b.run(inv, "zpool")
	}
	var rc int
	switch sub, args := inv.Args[0], inv.Args[1:]; {
	case sub == "upgrade":
		rc = b.upgrade(inv, args)
	case sub == "set" && len(args) == 2 && strings.HasPrefix(args[0], "feature@") && !inv.knowsFeature(strings.TrimPrefix(strings.SplitN(args[0], "=", 2)[0], "feature@")):
		return zpoolSet(inv, args)
	case sub == "status":
		var out string
		out, rc = b.runCaptured(inv, "zpool", inv.Args...)
		if err := b.inv.m.syncRealPools(b.inv.model, b.dir); err != nil {
			inv.errf("simhost: reading the real pools back: %v\n", err)
			return 1
		}
		inv.out("%s", inv.releaseFeatureStatus(out))
		return rc
	case sub == "get":
		var out string
		out, rc = b.runCaptured(inv, "zpool", inv.Args...)
		inv.out("%s", inv.knownFeatureLines(out))
	default:
		rc = b.run(inv, "zpool", inv.Args...)
	}
	if err := b.inv.m.syncRealPools(b.inv.model, b.dir); err != nil {
		inv.errf("simhost: reading the real pools back: %v\n", err)
		return 1
	}
	return rc
}

// knowsFeature reports whether the running release's OpenZFS knows the
// pool feature name (short name or GUID).
func (inv *Invocation) knowsFeature(name string) bool { return KnownTo(name, inv.zfsRelease()) }

// knownFeatureLines drops the lines of zpool get's output that name a
// feature (a field feature@NAME) the running release's OpenZFS does not
// know.
func (inv *Invocation) knownFeatureLines(out string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		keep := true
		for _, f := range strings.Fields(line) {
			if name, ok := strings.CutPrefix(f, "feature@"); ok && !inv.knowsFeature(name) {
				keep = false
			}
		}
		if keep {
			b.WriteString(line)
		}
	}
	return b.String()
}

// upgrade is zpool upgrade on the real pools as the running release's
// zpool does it: the model, read from the real pools, decides and says
// what is enabled (zpoolUpgrade: the release's features within the
// compatibility property), and each feature it enabled is enabled on the
// real pool with zpool set feature@NAME=enabled (zpool_main.c
// upgrade_enable_all sets them one by one the same way, through
// zpool_set_prop). A legacy pool is not modelled on real OpenZFS.
func (b realPools) upgrade(inv *Invocation, args []string) int {
	if err := inv.m.syncRealPools(inv.model, b.dir); err != nil {
		inv.errf("simhost: reading the real pools: %v\n", err)
		return 1
	}
	before := map[*Pool]map[string]string{}
	for _, p := range inv.model.Pools {
		if p.Version < 5000 {
			return inv.unsupported("zpool upgrade of a legacy pool on real OpenZFS")
		}
		before[p] = maps.Clone(p.Features)
	}
	rc := zpoolUpgrade(inv, args)
	for _, p := range inv.model.Pools {
		for _, f := range featuresOf(inv.zfsRelease()) {
			if before[p][f.Name] != "" || p.Features[f.Name] == "" {
				continue
			}
			if err := b.real("zpool", "set", "feature@"+f.Name+"=enabled", p.Name); err != nil {
				inv.errf("%v\n", err)
				rc = 1
			}
		}
	}
	return rc
}

// Zfs runs the real zfs(8) with the invocation's arguments.
func (b realPools) Zfs(inv *Invocation) int { return b.run(inv, "zfs", inv.Args...) }

// run runs a real program with the invocation's standard streams.
func (b realPools) run(inv *Invocation, prog string, args ...string) int {
	cmd := exec.CommandContext(inv.Ctx, filepath.Join(b.dir, prog), args...)
	cmd.Env = []string{"PATH=" + b.dir + ":/sbin:/bin", "LC_ALL=C"}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inv.Stdin, inv.Stdout, inv.Stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		inv.errf("simhost: %s: %v\n", prog, err)
		return 127
	}
	return 0
}

// runCaptured is run with the real program's standard output returned
// instead of printed, for what simhost changes in it before printing.
func (b realPools) runCaptured(inv *Invocation, prog string, args ...string) (string, int) {
	var out bytes.Buffer
	stdout := inv.Stdout
	inv.Stdout = &out
	rc := b.run(inv, prog, args...)
	inv.Stdout = stdout
	return out.String(), rc
}

// real runs a real program for an operation, failing with what it said.
func (b realPools) real(prog string, args ...string) error {
	out, err := realCommand(b.dir, prog, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", prog, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// Snapshot snapshots the real dataset too (bectl create: lib/libbe/be.c
// be_create_depth takes a recursive snapshot, zfs_snapshot with
// recursion). The files the model keeps for the snapshot of a boot
// environment whose files are not in its real dataset (the running
// system's without a real root, which live on the machine's own disk)
// are put into the real dataset first, so that the real snapshot and its
// clones hold them (writeRealBE); with a real root (realroot.go) the
// running system's files are the real dataset's already.
func (b realPools) Snapshot(dataset, name string, recursive bool) error {
	if err := b.modelPools.Snapshot(dataset, name, recursive); err != nil {
		return err
	}
	// A boot environment mounted from its real dataset (bectl mount, or
	// the running system's real root: realroot.go) has its files there.
	_, d := b.inv.model.dataset(dataset)
	if _, ok := statDir(b.inv.m.storePath(dataset + "@" + name)); ok && d != nil && !d.RealFiles {
		if err := b.writeRealBE(dataset, b.inv.m.storePath(dataset+"@"+name)); err != nil {
			return err
		}
	}
	args := []string{"snapshot"}
	if recursive {
		args = append(args, "-r")
	}
	return b.real("zfs", append(args, dataset+"@"+name)...)
}

// Clone clones the real snapshot too, not mounted automatically
// (lib/libbe/be.c be_clone_cb: the clone gets canmount=noauto).
func (b realPools) Clone(snapshot, target string) error {
	if err := b.modelPools.Clone(snapshot, target); err != nil {
		return err
	}
	return b.real("zfs", "clone", "-o", "canmount=noauto", snapshot, target)
}

// Destroy destroys the real dataset too, with its snapshots
// (lib/libbe/be.c be_destroy_internal: the dataset and its children).
func (b realPools) Destroy(dataset string) error {
	if err := b.modelPools.Destroy(dataset); err != nil {
		return err
	}
	return b.real("zfs", "destroy", "-r", dataset)
}

// Promote promotes the real clone too (lib/libbe/be.c be_activate:
// zfs_promote of a boot environment that is a clone).
func (b realPools) Promote(dataset string) error {
	if err := b.modelPools.Promote(dataset); err != nil {
		return err
	}
	return b.real("zfs", "promote", dataset)
}

// SetBootfs sets the real pool's bootfs too (lib/libbe/be.c be_activate:
// zpool_set_prop of "bootfs"); the labels' bootenv, and a one-time
// activation in it, stay as they are (as in the model's SetBootfs).
func (b realPools) SetBootfs(pool, dataset string) error {
	if err := b.modelPools.SetBootfs(pool, dataset); err != nil {
		return err
	}
	return b.real("zpool", "set", "bootfs="+dataset, pool)
}

// SetNextBoot is the one-time activation (bectl activate -t, or -T with
// no dataset) on real disks: in the pool labels' bootenv area, through
// the running OpenZFS (setRealBootonce), and not in the model, whose
// NextBoot the boot does not read then (takeBootonce).
func (b realPools) SetNextBoot(pool, dataset string) error {
	if devDir := b.inv.m.bootenvOnDisks(); devDir != "" {
		return b.setRealBootonce(pool, devDir, dataset)
	}
	return b.modelPools.SetNextBoot(pool, dataset)
}

// syncRealPools reads every real pool's properties (zpool get -H -p -o
// name,property,value all: zpool_main.c zpool_do_get) into the model's
// pool of the same name: its features (disabled ones are not listed, as
// in the model), compatibility, bootfs and SPA version ("-" with feature
// flags, which is 5000: include/sys/fs/zfs.h SPA_VERSION_FEATURES).
func (m *Machine) syncRealPools(model *Model, dir string) error {
	cmd := exec.Command(filepath.Join(dir, "zpool"), "get", "-H", "-p", "-o", "name,property,value", "all")
	cmd.Env = []string{"PATH=" + dir + ":/sbin:/bin", "LC_ALL=C"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("zpool get: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	seen := map[*Pool]map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			continue
		}
		p := model.pool(f[0])
		if p == nil {
			continue
		}
		if seen[p] == nil {
			seen[p] = map[string]string{}
		}
		prop, val := f[1], f[2]
		switch {
		case strings.HasPrefix(prop, "feature@"):
			if val == "enabled" || val == "active" {
				seen[p][strings.TrimPrefix(prop, "feature@")] = val
			}
		case prop == "compatibility":
			p.Compatibility = val
		case prop == "bootfs":
			p.Bootfs = strings.TrimPrefix(val, "-")
		case prop == "version":
			if val == "-" {
				p.Version = 5000
			} else {
				fmt.Sscan(val, &p.Version)
			}
		}
	}
	for p, feats := range seen {
		p.Features = feats
	}
	return nil
}
