package simhost

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// pkgDBPath is where the simulated package database lives in the boot
// environment (a real host keeps /var/db/pkg/local.sqlite there).
const pkgDBPath = "/var/db/pkg/simhost-db.json"

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

// pkgVersionFor is the pkg(8) version packaged for a major release.
func pkgVersionFor(major int) string {
	switch {
	case major >= 15:
		return "2.4.2"
	case major == 14:
		return "1.21.3"
	case major == 13:
		return "1.20.9"
	default:
		return "1.16.3"
	}
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

// newPkgPackage is pkg itself built for the release.
func newPkgPackage(rel Release, arch string, osversion int) *Package {
	libs := []string{libc}
	for _, l := range []string{"libssl", "libcrypto", "libutil"} {
		if p, ok := libPath(rel.Major, l); ok {
			libs = append(libs, p)
		}
	}
	return &Package{
		Name: "pkg", Version: pkgVersionFor(rel.Major), Origin: "ports-mgmt/pkg",
		ABI: rel.ABI(arch), OSVersion: osversion, Repo: "FreeBSD",
		Files:  []string{"/usr/local/sbin/pkg", "/usr/local/sbin/pkg-static"},
		Libs:   libs,
		Static: []string{"/usr/local/sbin/pkg-static"},
	}
}

// newThirdParty builds a package from its spec for the release.
func newThirdParty(ps PackageSpec, rel Release, arch string, osversion int) (*Package, error) {
	p := &Package{Name: ps.Name, Version: ps.Version, Origin: "misc/" + ps.Name, ABI: rel.ABI(arch), OSVersion: osversion, Repo: "FreeBSD"}
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

// packageFiles renders the program files of a package.
func packageFiles(p *Package) map[string]treeFile {
	out := map[string]treeFile{}
	for _, f := range p.Files {
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
	db.Packages = append(db.Packages, newPkgPackage(rel, s.Arch, osv))
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
