package simhost

import (
	"bufio"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

func init() {
	pkgMutating = pkgChange
	pkgBootstrap7 = pkg7Bootstrap
}

// currentPkgRelease is the userland release pkg builds its ABI from.
func (inv *Invocation) currentPkgRelease() Release {
	r, _ := inv.programRelease("/usr/bin/uname")
	return r
}

// repoOSVersion is the OSVERSION the repository's packages were built for.
func (inv *Invocation) repoOSVersion(rel Release) int {
	if v := inv.model.Behavior.RepoOSVersion[strconv.Itoa(rel.Major)]; v != 0 {
		return v
	}
	return rel.OSRelDate()
}

// askYesNo prints a [y/N] question and reads the answer; only y is yes.
func (inv *Invocation) askYesNo(in *bufio.Reader, question string) bool {
	inv.out("%s [y/N]: ", question)
	line, _ := in.ReadString('\n')
	line = strings.TrimSpace(line)
	inv.out("%s\n", line)
	return strings.HasPrefix(strings.ToLower(line), "y")
}

// osversionOK asks about packages built for a newer userland, as pkg does
// even with -y, unless IGNORE_OSVERSION=yes.
func (inv *Invocation) osversionOK(in *bufio.Reader, name string, rel Release) bool {
	pkgOSV, run := inv.repoOSVersion(rel), rel.OSRelDate()
	if pkgOSV <= run || yes(inv.env("IGNORE_OSVERSION")) {
		return true
	}
	inv.out("Newer FreeBSD version for package %s:\nTo ignore this error set IGNORE_OSVERSION=yes\n- package: %d\n- running userland: %d\n", name, pkgOSV, run)
	return inv.askYesNo(in, "Ignore the mismatch and continue?")
}

// installPkg writes pkg itself, built for the running userland, into the
// tree and the database.
func (inv *Invocation) installPkg(db *pkgDB, rel Release) error {
	p := newPkgPackage(rel, inv.model.Arch, inv.repoOSVersion(rel))
	if old := db.find("pkg"); old != nil {
		*old = *p
	} else {
		db.Packages = append([]*Package{p}, db.Packages...)
	}
	return inv.writePackage(p)
}

// writePackage writes a package's program files into the tree.
func (inv *Invocation) writePackage(p *Package) error {
	for path, f := range packageFiles(p) {
		v := inv.resolve(path)
		if err := inv.mkdirs(filepathDir(path), true); err != nil {
			return err
		}
		if err := inv.writeFile(v, f.Data, f.Mode); err != nil {
			return err
		}
	}
	return nil
}

func filepathDir(p string) string { return filepath.Dir(p) }

// bootstrapPkg is pkg(7)'s bootstrap of pkg(8) from the repository.
func (inv *Invocation) bootstrapPkg(in *bufio.Reader, db *pkgDB) int {
	rel := inv.currentPkgRelease()
	abi := rel.ABI(inv.model.Arch)
	ver := pkgVersionFor(rel.Major)
	inv.out("Bootstrapping pkg from pkg+https://pkg.FreeBSD.org/%s/quarterly, please wait...\nVerifying signature with trusted certificate pkg.freebsd.org.2013102301... done\nInstalling pkg-%s...\n", abi, ver)
	if !inv.osversionOK(in, "pkg", rel) {
		inv.errf("pkg: Failed to install the following 1 package(s): /tmp//pkg.pkg.XXXXXX\n")
		return 1
	}
	if db.find("pkg") != nil {
		inv.out("package pkg is already installed, forced install\n")
	}
	if err := inv.installPkg(db, rel); err != nil {
		inv.errf("pkg: %v\n", err)
		return 1
	}
	if err := writePkgDB(inv.m.Root, db); err != nil {
		inv.errf("pkg: %v\n", err)
		return 1
	}
	inv.out("Extracting pkg-%s: 100%%\n", ver)
	return 0
}

// pkg7Bootstrap is /usr/sbin/pkg when pkg(8) is not installed: it offers
// to bootstrap (bootstrap [-f] [-y] asks nothing with -y).
func pkg7Bootstrap(inv *Invocation, g pkgGlobal, args []string) int {
	in := bufio.NewReader(inv.Stdin)
	assume := yes(inv.env("ASSUME_ALWAYS_YES"))
	if len(args) > 0 && args[0] == "bootstrap" {
		for _, a := range args[1:] {
			switch a {
			case "-y":
				assume = true
			case "-f":
			default:
				return inv.unsupported("pkg bootstrap " + a)
			}
		}
	}
	if !assume {
		inv.out("The package management tool is not yet installed on your system.\n")
		if !inv.askYesNo(in, "Do you want to fetch and install it now?") {
			return 1
		}
	}
	db, err := readPkgDB(inv.m.Root)
	if err != nil {
		inv.errf("pkg: %v\n", err)
		return 1
	}
	if code := inv.bootstrapPkg(in, db); code != 0 || len(args) == 0 || args[0] == "bootstrap" {
		return code
	}
	return pkg8(inv, g, args, false)
}

// pkgChange runs the pkg(8) commands that change packages.
func pkgChange(inv *Invocation, g pkgGlobal, db *pkgDB, sub string, args []string, static bool) int {
	in := bufio.NewReader(inv.Stdin)
	switch sub {
	case "bootstrap":
		force := false
		for _, a := range args {
			switch a {
			case "-f":
				force = true
			case "-y":
			default:
				return inv.unsupported("pkg bootstrap " + a)
			}
		}
		if !force {
			inv.out("pkg(8) already installed, use -f to force.\n")
			return 0
		}
		inv.out("pkg(8) is already installed. Forcing reinstallation through pkg(7).\n")
		if code, ok := inv.checkBaseProgram("pkg"); !ok {
			return code
		}
		return inv.bootstrapPkg(in, db)
	case "upgrade":
		return pkgUpgrade(inv, in, g, db, args)
	}
	return inv.unsupported("pkg " + sub)
}

// checkBaseProgram fails as exec would when a base program cannot run.
func (inv *Invocation) checkBaseProgram(name string) (int, bool) {
	saved := inv.Name
	inv.Name = name
	defer func() { inv.Name = saved }()
	return inv.checkProgram()
}

// abiKey renders an ABI the way pkg shows ABI changes.
func abiKey(abi string) string {
	f := strings.Split(strings.ToLower(abi), ":")
	if len(f) == 3 && f[2] == "amd64" {
		f[2] = "x86:64"
	}
	if len(f) == 3 && f[2] == "arm64" {
		f[2] = "aarch64:64"
	}
	return strings.Join(f, ":")
}

// rebuild makes a package's build for another release: same name and
// version, linked against that release's libraries.
func rebuild(p *Package, rel Release, arch string, osversion int) *Package {
	n := *p
	n.ABI = rel.ABI(arch)
	n.OSVersion = osversion
	n.Libs = nil
	for _, l := range p.Libs {
		short := strings.SplitN(filepath.Base(l), ".so", 2)[0]
		if np, ok := libPath(rel.Major, short); ok {
			n.Libs = append(n.Libs, np)
		} else if !strings.Contains(l, ".so") {
			n.Libs = append(n.Libs, l)
		}
	}
	return &n
}

func pkgUpgrade(inv *Invocation, in *bufio.Reader, g pkgGlobal, db *pkgDB, args []string) int {
	opts, rest, err := getopt(args, "fynr:")
	if err != nil {
		return inv.unsupported("pkg upgrade " + err.Error())
	}
	if repo, ok := value(opts, 'r'); ok && repo != "FreeBSD" {
		return inv.unsupported("pkg upgrade -r " + repo)
	}
	if len(rest) > 0 {
		return inv.unsupported("pkg upgrade of named packages")
	}
	rel := inv.currentPkgRelease()
	abi := inv.pkgABI(g)
	if p := db.find("pkg"); p != nil && !strings.HasPrefix(abi, strings.Join(strings.Split(p.ABI, ":")[:2], ":")+":") {
		inv.errf("pkg: Warning: Major OS version upgrade detected.  Running \"pkg bootstrap -f\" recommended\n")
	}
	var third []*Package
	for _, p := range db.Packages {
		if p.Repo != "FreeBSD-base" {
			third = append(third, p)
		}
	}
	inv.out("Updating FreeBSD repository catalogue...\nFetching meta.conf: 100%%\nFetching data.pkg: 100%%\nProcessing entries: 100%%\nFreeBSD repository update completed. 35765 packages processed.\nAll repositories are up to date.\nChecking for upgrades (%d candidates): 100%%\nProcessing candidates (%d candidates): 100%%\n", len(third), len(third))
	type change struct {
		p      *Package
		reason string
	}
	var changes []change
	for _, p := range third {
		switch {
		case p.ABI != abi:
			changes = append(changes, change{p, fmt.Sprintf(" (ABI changed: '%s' -> '%s')", abiKey(p.ABI), abiKey(abi))})
		case has(opts, 'f'):
			changes = append(changes, change{p, ""})
		}
	}
	if len(changes) == 0 {
		inv.out("Checking integrity... done (0 conflicting)\nYour packages are up to date.\n")
		return 0
	}
	inv.out("The following %d package(s) will be affected (of 0 checked):\n\nInstalled packages to be REINSTALLED:\n", len(changes))
	for _, c := range changes {
		inv.out("\t%s-%s%s\n", c.p.Name, c.p.Version, c.reason)
	}
	inv.out("\nNumber of packages to be reinstalled: %d\n", len(changes))
	if has(opts, 'n') {
		return 1
	}
	if !inv.osversionOK(in, changes[0].p.Name, rel) {
		return 1
	}
	if !has(opts, 'y') && !yes(inv.env("ASSUME_ALWAYS_YES")) {
		inv.out("\n")
		if !inv.askYesNo(in, "Proceed with this action?") {
			return 1
		}
	}
	osv := inv.repoOSVersion(rel)
	for i, c := range changes {
		n := rebuild(c.p, rel, inv.model.Arch, osv)
		n.ABI = abi
		inv.out("[%d/%d] Reinstalling %s-%s...\n[%d/%d] Extracting %s-%s: 100%%\n", i+1, len(changes), n.Name, n.Version, i+1, len(changes), n.Name, n.Version)
		*c.p = *n
		if err := inv.writePackage(c.p); err != nil {
			inv.errf("pkg: %v\n", err)
			return 1
		}
	}
	if err := writePkgDB(inv.m.Root, db); err != nil {
		inv.errf("pkg: %v\n", err)
		return 1
	}
	return 0
}

// cmdPortmaster is portmaster(8): -a with -f rebuilds every installed
// port for the running release (-P: from packages when available).
func cmdPortmaster(inv *Invocation) int {
	// --no-confirm (no confirmation of the list of ports to work on) is
	// the one long option simulated; the list is never asked about here.
	var args []string
	for _, a := range inv.Args {
		if a != "--no-confirm" {
			args = append(args, a)
		}
	}
	opts, rest, err := getopt(args, "aPfGyDB")
	if err != nil || len(rest) > 0 || !has(opts, 'a') {
		return inv.unsupported("portmaster without -a, or with these arguments")
	}
	if _, ok := inv.checkBaseProgram("pkg"); !ok {
		return 1
	}
	db, err := readPkgDB(inv.m.Root)
	if err != nil {
		inv.errf("portmaster: %v\n", err)
		return 1
	}
	rel := inv.currentPkgRelease()
	inv.out("===>>> Gathering distinfo list for installed ports\n\n===>>> Starting check of installed ports for available updates\n")
	if !has(opts, 'f') {
		inv.out("===>>> All ports are up to date\n")
		return 0
	}
	osv := inv.repoOSVersion(rel)
	for _, p := range db.Packages {
		if p.Repo == "FreeBSD-base" {
			continue
		}
		inv.out("===>>> Launching child to reinstall %s\n===>>> Installing %s-%s from a package\n", p.Origin, p.Name, p.Version)
		*p = *rebuild(p, rel, inv.model.Arch, osv)
		if err := inv.writePackage(p); err != nil {
			inv.errf("portmaster: %v\n", err)
			return 1
		}
	}
	if err := writePkgDB(inv.m.Root, db); err != nil {
		inv.errf("portmaster: %v\n", err)
		return 1
	}
	inv.out("===>>> Done displaying messages from ports\n")
	return 0
}
