// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"bufio"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

func init() {
	pkgMutating = pkgChange
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

// repoPkgVersion is the pkg(8) the repository offers today: the newest
// tagged by the machine's clock, and at least the one of the release.
func (inv *Invocation) repoPkgVersion(rel Release) string {
	v := pkgVersionAt(inv.model.Clock.Format("2006-01-02"))
	if d := pkgVersionFor(rel); !pkgAtLeast(v, d) {
		v = d
	}
	return v
}

// installPkg writes pkg itself, built for the running userland, into the
// tree and the database. pkg(7) installs it with `pkg-static add FILE`,
// which records no repository (libpkg pkg_add.c annotates only packages
// from a remote repository): pkg query %R says unknown-repository.
func (inv *Invocation) installPkg(db *pkgDB, rel Release, ver string) error {
	p := newPkgPackage(rel, inv.model.Arch, inv.repoOSVersion(rel), ver)
	p.Repo = ""
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
	ver := inv.repoPkgVersion(rel)
	inv.out("Bootstrapping pkg from pkg+https://pkg.FreeBSD.org/%s/quarterly, please wait...\nVerifying signature with trusted certificate pkg.freebsd.org.2013102301... done\nInstalling pkg-%s...\n", abi, ver)
	if !inv.osversionOK(in, "pkg", rel) {
		inv.errf("pkg: Failed to install the following 1 package(s): /tmp//pkg.pkg.XXXXXX\n")
		return 1
	}
	if db.find("pkg") != nil {
		inv.out("package pkg is already installed, forced install\n")
	}
	if err := inv.installPkg(db, rel, ver); err != nil {
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

// pkg7Options are what /usr/sbin/pkg, pkg(7), read from its arguments
// (usr.sbin/pkg/pkg.c, main).
type pkg7Options struct {
	bootstrap, force, yes bool
}

// parsePkg7 reads pkg(7)'s arguments as the /usr/sbin/pkg of release rel
// does. Before commit ae994fdc5b ("pkg(7): rework the arguments
// handling", 2021-01-06, in 13.0 and, merged to stable/12, 12.3) force
// needs exactly `bootstrap -f` (argc == 3): `bootstrap -f -y` is a
// bootstrap without force. From r332484 (2018-04-13; modelled from 12.0)
// a -y or --yes anywhere answers the confirmation. With getopt_long, -f
// and -y are read anywhere; bootstrap takes no operand ("Too many
// arguments").
func (inv *Invocation) parsePkg7(rel Release, args []string) (pkg7Options, int, bool) {
	var o pkg7Options
	o.bootstrap = len(args) > 0 && args[0] == "bootstrap"
	if !(rel.AtLeast(13, 0) || (rel.Major == 12 && rel.Minor >= 3)) {
		o.force = o.bootstrap && len(args) == 2 && args[1] == "-f"
		if rel.AtLeast(12, 0) {
			for _, a := range args {
				o.yes = o.yes || a == "-y" || a == "--yes"
			}
		}
		return o, 0, true
	}
	var operands int
	for i := 1; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-f" || a == "--force":
			o.force = o.force || o.bootstrap
		case a == "-y" || a == "--yes":
			o.yes = true
		case a == "-r":
			i++ // the repository to bootstrap from
		case !strings.HasPrefix(a, "-"):
			operands++
		}
	}
	if o.bootstrap && operands > 0 {
		inv.errf("Too many arguments\nUsage: pkg [-4|-6] bootstrap [-f] [-y]\n")
		return o, 1, false
	}
	return o, 0, true
}

// pkg7 is /usr/sbin/pkg, pkg(7): it bootstraps pkg(8) when it is missing
// or on `bootstrap -f`, and otherwise hands over to /usr/local/sbin/pkg
// (handOver). Without -y or ASSUME_ALWAYS_YES it asks on a terminal and
// refuses without one.
func (inv *Invocation) pkg7(g pkgGlobal, args []string, installed bool) (code int, handOver bool) {
	rel, _ := inv.programRelease("/usr/sbin/pkg")
	o, code, ok := inv.parsePkg7(rel, args)
	if !ok {
		return code, false
	}
	if installed && !(o.bootstrap && o.force) {
		if o.bootstrap {
			inv.out("pkg already bootstrapped at /usr/local/sbin/pkg\n")
			return 0, false
		}
		return 0, true
	}
	if g.activation {
		inv.errf("pkg: pkg is not installed\n")
		return 1, false
	}
	in := bufio.NewReader(inv.Stdin)
	if !o.yes && !yes(inv.env("ASSUME_ALWAYS_YES")) {
		if inv.env(TTYEnv) != "stdin" && !isTerminal(inv.Stdin) {
			inv.errf("The package management tool is not yet installed on your system.\nPlease set ASSUME_ALWAYS_YES=yes environment variable to be able to bootstrap in non-interactive (stdin not being a tty)\n")
			return 1, false
		}
		inv.out("The package management tool is not yet installed on your system.\n")
		if !inv.askYesNo(in, "Do you want to fetch and install it now?") {
			return 1, false
		}
	}
	db, err := readPkgDB(inv.m.Root)
	if err != nil {
		inv.errf("pkg: %v\n", err)
		return 1, false
	}
	if code := inv.bootstrapPkg(in, db); code != 0 || o.bootstrap || len(args) == 0 {
		return code, false
	}
	return 0, true
}

// pkgChange runs the pkg(8) commands that change packages.
func pkgChange(inv *Invocation, g pkgGlobal, db *pkgDB, sub string, args []string, static bool) int {
	in := bufio.NewReader(inv.Stdin)
	switch sub {
	case "bootstrap":
		return pkg8Bootstrap(inv, db, args)
	case "upgrade":
		return pkgUpgrade(inv, in, g, db, args)
	case "install":
		return pkgInstall(inv, db, args)
	}
	return inv.unsupported("pkg " + sub)
}

// pkgUnknownCommand is pkg(8)'s answer to a command it does not have
// (src/main.c, usage with PKG_USAGE_UNKNOWN_COMMAND).
func (inv *Invocation) pkgUnknownCommand(name string) int {
	inv.errf("pkg: unknown command: %s\n\nFor more information on available commands and options see 'pkg help'.\n", name)
	return 1
}

// pkg8Bootstrap is `pkg bootstrap` handled by pkg(8) itself (src/main.c,
// main), which re-runs pkg(7) as `/usr/sbin/pkg bootstrap -f [-y]`. What
// it accepts follows the installed version: before 1.21.0 only
// `bootstrap` and `bootstrap -f` (any other arguments fall through to the
// command table, which has no bootstrap); 1.21.0 reads -f and -y with
// getopt (commit fb9b33123) and passes -y on, but `bootstrap -y` alone
// still falls through until 2.1.0 (commit 2eeee8fc7).
func pkg8Bootstrap(inv *Invocation, db *pkgDB, args []string) int {
	ver := ""
	if p := db.find("pkg"); p != nil {
		ver = p.Version
	}
	force, yesFlag := false, false
	if !pkgAtLeast(ver, "1.21.0") {
		switch {
		case len(args) == 0:
		case len(args) == 1 && args[0] == "-f":
			force = true
		default:
			return inv.pkgUnknownCommand("bootstrap")
		}
	} else {
		opts, _, err := getopt(args, "fy")
		if err != nil {
			inv.errf("%s: illegal option -- %s\n%s: Invalid argument provided\n", inv.Name, strings.TrimPrefix(err.Error(), "option -"), inv.Name)
			return 1
		}
		force, yesFlag = has(opts, 'f'), has(opts, 'y')
		if !force && yesFlag && !pkgAtLeast(ver, "2.1.0") {
			return inv.pkgUnknownCommand("bootstrap")
		}
	}
	if !force {
		inv.out("pkg(8) already installed, use -f to force.\n")
		return 0
	}
	if exists, _ := inv.stat(inv.resolve("/usr/sbin/pkg")); !exists {
		inv.errf("%s: pkg(7) bootstrapper not found at /usr/sbin/pkg.\n", inv.Name)
		return 1
	}
	inv.out("pkg(8) is already installed. Forcing reinstallation through pkg(7).\n")
	if code, ok := inv.checkBaseProgram("pkg"); !ok {
		return code
	}
	argv := []string{"bootstrap", "-f"}
	if yesFlag {
		argv = append(argv, "-y")
	}
	code, _ := inv.pkg7(pkgGlobal{overrides: map[string]string{}}, argv, true)
	return code
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
	if !inv.repositoryEnabled() {
		// src/update.c pkgcli_update: no enabled repository, EPKG_FATAL.
		inv.out("No repositories are enabled.\n")
		return 3
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
		case !inv.inRepository(p.Name):
			// libpkg pkg_jobs.c jobs_solve_full_upgrade: an installed
			// package the repository lacks is left as it is, silently.
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
		n.Repo = "FreeBSD"
		inv.out("[%d/%d] Reinstalling %s-%s...\n[%d/%d] Extracting %s-%s: 100%%\n", i+1, len(changes), n.Name, n.Version, i+1, len(changes), n.Name, n.Version)
		*c.p = *n
		if err := inv.writePackage(c.p); err != nil {
			inv.errf("pkg: %v\n", err)
			return 1
		}
		inv.runPostInstall(g, c.p)
	}
	if err := writePkgDB(inv.m.Root, db); err != nil {
		inv.errf("pkg: %v\n", err)
		return 1
	}
	return 0
}

// repositoryEnabled reports whether pkg has an active repository: the
// FreeBSD one of /etc/pkg/FreeBSD.conf, unless a file of
// /usr/local/etc/pkg/repos sets it "enabled: no" (pkg.conf(5)).
func (inv *Invocation) repositoryEnabled() bool {
	data, err := inv.readFile(inv.resolve(localRepoConf))
	if err != nil {
		return true
	}
	conf := strings.ToLower(strings.Join(strings.Fields(string(data)), " "))
	return !strings.Contains(conf, "enabled: no") && !strings.Contains(conf, "enabled: false")
}

// inRepository reports whether the repository carries a package of that
// name (spec packages with not_in_repo are missing from it).
func (inv *Invocation) inRepository(name string) bool {
	return !slices.Contains(inv.model.Behavior.RepoMissing, name)
}

// pkgInstall is `pkg install [-y] PKG...`, simulated for misc/compatNNx,
// the shared objects of FreeBSD NN for programs built on it, which the
// repositories of later major versions carry.
func pkgInstall(inv *Invocation, db *pkgDB, args []string) int {
	opts, rest, err := getopt(args, "yfAIMnqU")
	if err != nil || len(rest) == 0 {
		return inv.unsupported("pkg install with these arguments")
	}
	rel := inv.currentPkgRelease()
	var add []*Package
	for _, name := range rest {
		var nn int
		if _, err := fmt.Sscanf(strings.TrimPrefix(name, "misc/"), "compat%dx", &nn); err != nil || fmt.Sprintf("compat%dx", nn) != strings.TrimPrefix(name, "misc/") {
			return inv.unsupported("pkg install " + name + " (only misc/compatNNx)")
		}
		if !inv.repositoryEnabled() {
			inv.out("No repositories are enabled.\n")
			return 3
		}
		if nn >= rel.Major || nn < 8 {
			inv.errf("pkg: No packages available to install matching '%s' have been found in the repositories\n", name)
			return 1
		}
		if db.find(fmt.Sprintf("compat%dx", nn)) == nil {
			add = append(add, compatPackage(nn, rel, inv.model.Arch, inv.repoOSVersion(rel)))
		}
	}
	inv.out("Updating FreeBSD repository catalogue...\nFreeBSD repository is up to date.\nAll repositories are up to date.\n")
	if len(add) == 0 {
		inv.out("The most recent versions of packages are already installed\n")
		return 0
	}
	inv.out("The following %d package(s) will be affected (of 0 checked):\n\nNew packages to be INSTALLED:\n", len(add))
	for _, p := range add {
		inv.out("\t%s: %s\n", p.Name, p.Version)
	}
	inv.out("\nNumber of packages to be installed: %d\n", len(add))
	if !has(opts, 'y') && !yes(inv.env("ASSUME_ALWAYS_YES")) {
		inv.out("\n")
		if !inv.askYesNo(bufio.NewReader(inv.Stdin), "Proceed with this action?") {
			return 1
		}
	}
	for i, p := range add {
		inv.out("[%d/%d] Installing %s-%s...\n[%d/%d] Extracting %s-%s: 100%%\n", i+1, len(add), p.Name, p.Version, i+1, len(add), p.Name, p.Version)
		db.Packages = append(db.Packages, p)
		if err := inv.writePackage(p); err != nil {
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

// cmdPortmaster is portmaster(8) (ports-mgmt/portmaster) with -a (every
// installed port) and -f (rebuild even when up to date). With -P it first
// looks for a package of the port's version on
// pkg.freebsd.org/FreeBSD:MAJOR:ARCH/latest (MAJOR from uname -r) and
// installs it with `pkg add`; a port without one, or every port without
// -P, is built from the ports tree, which must hold it. Either way the
// result is built for the running system and, installed from a file,
// records no repository.
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
	site := fmt.Sprintf("http://pkg.freebsd.org/%s/latest/All/", rel.ABI(inv.model.Arch))
	for _, p := range db.Packages {
		if p.Repo == "FreeBSD-base" {
			continue
		}
		inv.out("===>>> Launching child to reinstall %s\n", p.Origin)
		if has(opts, 'P') {
			inv.out("===>>> Checking package repository for latest available version\n")
		}
		switch {
		case has(opts, 'P') && inv.inRepository(p.Name):
			inv.out("===>>> Installing package from: /usr/ports/packages/portmaster-download/%s-%s.pkg\n", p.Name, p.Version)
		default:
			if has(opts, 'P') {
				inv.out("===>>> Package and/or archive not found at:\n\t%s\n\n", site)
			}
			if exists, _ := inv.stat(inv.resolve(portsDir + "/" + p.Origin + "/Makefile")); !exists {
				inv.out("\n===>>> %s/%s does not exist\n===>>> Aborting update\n", portsDir, p.Origin)
				return 1
			}
			inv.out("===>>> Starting build for %s\n===>>> Installing %s-%s\n", p.Origin, p.Name, p.Version)
		}
		n := rebuild(p, rel, inv.model.Arch, osv)
		n.Repo = ""
		*p = *n
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
