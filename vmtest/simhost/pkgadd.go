// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// PackageFile is a file of a package InstallPackage installs: its path on
// the machine, its mode and content.
type PackageFile struct {
	Path string
	Mode os.FileMode
	Data []byte
}

// InstallPackage installs a package built elsewhere (a port's package) as
// `pkg add FILE` does (libpkg/pkg_add.c): its files are extracted into the
// tree, directories made as needed, and the package is registered in the
// local database with them, so that pkg which, pkg info and pkg query see
// it. A package added from a file records no repository (pkg_add.c
// annotates only packages from a remote one). The package is built for the
// machine's userland (ABI, OSVERSION). pkg must be installed.
func (m *Machine) InstallPackage(name, version, origin string, files []PackageFile) error {
	db, err := readPkgDB(m.Root)
	if err != nil {
		return err
	}
	if db.find("pkg") == nil {
		return fmt.Errorf("pkg add %s: pkg is not installed on the machine", name)
	}
	if db.find(name) != nil {
		return fmt.Errorf("pkg add %s: package %s is already installed", name, name)
	}
	model, err := m.Model()
	if err != nil {
		return err
	}
	rel := m.userland()
	p := &Package{Name: name, Version: version, Origin: origin, ABI: rel.ABI(model.Arch), OSVersion: rel.OSRelDate()}
	for _, f := range files {
		if !path.IsAbs(f.Path) {
			return fmt.Errorf("pkg add %s: %q is not an absolute path", name, f.Path)
		}
		if owner := db.ownerOf(f.Path); owner != nil {
			return fmt.Errorf("pkg add %s: %s conflicts with %s-%s, which installed it", name, f.Path, owner.Name, owner.Version)
		}
		real := m.HostPath(f.Path)
		if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(real, f.Data, f.Mode); err != nil {
			return err
		}
		if err := os.Chmod(real, f.Mode); err != nil {
			return err
		}
		p.Files = append(p.Files, f.Path)
		p.Static = append(p.Static, f.Path)
	}
	db.Packages = append(db.Packages, p)
	return writePkgDB(m.Root, db)
}
