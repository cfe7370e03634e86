// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
	"strings"
)

// pkgGlobal are pkg(8)'s global options before the subcommand.
type pkgGlobal struct {
	activation bool
	overrides  map[string]string
	// Staged upgrades (staged.go): -r ROOTDIR, -c CHROOT.
	rootdir, chroot string
}

// parsePkgGlobal reads the options before the pkg subcommand.
func parsePkgGlobal(inv *Invocation, args []string) (pkgGlobal, []string, int, bool) {
	g := pkgGlobal{overrides: map[string]string{}}
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		a := args[0]
		args = args[1:]
		switch {
		case a == "-N":
			g.activation = true
		case a == "-o":
			if len(args) == 0 {
				inv.errf("pkg: option requires an argument -- o\n")
				return g, nil, 64, false
			}
			k, v, _ := strings.Cut(args[0], "=")
			g.overrides[k] = v
			args = args[1:]
		case strings.HasPrefix(a, "-o"):
			k, v, _ := strings.Cut(a[2:], "=")
			g.overrides[k] = v
		case a == "-r", a == "--rootdir", a == "-c", a == "--chroot":
			if len(args) == 0 {
				inv.errf("pkg: option requires an argument -- %s\n", strings.TrimLeft(a, "-")[:1])
				return g, nil, 64, false
			}
			if a == "-r" || a == "--rootdir" {
				g.rootdir = args[0]
			} else {
				g.chroot = args[0]
			}
			args = args[1:]
		case a == "-d", a == "-4", a == "-6":
		default:
			return g, nil, inv.unsupported("pkg option " + a), false
		}
	}
	return g, args, 0, true
}

// pkgABI is the ABI pkg computes for the running userland (from the ELF
// note of /usr/bin/uname), unless overridden.
func (inv *Invocation) pkgABI(g pkgGlobal) string {
	if abi, ok := g.overrides["ABI"]; ok {
		return abi
	}
	if abi := inv.env("ABI"); abi != "" {
		return abi
	}
	r, _ := inv.programRelease("/usr/bin/uname")
	return r.ABI(inv.model.Arch)
}

// cmdPkg is /usr/sbin/pkg: pkg(7), which hands over to pkg(8) in
// /usr/local/sbin when it is installed (usr.sbin/pkg/pkg.c, main).
func cmdPkg(inv *Invocation) int {
	g, args, code, ok := parsePkgGlobal(inv, inv.Args)
	if !ok {
		return code
	}
	installed, _ := inv.stat(inv.resolve("/usr/local/sbin/pkg"))
	code, handOver := inv.pkg7(g, args, installed)
	if !handOver {
		return code
	}
	data, _ := inv.readFile(inv.resolve("/usr/local/sbin/pkg"))
	if missing, by := inv.missingObject(data, "pkg", 0); missing != "" {
		inv.errf("ld-elf.so.1: Shared object \"%s\" not found, required by \"%s\"\n", baseName(missing), by)
		return 1
	}
	return pkg8(inv, g, args, false)
}

// cmdPkgStatic is /usr/local/sbin/pkg-static, pkg(8) statically linked.
func cmdPkgStatic(inv *Invocation) int {
	g, args, code, ok := parsePkgGlobal(inv, inv.Args)
	if !ok {
		return code
	}
	return pkg8(inv, g, args, true)
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

// pkg8 runs pkg(8) proper.
func pkg8(inv *Invocation, g pkgGlobal, args []string, static bool) int {
	inv, code, ok := inv.pkgRoot(&g)
	if !ok {
		return code
	}
	db, err := readPkgDB(inv.m.Root)
	if err != nil {
		inv.errf("pkg: %v\n", err)
		return 1
	}
	if g.activation {
		if len(db.Packages) == 0 {
			inv.errf("pkg: no packages registered\n")
			return 69
		}
		if len(args) == 0 {
			inv.errf("pkg: %d packages installed\n", len(db.Packages))
			return 0
		}
	}
	if len(args) == 0 {
		inv.errf("Usage: pkg [-v] [-d] [-l] [-N] [-j <jail name or id>|-c <chroot path>|-r <rootdir>] [-C <configuration file>] [-R <repo config dir>] [-o var=value] [-4|-6] <command> [<args>]\n")
		return 1
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "config":
		return pkgConfig(inv, g, rest)
	case "which":
		return pkgWhich(inv, db, rest)
	case "info":
		return pkgInfo(inv, db, rest)
	case "query":
		return pkgQuery(inv, db, rest)
	}
	return pkgMutating(inv, g, db, sub, rest, static)
}

func pkgConfig(inv *Invocation, g pkgGlobal, args []string) int {
	if len(args) != 1 {
		inv.errf("usage: pkg config <name>\n")
		return 1
	}
	switch strings.ToUpper(args[0]) {
	case "ABI":
		inv.out("%s\n", inv.pkgABI(g))
	case "OSVERSION":
		r, _ := inv.programRelease("/usr/bin/uname")
		inv.out("%d\n", r.OSRelDate())
	case "ASSUME_ALWAYS_YES":
		v := "no"
		if yes(inv.env("ASSUME_ALWAYS_YES")) {
			v = "yes"
		}
		inv.out("%s\n", v)
	default:
		return inv.unsupported("pkg config " + args[0])
	}
	return 0
}

// yes reads a pkg boolean from the environment.
func yes(v string) bool {
	switch strings.ToLower(v) {
	case "yes", "true", "1", "on":
		return true
	}
	return false
}

func pkgWhich(inv *Invocation, db *pkgDB, args []string) int {
	opts, rest, err := getopt(args, "qo")
	if err != nil {
		return inv.unsupported("pkg which " + err.Error())
	}
	if has(opts, 'o') {
		return inv.unsupported("pkg which -o")
	}
	if len(rest) == 0 {
		inv.errf("Usage: pkg which [-mqgop] <file>\n")
		return 64
	}
	status := 0
	for _, f := range rest {
		v := inv.resolve(f)
		var owner *Package
		for _, p := range db.Packages {
			for _, pf := range p.Files {
				if pf == v.mpath {
					owner = p
				}
			}
		}
		switch {
		case owner == nil:
			if !has(opts, 'q') {
				inv.out("%s was not found in the database\n", f)
			}
			status = 1
		case has(opts, 'q'):
			inv.out("%s-%s\n", owner.Name, owner.Version)
		default:
			inv.out("%s was installed by package %s-%s\n", f, owner.Name, owner.Version)
		}
	}
	return status
}

func pkgInfo(inv *Invocation, db *pkgDB, args []string) int {
	opts, rest, err := getopt(args, "aq")
	if err != nil || len(rest) > 0 {
		return inv.unsupported("pkg info with these arguments")
	}
	rows := [][]string{}
	for _, p := range db.Packages {
		if has(opts, 'q') {
			inv.out("%s-%s\n", p.Name, p.Version)
			continue
		}
		rows = append(rows, []string{p.Name + "-" + p.Version, "simulated package " + p.Origin})
	}
	inv.out("%s", formatTable(nil, rows, false, " "))
	return 0
}

// pkgQuery supports the formats %n %v %o %q (ABI) and %At/%Av-free subsets.
func pkgQuery(inv *Invocation, db *pkgDB, args []string) int {
	_, rest, err := getopt(args, "a")
	if err != nil || len(rest) != 1 {
		if err == nil {
			err = fmt.Errorf("arguments")
		}
		return inv.unsupported("pkg query " + err.Error())
	}
	format := rest[0]
	for _, p := range db.Packages {
		// %R is the repository annotation, "unknown-repository" when the
		// package has none (libpkg pkg_printf.c, format_repo_ident).
		repo := p.Repo
		if repo == "" {
			repo = "unknown-repository"
		}
		r := strings.NewReplacer("%n", p.Name, "%v", p.Version, "%o", p.Origin, "%q", p.ABI, "%R", repo, "%%", "%")
		out := r.Replace(format)
		if strings.Contains(out, "%") {
			return inv.unsupported("pkg query format " + format)
		}
		inv.out("%s\n", out)
	}
	return 0
}

// pkgMutating is replaced by the package-management commands (bootstrap,
// upgrade, install) in cmd_pkgupgrade.go.
var pkgMutating = func(inv *Invocation, g pkgGlobal, db *pkgDB, sub string, args []string, static bool) int {
	return inv.unsupported("pkg " + sub)
}
