// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// PoolBackend is the one seam between the simulated host and its ZFS
// pools. The model-backed implementation answers from the JSON model;
// a backend over real OpenZFS (in a VM guest) can replace it, leaving
// the FreeBSD-specific commands simulated.
type PoolBackend interface {
	// Pools returns the imported pools.
	Pools() []*Pool
	// Zpool and Zfs run the zpool(8) and zfs(8) commands of the invocation.
	Zpool(inv *Invocation) int
	Zfs(inv *Invocation) int
	// Snapshot snapshots a dataset (and its children when recursive).
	Snapshot(dataset, name string, recursive bool) error
	// Clone makes a new dataset from a snapshot (dataset@name).
	Clone(snapshot, target string) error
	// Destroy removes a dataset and its snapshots.
	Destroy(dataset string) error
	// SetBootfs sets the pool's bootfs; SetNextBoot arms a one-time boot.
	SetBootfs(pool, dataset string) error
	SetNextBoot(pool, dataset string) error
	// Promote makes a clone independent of its origin (zfs promote).
	Promote(dataset string) error
}

// pools returns the backend for this invocation's machine: the real
// OpenZFS pools when the machine has them (UseRealZFS), else the model's.
func (inv *Invocation) pools() PoolBackend {
	if dir := inv.m.realZFS(); dir != "" {
		return realPools{modelPools{inv}, dir}
	}
	return modelPools{inv}
}

// modelPools is the PoolBackend over the JSON model.
type modelPools struct{ inv *Invocation }

// Pools returns the pools of the model.
func (b modelPools) Pools() []*Pool { return b.inv.model.Pools }

// Snapshot records the snapshot and keeps the files of boot environments.
func (b modelPools) Snapshot(dataset, name string, recursive bool) error {
	model := b.inv.model
	p, d := model.dataset(dataset)
	if d == nil {
		return fmt.Errorf("dataset does not exist")
	}
	var targets []*Dataset
	for _, c := range p.Datasets {
		if c == d || (recursive && strings.HasPrefix(c.Name, d.Name+"/")) {
			targets = append(targets, c)
		}
	}
	for _, t := range targets {
		for _, s := range t.Snapshots {
			if s.Name == name {
				return fmt.Errorf("dataset already exists")
			}
		}
	}
	for _, t := range targets {
		t.Snapshots = append(t.Snapshots, Snapshot{Name: name, Created: model.Clock})
		if err := b.inv.m.snapshotDataset(model, t.Name, t.Name+"@"+name); err != nil {
			return err
		}
	}
	return nil
}

// snapshotDataset stores the files of a dataset under a snapshot name,
// for the datasets whose files the simulated host keeps (boot
// environments).
func (m *Machine) snapshotDataset(model *Model, dataset, snap string) error {
	if dataset == beRootDataset(model) && model.Running != nil {
		return m.snapshotRunning(model, snap)
	}
	if _, d := model.dataset(dataset); d != nil && d.Mounted != "" {
		return m.snapshotMounted(d, snap)
	}
	if _, ok := statDir(m.storePath(dataset)); ok {
		return m.copyStored(dataset, snap)
	}
	return nil
}

// Clone makes a dataset from a snapshot, with the snapshot's stored files.
func (b modelPools) Clone(snapshot, target string) error {
	model := b.inv.model
	src, snapName, ok := strings.Cut(snapshot, "@")
	if !ok {
		return fmt.Errorf("not a snapshot: %s", snapshot)
	}
	p, d := model.dataset(src)
	if d == nil {
		return fmt.Errorf("dataset does not exist")
	}
	found := false
	for _, s := range d.Snapshots {
		found = found || s.Name == snapName
	}
	if !found {
		return fmt.Errorf("snapshot does not exist")
	}
	if _, t := model.dataset(target); t != nil {
		return fmt.Errorf("dataset already exists")
	}
	nd := &Dataset{Name: target, Mountpoint: d.Mountpoint, Canmount: d.Canmount, Version: d.Version, Created: model.Clock, Origin: snapshot, Used: 8 << 10}
	p.Datasets = append(p.Datasets, nd)
	sort.SliceStable(p.Datasets, func(i, j int) bool { return p.Datasets[i].Name < p.Datasets[j].Name })
	if _, ok := statDir(b.inv.m.storePath(snapshot)); ok {
		return b.inv.m.copyStored(snapshot, target)
	}
	return nil
}

// Destroy removes a dataset and its stored files.
func (b modelPools) Destroy(dataset string) error {
	p, d := b.inv.model.dataset(dataset)
	if d == nil {
		return fmt.Errorf("dataset does not exist")
	}
	for i, x := range p.Datasets {
		if x == d {
			p.Datasets = append(p.Datasets[:i], p.Datasets[i+1:]...)
			break
		}
	}
	removeStored(b.inv.m, dataset)
	return nil
}

// SetBootfs sets bootfs (zpool_set_prop of "bootfs"); a one-time
// activation stays: the bootfs is a pool property, the one-time boot
// environment is in the labels' bootenv area, which only
// lzbe_set_boot_device and the boot code change (lib/libbe/be.c
// be_activate, be_deactivate).
func (b modelPools) SetBootfs(pool, dataset string) error {
	p := b.inv.model.pool(pool)
	if p == nil {
		return fmt.Errorf("no such pool '%s'", pool)
	}
	p.Bootfs = dataset
	return nil
}

// SetNextBoot arms a one-time boot of dataset; "" removes it.
func (b modelPools) SetNextBoot(pool, dataset string) error {
	p := b.inv.model.pool(pool)
	if p == nil {
		return fmt.Errorf("no such pool '%s'", pool)
	}
	p.NextBoot = dataset
	return nil
}

// Promote is zfs promote (zfs_ioc_promote, module/zfs/dsl_dataset.c
// dsl_dataset_promote): the origin's snapshots up to and including the
// one the clone was made from move to the clone, the clone takes the
// origin's own origin, the origin becomes a clone of the moved snapshot,
// and the other clones of the moved snapshots follow them.
func (b modelPools) Promote(dataset string) error {
	p, d := b.inv.model.dataset(dataset)
	if d == nil {
		return fmt.Errorf("cannot open '%s': dataset does not exist", dataset)
	}
	src, snap, ok := strings.Cut(d.Origin, "@")
	if !ok {
		return fmt.Errorf("cannot promote '%s': not a cloned filesystem", dataset)
	}
	_, o := b.inv.model.dataset(src)
	if o == nil {
		return fmt.Errorf("cannot promote '%s': origin %s does not exist", dataset, d.Origin)
	}
	at := -1
	for i, s := range o.Snapshots {
		if s.Name == snap {
			at = i
		}
	}
	if at < 0 {
		return fmt.Errorf("cannot promote '%s': origin %s does not exist", dataset, d.Origin)
	}
	moved := o.Snapshots[:at+1]
	for _, s := range moved {
		for _, x := range d.Snapshots {
			if x.Name == s.Name {
				return fmt.Errorf("cannot promote '%s': a snapshot named '%s' exists in both", dataset, s.Name)
			}
		}
	}
	for _, s := range moved {
		from, to := src+"@"+s.Name, dataset+"@"+s.Name
		for _, x := range p.Datasets {
			if x.Origin == from {
				x.Origin = to
			}
		}
		if err := renameStored(b.inv.m, from, to); err != nil {
			return err
		}
	}
	d.Snapshots = append(slices.Clone(moved), d.Snapshots...)
	o.Snapshots = slices.Clone(o.Snapshots[at+1:])
	d.Origin, o.Origin = o.Origin, dataset+"@"+snap
	return nil
}

// zfsRelease is the release whose ZFS the running system uses.
func (inv *Invocation) zfsRelease() Release { return inv.runningKernel() }

// featureFlags reports whether the running ZFS has feature flags.
func (inv *Invocation) featureFlags() bool { return inv.zfsRelease().PoolVersion() >= 5000 }

// openzfs reports whether the running ZFS is OpenZFS (13.0 on).
func (inv *Invocation) openzfs() bool { return inv.zfsRelease().AtLeast(13, 0) }

func cmdZpool(inv *Invocation) int { return inv.pools().Zpool(inv) }
func cmdZfs(inv *Invocation) int   { return inv.pools().Zfs(inv) }

// Zpool is zpool(8): status, get, list, set, upgrade, version.
func (b modelPools) Zpool(inv *Invocation) int {
	if len(inv.Args) == 0 {
		inv.errf("missing command\nusage: zpool command args ...\n")
		return 2
	}
	sub, args := inv.Args[0], inv.Args[1:]
	switch sub {
	case "status":
		return zpoolStatus(inv, args)
	case "get":
		return zpoolGet(inv, args)
	case "upgrade":
		return zpoolUpgrade(inv, args)
	case "list":
		return zpoolList(inv, args)
	case "set":
		return zpoolSet(inv, args)
	case "detach":
		return zpoolDetach(inv, args)
	case "version":
		if !inv.openzfs() {
			inv.errf("unrecognized command 'version'\n")
			return 2
		}
		v := openzfsVersion(inv.zfsRelease())
		inv.out("zfs-%s-FreeBSD_g0simhost\nzfs-kmod-%s-FreeBSD_g0simhost\n", v, v)
		return 0
	}
	return inv.unsupported("zpool " + sub)
}

// zpoolDetach is zpool detach POOL DEVICE (zpool_do_detach in
// cmd/zpool/zpool_main.c).
func zpoolDetach(inv *Invocation, args []string) int {
	if len(args) != 2 {
		inv.errf("missing arguments\nusage:\n\tdetach <pool> <device>\n")
		return 2
	}
	p := inv.model.pool(args[0])
	if p == nil {
		inv.errf("cannot open '%s': no such pool\n", args[0])
		return 1
	}
	if err := p.detach(args[1]); err != nil {
		inv.errf("%v\n", err)
		return 1
	}
	return 0
}

// openzfsVersion is the OpenZFS version a release ships.
func openzfsVersion(r Release) string {
	switch {
	case r.AtLeast(15, 0):
		return "2.4.0"
	case r.AtLeast(14, 3):
		return "2.2.7"
	case r.AtLeast(14, 0):
		return "2.2.0"
	case r.AtLeast(13, 1):
		return "2.1.4"
	default:
		return "2.0.0"
	}
}

// selectPools picks the pools named in args (all when none).
func selectPools(inv *Invocation, names []string) ([]*Pool, bool) {
	if len(names) == 0 {
		return inv.pools().Pools(), true
	}
	var out []*Pool
	ok := true
	for _, n := range names {
		p := inv.model.pool(n)
		if p == nil {
			inv.errf("cannot open '%s': no such pool\n", n)
			ok = false
			continue
		}
		out = append(out, p)
	}
	return out, ok
}

// notEnabled lists the features the running ZFS supports that are not
// enabled on the pool.
func (inv *Invocation) notEnabled(p *Pool) []string {
	var out []string
	for _, f := range featuresOf(inv.zfsRelease()) {
		if p.featureState(f.Name) == "disabled" {
			out = append(out, f.Name)
		}
	}
	return out
}

func zpoolStatus(inv *Invocation, args []string) int {
	opts, names, err := getopt(args, "xvP")
	if err != nil {
		return inv.unsupported("zpool status " + err.Error())
	}
	if has(opts, 'P') {
		return inv.unsupported("zpool status -P")
	}
	pools, ok := selectPools(inv, names)
	if len(pools) == 0 && ok {
		inv.out("no pools available\n")
		return 0
	}
	for i, p := range pools {
		if i > 0 {
			inv.out("\n")
		}
		inv.writePoolStatus(p)
	}
	if !ok {
		return 1
	}
	return 0
}

func (inv *Invocation) writePoolStatus(p *Pool) {
	m := inv.model
	state := m.poolState(p)
	inv.out("  pool: %s\n state: %s\n", p.Name, state)
	see := "https://openzfs.github.io/openzfs-docs/msg/ZFS-8000-2Q"
	if !inv.openzfs() {
		see = "http://illumos.org/msg/ZFS-8000-2Q"
	}
	resilvering := p.Resilver != nil && !p.Resilver.Done
	switch {
	case resilvering:
		// libzfs_status.c check_status: a replacing group's old member is
		// expected to be missing, so the resilver is what is reported.
		inv.out("status: One or more devices is currently being resilvered.  The pool will\n\tcontinue to function, possibly in a degraded state.\naction: Wait for the resilver to complete.\n")
	case state == "DEGRADED":
		inv.out("status: One or more devices could not be opened.  Sufficient replicas exist for\n\tthe pool to continue functioning in a degraded state.\naction: Attach the missing device and online it using 'zpool online'.\n   see: %s\n", see)
	case p.Version < 5000 && inv.featureFlags():
		inv.out("status: The pool is formatted using a legacy on-disk format.  The pool can\n\tstill be used, but some features are unavailable.\naction: Upgrade the pool using 'zpool upgrade'.  Once this is done, the\n\tpool will no longer be accessible on software that does not support feature\n\tflags.\n")
	case p.Version < inv.zfsRelease().PoolVersion():
		inv.out("status: The pool is formatted using an older on-disk format.  The pool can\n\tstill be used, but some features are unavailable.\naction: Upgrade the pool using 'zpool upgrade'.  Once this is done, the\n\tpool will no longer be accessible on older software versions.\n")
	case p.Version >= 5000:
		// Within the compatibility property (featurestatus.go).
		text, _ := inv.featureStatus(p)
		if text == featDisabledText && !inv.zfsRelease().AtLeast(13, 1) {
			text = "status: Some supported features are not enabled on the pool. The pool can\n\tstill be used, but some features are unavailable.\naction: Enable all features using 'zpool upgrade'. Once this is done,\n\tthe pool may no longer be accessible by software that does not support\n\tthe features. See zpool-features(7) for details.\n"
		}
		inv.out("%s", text)
	}
	scan := p.Scan
	if p.Resilver != nil {
		scan = p.Resilver.scanText(inv.zfsRelease(), p.Alloc)
	}
	if inv.zfsRelease().PoolVersion() < 28 {
		inv.out(" scrub: %s\nconfig:\n\n", scan)
	} else {
		inv.out("  scan: %s\nconfig:\n\n", scan)
	}
	width := len(p.Name)
	var walk func(v *Vdev, depth int)
	names := map[*Vdev]string{}
	counter := map[string]int{}
	childIndex := map[*Vdev]int{}
	var nameOf func(v *Vdev) string
	nameOf = func(v *Vdev) string {
		if n, ok := names[v]; ok {
			return n
		}
		var n string
		switch {
		case v.Type == "disk" && m.leafState(v) != "ONLINE":
			n = fmt.Sprint(v.GUID)
		case v.Type == "disk":
			n = v.Name
		case v.Type == "replacing":
			// Named by its vdev id, its place in the parent group
			// (zpool_vdev_name in lib/libzfs/libzfs_pool.c).
			n = fmt.Sprintf("%s-%d", v.Type, childIndex[v])
		default:
			n = fmt.Sprintf("%s-%d", v.Type, counter[v.Type])
			if !inv.featureFlags() && v.Type == "mirror" && !inv.zfsRelease().AtLeast(8, 3) {
				n = v.Type
			}
			counter[v.Type]++
		}
		names[v] = n
		return n
	}
	walk = func(v *Vdev, depth int) {
		for i, c := range v.Children {
			childIndex[c] = i
		}
		if l := len(nameOf(v)) + depth; l > width {
			width = l
		}
		for _, c := range v.Children {
			walk(c, depth+2)
		}
	}
	for _, v := range p.Vdevs {
		walk(v, 2)
	}
	if width < 10 {
		width = 10
	}
	inv.out("\t%-*s  %-8s %5s %5s %5s\n", width, "NAME", "STATE", "READ", "WRITE", "CKSUM")
	inv.out("\t%-*s  %-8s %5d %5d %5d\n", width, p.Name, state, 0, 0, 0)
	var print func(v *Vdev, depth int)
	print = func(v *Vdev, depth int) {
		st := m.vdevState(v)
		line := fmt.Sprintf("\t%*s%-*s  %-8s %5d %5d %5d", depth, "", width-depth, nameOf(v), st, 0, 0, 0)
		if v.Type == "disk" && st == "UNAVAIL" {
			line += "  was /dev/" + v.Name
		}
		if v.Type == "disk" && st == "FAULTED" {
			line += "  corrupted data"
		}
		if v.Resilvering && resilvering {
			line += "  (resilvering)" // print_status_config in zpool_main.c
		}
		inv.out("%s\n", line)
		for _, c := range v.Children {
			print(c, depth+2)
		}
	}
	for _, v := range p.Vdevs {
		print(v, 2)
	}
	inv.out("\nerrors: No known data errors\n")
}

// poolProperty is one row of zpool get.
type poolProperty struct{ name, value, parsable, source string }

// nicenum formats a size as zfs_nicenum does for zpool, zfs and bectl:
// three significant digits (37.7G, 655M, 4.20M).
func nicenum(n int64) string {
	const units = "BKMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d%s", n, map[bool]string{true: "", false: "B"}[n == 0])
	}
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	switch {
	case f < 10:
		return fmt.Sprintf("%.2f%c", f, units[i])
	case f < 100:
		return fmt.Sprintf("%.1f%c", f, units[i])
	}
	return fmt.Sprintf("%.0f%c", f, units[i])
}

// humanBytes formats a size as humanize_number does for gpart into a
// four-character field: 512K, 2.0G, 38G, 1.0M.
func humanBytes(n int64) string {
	const units = "BKMGTPE"
	f := float64(n)
	i := 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%dB", n)
	}
	if f >= 999.5 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if f < 9.95 {
		return fmt.Sprintf("%.1f%c", f, units[i])
	}
	return fmt.Sprintf("%.0f%c", f, units[i])
}

// poolProperties lists the properties zpool get all prints for the pool
// on the running release.
func (inv *Invocation) poolProperties(p *Pool) []poolProperty {
	r := inv.zfsRelease()
	m := inv.model
	free := p.Size - p.Alloc
	capPct := p.Alloc * 100 / p.Size
	version := "-"
	versionSrc := "default"
	if p.Version < 5000 {
		version, versionSrc = fmt.Sprint(p.Version), "local"
	}
	bootfs, bootfsSrc := "-", "default"
	if p.Bootfs != "" {
		bootfs, bootfsSrc = p.Bootfs, "local"
	}
	props := []poolProperty{
		{"size", nicenum(p.Size), fmt.Sprint(p.Size), "-"},
		{"capacity", fmt.Sprintf("%d%%", capPct), fmt.Sprint(capPct), "-"},
		{"altroot", "-", "-", "default"},
		{"health", m.poolState(p), m.poolState(p), "-"},
		{"guid", fmt.Sprint(p.GUID), fmt.Sprint(p.GUID), "-"},
		{"version", version, version, versionSrc},
		{"bootfs", bootfs, bootfs, bootfsSrc},
		{"delegation", "on", "on", "default"},
		{"autoreplace", "off", "off", "default"},
		{"cachefile", "-", "-", "default"},
		{"failmode", "wait", "wait", "default"},
		{"listsnapshots", "off", "off", "default"},
		{"autoexpand", "off", "off", "default"},
	}
	if !r.AtLeast(13, 0) {
		props = append(props, poolProperty{"dedupditto", "0", "0", "default"})
	}
	props = append(props,
		poolProperty{"dedupratio", "1.00x", "1.00", "-"},
		poolProperty{"free", nicenum(free), fmt.Sprint(free), "-"},
		poolProperty{"allocated", nicenum(p.Alloc), fmt.Sprint(p.Alloc), "-"},
		poolProperty{"readonly", "off", "off", "-"},
	)
	if r.AtLeast(13, 0) {
		props = append(props, poolProperty{"ashift", "12", "12", "local"})
	}
	props = append(props, poolProperty{"comment", "-", "-", "default"}, poolProperty{"expandsize", "-", "-", "-"})
	if r.zfsEra() >= 902 {
		props = append(props, poolProperty{"freeing", "0", "0", "-"})
	}
	if r.AtLeast(10, 0) {
		props = append(props, poolProperty{"fragmentation", "1%", "1", "-"}, poolProperty{"leaked", "0", "0", "-"})
	}
	if r.AtLeast(12, 0) {
		props = append(props,
			poolProperty{"multihost", "off", "off", "default"},
			poolProperty{"checkpoint", "-", "-", "-"},
			poolProperty{"load_guid", fmt.Sprint(p.GUID ^ 0x5a5a5a5a), fmt.Sprint(p.GUID ^ 0x5a5a5a5a), "-"},
		)
	}
	if r.AtLeast(13, 0) {
		props = append(props, poolProperty{"autotrim", "off", "off", "default"})
	}
	if r.AtLeast(13, 1) {
		src := "default"
		if p.Compatibility != "off" {
			src = "local"
		}
		props = append(props, poolProperty{"compatibility", p.Compatibility, p.Compatibility, src})
	}
	if r.AtLeast(14, 0) {
		props = append(props,
			poolProperty{"bcloneused", "0", "0", "-"},
			poolProperty{"bclonesaved", "0", "0", "-"},
			poolProperty{"bcloneratio", "1.00x", "1.00", "-"},
		)
	}
	if r.PoolVersion() >= 5000 {
		for _, f := range featuresOf(r) {
			st := p.featureState(f.Name)
			props = append(props, poolProperty{"feature@" + f.Name, st, st, "local"})
		}
		// Features active on the pool that this release does not know.
		known := map[string]bool{}
		for _, f := range featuresOf(r) {
			known[f.Name] = true
		}
		var unknown []string
		for name := range p.Features {
			if !known[name] {
				unknown = append(unknown, name)
			}
		}
		sort.Strings(unknown)
		for _, name := range unknown {
			f, _ := LookupFeature(name)
			props = append(props, poolProperty{"unsupported@" + f.GUID, "inactive", "inactive", "local"})
			if p.Features[name] == "active" {
				props[len(props)-1].value, props[len(props)-1].parsable = "readonly", "readonly"
			}
		}
	}
	return props
}

func zpoolGet(inv *Invocation, args []string) int {
	opts, rest, err := getopt(args, "Hpo:")
	if err != nil {
		return inv.unsupported("zpool get " + err.Error())
	}
	if len(rest) == 0 {
		inv.errf("missing property argument\nusage:\n\tget [-Hp] [-o \"all\" | field[,...]] <\"all\" | property[,...]> <pool> ...\n")
		return 2
	}
	want := strings.Split(rest[0], ",")
	pools, ok := selectPools(inv, rest[1:])
	fields := []string{"name", "property", "value", "source"}
	if o, ok := value(opts, 'o'); ok && o != "all" {
		fields = strings.Split(o, ",")
	}
	var rows [][]string
	for _, p := range pools {
		props := inv.poolProperties(p)
		// name is a read-only property `zpool get all` leaves out but
		// `zpool get name` answers (go-zfs asks for it).
		named := append([]poolProperty{{"name", p.Name, p.Name, "-"}}, props...)
		for _, w := range want {
			props := props
			if w == "name" {
				props = named
			}
			found := false
			for _, pr := range props {
				if w != "all" && w != pr.name {
					continue
				}
				found = true
				val := pr.value
				if has(opts, 'p') {
					val = pr.parsable
				}
				var row []string
				for _, f := range fields {
					switch f {
					case "name":
						row = append(row, p.Name)
					case "property":
						row = append(row, pr.name)
					case "value":
						row = append(row, val)
					case "source":
						row = append(row, pr.source)
					default:
						inv.errf("invalid field '%s'\n", f)
						return 2
					}
				}
				rows = append(rows, row)
			}
			if !found {
				inv.errf("bad property list: invalid property '%s'\n", w)
				return 2
			}
		}
	}
	inv.out("%s", formatTable(upper(fields), rows, has(opts, 'H'), "  "))
	if !ok {
		return 1
	}
	return 0
}

func zpoolList(inv *Invocation, args []string) int {
	opts, names, err := getopt(args, "Hpo:")
	if err != nil {
		return inv.unsupported("zpool list " + err.Error())
	}
	pools, ok := selectPools(inv, names)
	fields := []string{"name", "size", "alloc", "free", "health", "altroot"}
	if o, ok := value(opts, 'o'); ok {
		fields = strings.Split(o, ",")
	}
	var rows [][]string
	for _, p := range pools {
		var row []string
		for _, f := range fields {
			switch f {
			case "name":
				row = append(row, p.Name)
			case "size":
				row = append(row, sizeField(p.Size, has(opts, 'p')))
			case "alloc", "allocated":
				row = append(row, sizeField(p.Alloc, has(opts, 'p')))
			case "free":
				row = append(row, sizeField(p.Size-p.Alloc, has(opts, 'p')))
			case "health":
				row = append(row, inv.model.poolState(p))
			case "altroot", "bootfs":
				v := "-"
				if f == "bootfs" && p.Bootfs != "" {
					v = p.Bootfs
				}
				row = append(row, v)
			default:
				return inv.unsupported("zpool list field " + f)
			}
		}
		rows = append(rows, row)
	}
	inv.out("%s", formatTable(upper(fields), rows, has(opts, 'H'), "  "))
	if !ok {
		return 1
	}
	return 0
}

// upper returns the column headers for fields.
func upper(fields []string) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = strings.ToUpper(f)
	}
	return out
}

// formatTable renders rows as the zfs tools and bectl do: with -H
// (scripted) tab-separated without header, else under the header with
// columns padded and separated by gap, the last column unpadded.
func formatTable(header []string, rows [][]string, scripted bool, gap string) string {
	var b strings.Builder
	if scripted {
		for _, r := range rows {
			b.WriteString(strings.Join(r, "\t") + "\n")
		}
		return b.String()
	}
	if header != nil {
		rows = append([][]string{header}, rows...)
	}
	widths := map[int]int{}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	for _, r := range rows {
		for i, c := range r {
			if i == len(r)-1 {
				b.WriteString(c)
			} else {
				fmt.Fprintf(&b, "%-*s%s", widths[i], c, gap)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func sizeField(n int64, parsable bool) string {
	if parsable {
		return fmt.Sprint(n)
	}
	return nicenum(n)
}

// compatibleFeatures is the set of features the pool's compatibility
// property allows (nil means all).
func (inv *Invocation) compatibleFeatures(p *Pool) (map[string]bool, error) {
	if p.Compatibility == "" || p.Compatibility == "off" {
		return nil, nil
	}
	allowed := map[string]bool{}
	for i, name := range strings.Split(p.Compatibility, ",") {
		if name == "legacy" {
			return map[string]bool{}, nil
		}
		data, err := inv.readFile(inv.resolve("/usr/share/zfs/compatibility.d/" + name))
		if err != nil {
			return nil, fmt.Errorf("compatibility file %s: %v", name, err)
		}
		set := map[string]bool{}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if line != "" && !strings.HasPrefix(line, "#") {
				set[line] = true
			}
		}
		if i == 0 {
			allowed = set
			continue
		}
		for f := range allowed {
			if !set[f] {
				delete(allowed, f)
			}
		}
	}
	return allowed, nil
}

func zpoolUpgrade(inv *Invocation, args []string) int {
	opts, names, err := getopt(args, "avV:")
	if err != nil {
		return inv.unsupported("zpool upgrade " + err.Error())
	}
	if has(opts, 'V') || has(opts, 'v') {
		return inv.unsupported("zpool upgrade -v/-V")
	}
	r := inv.zfsRelease()
	if !inv.featureFlags() {
		return legacyZpoolUpgrade(inv, has(opts, 'a'), names)
	}
	if len(names) == 0 && !has(opts, 'a') {
		inv.out("This system supports ZFS pool feature flags.\n\n")
		first := true
		for _, p := range inv.pools().Pools() {
			if p.Version >= 5000 {
				continue
			}
			if first {
				inv.out("The following pools are formatted with legacy version numbers and can\nbe upgraded to use feature flags.  After being upgraded, these pools\nwill no longer be accessible by software that does not support feature\nflags.\n\n")
				if r.AtLeast(13, 1) {
					inv.out("Note that setting a pool's 'compatibility' feature to 'legacy' will\ninhibit upgrades.\n\n")
				}
				inv.out("VER  POOL\n---  ------------\n")
				first = false
			}
			inv.out("%2d   %s\n", p.Version, p.Name)
		}
		if first {
			inv.out("All pools are formatted using feature flags.\n\n")
		} else {
			inv.out("\nUse 'zpool upgrade -v' for a list of available legacy versions.\n")
		}
		first = true
		for _, p := range inv.pools().Pools() {
			if p.Version < 5000 {
				continue
			}
			missing := inv.notEnabled(p)
			if len(missing) == 0 {
				continue
			}
			if first {
				inv.out("\nSome supported features are not enabled on the following pools. Once a\nfeature is enabled the pool may become incompatible with software\nthat does not support the feature. See zpool-features(7) for details.\n\n")
				if r.AtLeast(13, 1) {
					inv.out("Note that the pool 'compatibility' feature can be used to inhibit\nfeature upgrades.\n\n")
				}
				if r.AtLeast(14, 0) {
					inv.out("Features marked with (*) are not applied automatically on upgrade, and\nmust be applied explicitly with zpool-set(7).\n\n")
				}
				inv.out("POOL  FEATURE\n---------------\n")
				first = false
			}
			inv.out("%s\n", p.Name)
			for _, f := range missing {
				inv.out("      %s\n", f)
			}
		}
		if first {
			inv.out("Every feature flags pool has all supported and requested features enabled.\n")
		} else {
			inv.out("\n")
		}
		return 0
	}
	pools, ok := selectPools(inv, names)
	if has(opts, 'a') {
		pools = inv.pools().Pools()
	}
	inv.out("This system supports ZFS pool feature flags.\n\n")
	upgraded := 0
	for _, p := range pools {
		allowed, err := inv.compatibleFeatures(p)
		if err != nil {
			inv.errf("%v\n", err)
			return 1
		}
		if p.Version < 5000 {
			if allowed != nil && len(allowed) == 0 {
				inv.out("Pool '%s' has the compatibility property set to 'legacy'; it cannot be upgraded.\n", p.Name)
				continue
			}
			inv.out("Successfully upgraded '%s' from version %d to feature flags.\n", p.Name, p.Version)
			p.Version = 5000
			p.Features = map[string]string{}
		}
		var enabled []string
		for _, name := range inv.notEnabled(p) {
			if allowed != nil && !allowed[name] {
				continue
			}
			f, _ := LookupFeature(name)
			state := "enabled"
			if f.ActivateOnEnable {
				state = "active"
			}
			p.Features[name] = state
			enabled = append(enabled, name)
		}
		if len(enabled) == 0 {
			if len(names) > 0 {
				inv.out("Pool '%s' already has all supported and requested features enabled.\n", p.Name)
			}
			continue
		}
		upgraded++
		inv.out("Enabled the following features on '%s':\n", p.Name)
		for _, f := range enabled {
			inv.out("  %s\n", f)
		}
		if r.AtLeast(13, 1) {
			if p.Bootfs != "" {
				inv.out("\nPool '%s' has the bootfs property set, you might need to update\nthe boot code. See gptzfsboot(8) and loader.efi(8) for details.\n", p.Name)
			}
		} else if !r.AtLeast(13, 0) {
			inv.out("\nIf you boot from pool '%s', don't forget to update boot code.\nAssuming you use GPT partitioning and da0 is your boot disk\nthe following command will do it:\n\n\tgpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 1 da0\n\n", p.Name)
		}
	}
	if has(opts, 'a') && upgraded == 0 {
		inv.out("All pools are already formatted using feature flags.\n\nEvery feature flags pool already has all supported and requested features enabled.\n")
	}
	if !ok {
		return 1
	}
	return 0
}

// legacyZpoolUpgrade is zpool upgrade on releases before feature flags.
func legacyZpoolUpgrade(inv *Invocation, all bool, names []string) int {
	ver := inv.zfsRelease().PoolVersion()
	inv.out("This system is currently running ZFS pool version %d.\n\n", ver)
	if len(names) == 0 && !all {
		var old []*Pool
		for _, p := range inv.pools().Pools() {
			if p.Version < ver {
				old = append(old, p)
			}
		}
		if len(old) == 0 {
			inv.out("All pools are formatted using this version.\n")
			return 0
		}
		inv.out("The following pools are out of date, and can be upgraded.  After being\nupgraded, these pools will no longer be accessible by older software versions.\n\nVER  POOL\n---  ------------\n")
		for _, p := range old {
			inv.out("%2d   %s\n", p.Version, p.Name)
		}
		inv.out("\nUse 'zpool upgrade -v' for a list of available versions and their associated\nfeatures.\n")
		return 0
	}
	pools, ok := selectPools(inv, names)
	if all {
		pools = inv.pools().Pools()
	}
	for _, p := range pools {
		if p.Version >= ver {
			inv.out("Pool '%s' is already formatted using the current version.\n", p.Name)
			continue
		}
		inv.out("Successfully upgraded '%s' from version %d to version %d\n\n", p.Name, p.Version, ver)
		p.Version = ver
		inv.out("If you boot from pool '%s', don't forget to update boot code.\nAssuming you use GPT partitioning and da0 is your boot disk\nthe following command will do it:\n\n\tgpart bootcode -b /boot/pmbr -p /boot/gptzfsboot -i 1 da0\n\n", p.Name)
	}
	if !ok {
		return 1
	}
	return 0
}

// Zfs is zfs(8): upgrade, snapshot, list, get, mount, umount.
func (b modelPools) Zfs(inv *Invocation) int {
	if len(inv.Args) == 0 {
		inv.errf("usage: zfs command args ...\n")
		return 2
	}
	sub, args := inv.Args[0], inv.Args[1:]
	switch sub {
	case "upgrade":
		return zfsUpgrade(inv, args)
	case "snapshot", "snap":
		return zfsSnapshot(inv, args)
	case "list":
		return zfsList(inv, args)
	case "get":
		return zfsGet(inv, args)
	case "mount", "umount", "unmount":
		return zfsMount(inv, sub, args)
	}
	return inv.unsupported("zfs " + sub)
}

func zfsUpgrade(inv *Invocation, args []string) int {
	opts, names, err := getopt(args, "arvV:")
	if err != nil {
		return inv.unsupported("zfs upgrade " + err.Error())
	}
	if has(opts, 'v') || has(opts, 'V') {
		return inv.unsupported("zfs upgrade -v/-V")
	}
	cur := inv.zfsRelease().ZPLVersion()
	var all []*Dataset
	for _, p := range inv.pools().Pools() {
		all = append(all, p.Datasets...)
	}
	if len(names) == 0 && !has(opts, 'a') {
		inv.out("This system is currently running ZFS filesystem version %d.\n\n", cur)
		first := true
		for _, d := range all {
			if d.Version >= cur {
				continue
			}
			if first {
				inv.out("The following filesystems are out of date, and can be upgraded.  After being\nupgraded, these filesystems (and any 'zfs send' streams generated from\nsubsequent snapshots) will no longer be accessible by older software versions.\n\n\nVER  FILESYSTEM\n---  ------------\n")
				first = false
			}
			inv.out("%2d   %s\n", d.Version, d.Name)
		}
		if first {
			inv.out("All filesystems are formatted with the current version.\n")
		}
		return 0
	}
	var targets []*Dataset
	if has(opts, 'a') {
		targets = all
	} else {
		for _, n := range names {
			_, d := inv.model.dataset(n)
			if d == nil {
				inv.errf("cannot open '%s': dataset does not exist\n", n)
				return 1
			}
			for _, x := range all {
				if x == d || (has(opts, 'r') && strings.HasPrefix(x.Name, d.Name+"/")) {
					targets = append(targets, x)
				}
			}
		}
	}
	upgraded, current := 0, 0
	for _, d := range targets {
		if d.Version >= cur {
			current++
			continue
		}
		d.Version = cur
		upgraded++
	}
	inv.out("%d filesystems upgraded\n", upgraded)
	if current > 0 {
		inv.out("%d filesystems already at this version\n", current)
	}
	return 0
}

func zfsSnapshot(inv *Invocation, args []string) int {
	opts, names, err := getopt(args, "r")
	if err != nil {
		return inv.unsupported("zfs snapshot " + err.Error())
	}
	if len(names) != 1 {
		return inv.unsupported("zfs snapshot without exactly one snapshot name")
	}
	ds, snap, ok := strings.Cut(names[0], "@")
	if !ok || snap == "" {
		inv.errf("cannot create snapshot '%s': missing '@' delimiter in snapshot name\n", names[0])
		return 1
	}
	if err := inv.pools().Snapshot(ds, snap, has(opts, 'r')); err != nil {
		inv.errf("cannot create snapshot '%s': %v\n", names[0], err)
		return 1
	}
	return 0
}

func zfsList(inv *Invocation, args []string) int {
	opts, names, err := getopt(args, "Hpro:t:d:")
	if err != nil {
		return inv.unsupported("zfs list " + err.Error())
	}
	fields := []string{"name", "used", "avail", "refer", "mountpoint"}
	if o, ok := value(opts, 'o'); ok {
		fields = strings.Split(o, ",")
	}
	types := "filesystem"
	if t, ok := value(opts, 't'); ok {
		types = t
	}
	showFS := strings.Contains(types, "filesystem") || types == "all"
	showSnap := strings.Contains(types, "snapshot") || strings.Contains(types, "snap") || types == "all"
	type entry struct {
		name string
		d    *Dataset
		snap *Snapshot
		p    *Pool
	}
	_, typesGiven := value(opts, 't')
	var entries []entry
	for _, p := range inv.pools().Pools() {
		for _, d := range p.Datasets {
			if len(names) > 0 {
				match := false
				for _, n := range names {
					// A snapshot named on the command line is listed
					// by itself (-t snapshot, or no -t).
					if ds, snap, isSnap := strings.Cut(n, "@"); isSnap {
						if has(opts, 'r') || has(opts, 'd') || (typesGiven && !showSnap) {
							return inv.unsupported("zfs list of a snapshot with -r, -d or -t without snapshot")
						}
						for i := range d.Snapshots {
							if d.Name == ds && d.Snapshots[i].Name == snap {
								entries = append(entries, entry{n, d, &d.Snapshots[i], p})
							}
						}
						continue
					}
					if d.Name == n || ((has(opts, 'r') || has(opts, 'd')) && strings.HasPrefix(d.Name, n+"/")) {
						match = true
					}
				}
				if !match {
					continue
				}
			}
			if showFS {
				entries = append(entries, entry{d.Name, d, nil, p})
			}
			if showSnap {
				for i := range d.Snapshots {
					entries = append(entries, entry{d.Name + "@" + d.Snapshots[i].Name, d, &d.Snapshots[i], p})
				}
			}
		}
	}
	for _, n := range names {
		ds, snap, isSnap := strings.Cut(n, "@")
		_, d := inv.model.dataset(ds)
		if d != nil && isSnap {
			found := false
			for _, sn := range d.Snapshots {
				found = found || sn.Name == snap
			}
			if !found {
				d = nil
			}
		}
		if d == nil {
			inv.errf("cannot open '%s': dataset does not exist\n", n)
			return 1
		}
	}
	var rows [][]string
	for _, e := range entries {
		var row []string
		for _, f := range fields {
			switch f {
			case "name":
				row = append(row, e.name)
			case "used":
				u := e.d.Used
				if e.snap != nil {
					u = 0
				}
				row = append(row, sizeField(u, has(opts, 'p')))
			case "avail", "available":
				if e.snap != nil {
					row = append(row, "-")
				} else {
					row = append(row, sizeField(e.p.Size-e.p.Alloc, has(opts, 'p')))
				}
			case "refer", "referenced":
				row = append(row, sizeField(e.d.Used, has(opts, 'p')))
			case "mountpoint":
				if e.snap != nil {
					row = append(row, "-")
				} else {
					row = append(row, e.d.Mountpoint)
				}
			case "origin":
				o := e.d.Origin
				if o == "" || e.snap != nil {
					o = "-"
				}
				row = append(row, o)
			case "creation":
				t := e.d.Created
				if e.snap != nil {
					t = e.snap.Created
				}
				if has(opts, 'p') {
					row = append(row, fmt.Sprint(t.Unix()))
				} else {
					row = append(row, t.Format("Mon Jan _2 15:04 2006"))
				}
			case "canmount":
				row = append(row, e.d.Canmount)
			case "version":
				row = append(row, fmt.Sprint(e.d.Version))
			case "type":
				t := "filesystem"
				if e.snap != nil {
					t = "snapshot"
				}
				row = append(row, t)
			case "compression":
				// bsdinstall sets lz4 on the pool's top dataset; the
				// others inherit it.
				row = append(row, "lz4")
			case "volsize":
				row = append(row, "-")
			case "quota":
				switch {
				case e.snap != nil:
					row = append(row, "-")
				case has(opts, 'p'):
					row = append(row, "0")
				default:
					row = append(row, "none")
				}
			case "written", "logicalused", "usedbydataset":
				u := e.d.Used
				if e.snap != nil && f != "written" {
					u = 0
				}
				row = append(row, sizeField(u, has(opts, 'p')))
			default:
				return inv.unsupported("zfs list field " + f)
			}
		}
		rows = append(rows, row)
	}
	inv.out("%s", formatTable(upper(fields), rows, has(opts, 'H'), "  "))
	return 0
}

func zfsGet(inv *Invocation, args []string) int {
	opts, rest, err := getopt(args, "Hpo:")
	if err != nil {
		return inv.unsupported("zfs get " + err.Error())
	}
	if len(rest) < 2 {
		return inv.unsupported("zfs get without a property and a dataset")
	}
	fields := []string{"name", "property", "value", "source"}
	if o, ok := value(opts, 'o'); ok {
		fields = strings.Split(o, ",")
	}
	var rows [][]string
	for _, n := range rest[1:] {
		_, d := inv.model.dataset(n)
		if d == nil {
			inv.errf("cannot open '%s': dataset does not exist\n", n)
			return 1
		}
		for _, prop := range strings.Split(rest[0], ",") {
			var v, src string
			switch prop {
			case "mountpoint":
				v, src = d.Mountpoint, "local"
			case "canmount":
				v, src = d.Canmount, "local"
			case "readonly":
				v, src = "off", "default"
				if d.Readonly {
					v, src = "on", "local"
				}
			case "version":
				v, src = fmt.Sprint(d.Version), "-"
			case "origin":
				v, src = d.Origin, "-"
				if v == "" {
					v = "-"
				}
			case "creation":
				v, src = d.Created.Format("Mon Jan _2 15:04 2006"), "-"
				if has(opts, 'p') {
					v = fmt.Sprint(d.Created.Unix())
				}
			case "used":
				v, src = sizeField(d.Used, has(opts, 'p')), "-"
			default:
				return inv.unsupported("zfs property " + prop)
			}
			var row []string
			for _, f := range fields {
				switch f {
				case "name":
					row = append(row, d.Name)
				case "property":
					row = append(row, prop)
				case "value":
					row = append(row, v)
				case "source":
					row = append(row, src)
				default:
					return inv.unsupported("zfs get field " + f)
				}
			}
			rows = append(rows, row)
		}
	}
	inv.out("%s", formatTable(upper(fields), rows, has(opts, 'H'), "  "))
	return 0
}

// beTime formats a boot environment's creation time as bectl does.
func beTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }

// zpoolSet is zpool set PROPERTY=VALUE POOL for feature@NAME=enabled,
// bootfs and compatibility.
func zpoolSet(inv *Invocation, args []string) int {
	if len(args) != 2 || !strings.Contains(args[0], "=") {
		inv.errf("missing property=value argument\nusage:\n\tset <property=value> <pool>\n")
		return 2
	}
	prop, val, _ := strings.Cut(args[0], "=")
	p := inv.model.pool(args[1])
	if p == nil {
		inv.errf("cannot open '%s': no such pool\n", args[1])
		return 1
	}
	fail := func(format string, a ...any) int {
		inv.errf("cannot set property for '%s': %s\n", p.Name, fmt.Sprintf(format, a...))
		return 1
	}
	switch {
	case strings.HasPrefix(prop, "feature@"):
		name := strings.TrimPrefix(prop, "feature@")
		f, ok := LookupFeature(name)
		if !ok || !f.supportedBy(inv.zfsRelease()) {
			inv.errf("property '%s' is not a valid pool or vdev property\n", prop)
			return 2
		}
		if val != "enabled" {
			inv.errf("property '%s' can only be set to 'enabled'\n", prop)
			return 2
		}
		if p.Version < 5000 {
			return fail("pool must be upgraded to set this property or value")
		}
		if p.featureState(f.Name) == "disabled" {
			p.Features[f.Name] = "enabled"
			if f.ActivateOnEnable {
				p.Features[f.Name] = "active"
			}
		}
	case prop == "bootfs":
		if val == "" {
			p.Bootfs = ""
			return 0
		}
		if !strings.HasPrefix(val, p.Name+"/") && val != p.Name {
			return fail("'%s' is an invalid name", val)
		}
		if _, d := inv.model.dataset(val); d == nil {
			return fail("dataset '%s' does not exist", val)
		}
		inv.pools().SetBootfs(p.Name, val)
	case prop == "compatibility":
		old := p.Compatibility
		p.Compatibility = val
		if _, err := inv.compatibleFeatures(p); err != nil {
			p.Compatibility = old
			return fail("%v", err)
		}
	default:
		return inv.unsupported("zpool set " + prop)
	}
	return 0
}
