// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// pkgDBPath is where the simulated package database lives in the boot
// environment (a real host keeps /var/db/pkg/local.sqlite there).
const pkgDBPath = "/var/db/pkg/simhost-db.json"

// portsDir is the ports tree; localRepoConf is where an admin overrides
// the FreeBSD repository of /etc/pkg/FreeBSD.conf.
const (
	portsDir      = "/usr/ports"
	localRepoConf = "/usr/local/etc/pkg/repos/FreeBSD.conf"
)

// Package is an installed package as the simulated pkg(8) records it.
type Package struct {
	Name      string   `json:"name"`
	Version   string   `json:"version"`
	Origin    string   `json:"origin"`
	ABI       string   `json:"abi"`
	OSVersion int      `json:"osversion"`
	Repo      string   `json:"repo,omitempty"`
	Files     []string `json:"files"`
	// Libs are the shared objects its programs need.
	Libs []string `json:"libs,omitempty"`
	// Static packages' programs need no shared objects.
	Static []string `json:"static,omitempty"`
	// PostInstallOpens: see PackageSpec (staged upgrades).
	PostInstallOpens string `json:"post_install_opens,omitempty"`
}

// pkgDB is the package database file.
type pkgDB struct {
	Packages []*Package `json:"packages"`
}

func (db *pkgDB) find(name string) *Package {
	for _, p := range db.Packages {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// parsePkgVersion reads a pkg(8) version such as 1.20.9 into its numbers.
func parsePkgVersion(v string) ([3]int, error) {
	var n [3]int
	f := strings.Split(v, ".")
	if len(f) != 3 {
		return n, fmt.Errorf("pkg version %q: want MAJOR.MINOR.PATCH, e.g. 1.20.9", v)
	}
	for i, x := range f {
		d, err := strconv.Atoi(x)
		if err != nil || d < 0 {
			return n, fmt.Errorf("pkg version %q: want MAJOR.MINOR.PATCH, e.g. 1.20.9", v)
		}
		n[i] = d
	}
	return n, nil
}

// pkgAtLeast reports whether pkg version v is want or later; a version
// that does not parse counts as the newest.
func pkgAtLeast(v, want string) bool {
	a, err := parsePkgVersion(v)
	if err != nil {
		return true
	}
	b, _ := parsePkgVersion(want)
	for i := range a {
		if a[i] != b[i] {
			return a[i] > b[i]
		}
	}
	return true
}

// libPath maps a short library name to the path release major ships.
func libPath(major int, short string) (string, bool) {
	for _, p := range sharedLibs(major) {
		if strings.HasPrefix(filepath.Base(p), short+".so.") {
			return p, true
		}
	}
	return "", false
}

// newPkgPackage is pkg itself, version ver, built for the release.
func newPkgPackage(rel Release, arch string, osversion int, ver string) *Package {
	libs := []string{libc}
	for _, l := range []string{"libssl", "libcrypto", "libutil"} {
		if p, ok := libPath(rel.Major, l); ok {
			libs = append(libs, p)
		}
	}
	return &Package{
		Name: "pkg", Version: ver, Origin: "ports-mgmt/pkg",
		ABI: rel.ABI(arch), OSVersion: osversion, Repo: "FreeBSD",
		Files:  []string{"/usr/local/sbin/pkg", "/usr/local/sbin/pkg-static"},
		Libs:   libs,
		Static: []string{"/usr/local/sbin/pkg-static"},
	}
}

// newThirdParty builds a package from its spec for the release.
func newThirdParty(ps PackageSpec, rel Release, arch string, osversion int) (*Package, error) {
	p := &Package{Name: ps.Name, Version: ps.Version, Origin: "misc/" + ps.Name, ABI: rel.ABI(arch), OSVersion: osversion, Repo: "FreeBSD", PostInstallOpens: ps.PostInstallOpens}
	if d := ps.PostInstallOpens; d != "" && (!strings.HasPrefix(d, "/dev/") || len(d) == len("/dev/")) {
		return nil, fmt.Errorf("package %s: post_install_opens %q: want a device, e.g. /dev/random", ps.Name, d)
	}
	if p.Version == "" {
		p.Version = "1.0"
	}
	p.Files = []string{"/usr/local/bin/" + ps.Name}
	p.Libs = []string{libc}
	libs := ps.Libs
	if libs == nil {
		libs = []string{"libssl"}
	}
	for _, l := range libs {
		path, ok := libPath(rel.Major, l)
		if !ok {
			return nil, fmt.Errorf("package %s: %s has no library %q", ps.Name, rel, l)
		}
		p.Libs = append(p.Libs, path)
	}
	return p, nil
}

// compatDir and ldconfigLocalDirs: misc/compatNNx installs the shared
// objects of FreeBSD NN in /usr/local/lib/compat and names that directory
// in a file of /usr/local/libdata/ldconfig, the directory rc.d/ldconfig
// reads (ldconfig_local_dirs).
const (
	compatDir         = "/usr/local/lib/compat"
	ldconfigLocalDirs = "/usr/local/libdata/ldconfig"
)

// compatPackage is misc/compatNNx as the repository of rel carries it:
// the shared objects of FreeBSD old that rel no longer ships.
func compatPackage(old int, rel Release, arch string, osversion int) *Package {
	name := fmt.Sprintf("compat%dx", old)
	p := &Package{Name: name, Version: fmt.Sprintf("%d.%d", old, rel.OSRelDate()), Origin: "misc/" + name,
		ABI: rel.ABI(arch), OSVersion: osversion, Repo: "FreeBSD"}
	kept := map[string]bool{}
	for _, l := range sharedLibs(rel.Major) {
		kept[filepath.Base(l)] = true
	}
	for _, l := range sharedLibs(old) {
		if !kept[filepath.Base(l)] {
			p.Files = append(p.Files, compatDir+"/"+filepath.Base(l))
		}
	}
	p.Files = append(p.Files, ldconfigLocalDirs+"/"+name)
	p.Static = p.Files
	return p
}

// ldconfigFind finds a shared object the way the run-time linker does, by
// its name: in /lib, /usr/lib and the directories the files of
// /usr/local/libdata/ldconfig list. It returns the path found or "".
func (m *Machine) ldconfigFind(need string) string {
	dirs := []string{"/lib", "/usr/lib"}
	entries, _ := os.ReadDir(m.HostPath(ldconfigLocalDirs))
	for _, e := range entries {
		data, err := os.ReadFile(m.HostPath(ldconfigLocalDirs + "/" + e.Name()))
		if err == nil {
			dirs = append(dirs, strings.Fields(string(data))...)
		}
	}
	for _, d := range dirs {
		p := d + "/" + filepath.Base(need)
		if _, err := os.Stat(m.HostPath(p)); err == nil {
			return p
		}
	}
	return ""
}

// packageFiles renders the program files of a package.
func packageFiles(p *Package) map[string]treeFile {
	out := map[string]treeFile{}
	for _, f := range p.Files {
		if strings.HasPrefix(f, ldconfigLocalDirs+"/") {
			out[f] = treeFile{Data: []byte(compatDir + "\n"), Mode: 0o644}
			continue
		}
		needs := p.Libs
		for _, s := range p.Static {
			if s == f {
				needs = nil
			}
		}
		var b strings.Builder
		fmt.Fprintf(&b, "# simhost program %s from package %s-%s (%s)\n", filepath.Base(f), p.Name, p.Version, p.ABI)
		if len(needs) > 0 {
			fmt.Fprintf(&b, "# needs: %s\n", strings.Join(needs, " "))
		}
		out[f] = treeFile{Data: []byte(b.String()), Mode: 0o555}
	}
	return out
}

// pkgbasePackages are the base-system packages of a pkgbase host.
func pkgbasePackages(rel Release, arch string) []*Package {
	var files []string
	for _, p := range basePrograms {
		if p.Has == nil || p.Has(rel) {
			files = append(files, p.Path)
		}
	}
	sort.Strings(files)
	ver := fmt.Sprintf("%d.%d", rel.Major, rel.Minor)
	if rel.Patch > 0 {
		ver += fmt.Sprintf("p%d", rel.Patch)
	}
	return []*Package{
		{Name: "FreeBSD-runtime", Version: ver, Origin: "base/FreeBSD-runtime", ABI: rel.ABI(arch), OSVersion: rel.OSRelDate(), Repo: "FreeBSD-base", Files: files},
		{Name: "FreeBSD-kernel-generic", Version: ver, Origin: "base/FreeBSD-kernel-generic", ABI: rel.ABI(arch), OSVersion: rel.OSRelDate(), Repo: "FreeBSD-base", Files: []string{"/boot/kernel/kernel"}},
	}
}

// addPackages adds pkg, the spec's packages and the package database to
// the files of a new machine.
func addPackages(files map[string]treeFile, s Spec, rel Release) error {
	// A packaged base brings pkg on any release (the spec can describe
	// one anywhere); otherwise pkg(8) is installed from 10.0 on.
	if s.NoPkg && s.Pkgbase {
		return fmt.Errorf("spec: a pkgbase host needs pkg (no_pkg and pkgbase together)")
	}
	if s.NoPkg || (!rel.AtLeast(10, 0) && !s.Pkgbase) {
		return nil
	}
	db := &pkgDB{}
	osv := rel.OSRelDate()
	ver := s.PkgVersion
	if ver == "" {
		ver = pkgVersionFor(rel)
	}
	db.Packages = append(db.Packages, newPkgPackage(rel, s.Arch, osv, ver))
	if s.Portmaster {
		db.Packages = append(db.Packages, &Package{Name: "portmaster", Version: "3.29", Origin: "ports-mgmt/portmaster", ABI: rel.ABI(s.Arch), OSVersion: osv, Repo: "FreeBSD", Files: []string{"/usr/local/sbin/portmaster"}, Libs: []string{"/bin/sh"}})
	}
	for _, ps := range s.Packages {
		p, err := newThirdParty(ps, rel, s.Arch, osv)
		if err != nil {
			return err
		}
		db.Packages = append(db.Packages, p)
	}
	for _, p := range db.Packages {
		for path, f := range packageFiles(p) {
			files[path] = f
		}
		if s.Ports {
			// Installed by `make install` in the port: pkg register
			// records no repository annotation (libpkg pkg_add.c adds
			// one only for packages from a remote repository).
			p.Repo = ""
			files[portsDir+"/"+p.Origin+"/Makefile"] = treeFile{Data: []byte("PORTNAME=\t" + p.Name + "\nPORTVERSION=\t" + p.Version + "\n"), Mode: 0o644}
		}
	}
	if s.NoRepository {
		// pkg.conf(5): a file in /usr/local/etc/pkg/repos overrides
		// /etc/pkg/FreeBSD.conf; enabled: no leaves no active repository.
		files[localRepoConf] = treeFile{Data: []byte("FreeBSD: { enabled: no }\n"), Mode: 0o644}
	}
	if s.Pkgbase {
		db.Packages = append(db.Packages, pkgbasePackages(rel, s.Arch)...)
	}
	data, err := json.MarshalIndent(db, "", "  ")
	if err != nil {
		return err
	}
	files[pkgDBPath] = treeFile{Data: append(data, '\n'), Mode: 0o644}
	return nil
}

// readPkgDB reads the package database of the tree at root; a missing
// database is an empty one.
func readPkgDB(root string) (*pkgDB, error) {
	db := &pkgDB{}
	data, err := os.ReadFile(filepath.Join(root, pkgDBPath))
	if errors.Is(err, fs.ErrNotExist) {
		return db, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, db); err != nil {
		return nil, fmt.Errorf("package database: %w", err)
	}
	return db, nil
}

// writePkgDB writes the package database of the tree at root.
func writePkgDB(root string, db *pkgDB) error {
	data, err := json.MarshalIndent(db, "", "  ")
	if err != nil {
		return err
	}
	full := filepath.Join(root, pkgDBPath)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		return err
	}
	return os.WriteFile(full, append(data, '\n'), 0o644)
}

// ownerOf finds the package that installed a file.
func (db *pkgDB) ownerOf(file string) *Package {
	for _, p := range db.Packages {
		for _, f := range p.Files {
			if f == file {
				return p
			}
		}
	}
	return nil
}
