// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The store keeps the files of datasets that are not mounted at the
// root: other boot environments and snapshots. Each is a directory named
// after the dataset (or dataset@snapshot), with '/' written as '%'.

// storePath is where the files of a dataset or snapshot are kept.
func (m *Machine) storePath(name string) string {
	return filepath.Join(m.storeDir(), strings.ReplaceAll(name, "/", "%"))
}

// beExcluded lists the machine paths below the root that belong to other
// datasets than the boot environment (their files stay when boot
// environments are switched), and the machine's own directory.
func beExcluded(model *Model) []string {
	out := []string{"/" + stateDirName}
	for _, p := range model.Pools {
		for _, d := range p.Datasets {
			// A mounted boot environment's files are its own
			// (staged.go), wherever it is mounted.
			if d.Mounted != "" {
				out = append(out, d.Mounted)
			}
			if strings.HasPrefix(d.Name, beRoot(p)+"/") || d.Name == beRootDataset(model) {
				continue
			}
			if d.Canmount == "on" && strings.HasPrefix(d.Mountpoint, "/") && d.Mountpoint != "/" {
				out = append(out, d.Mountpoint)
			}
		}
	}
	return out
}

// beRootDataset is the dataset mounted at / (the running boot
// environment, or the pool's bootfs when the machine is off).
func beRootDataset(model *Model) string {
	if model.Running != nil && model.Running.BE != "" {
		return model.Running.BE
	}
	if p := model.bootPool(); p != nil {
		return p.Bootfs
	}
	return ""
}

// copyTree copies the files of src to dst (which must not exist),
// skipping the machine paths in exclude.
func copyTree(src, dst string, exclude []string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		mp := "/" + filepath.ToSlash(rel)
		if rel == "." {
			mp = "/"
		}
		for _, x := range exclude {
			if mp == x || strings.HasPrefix(mp, x+"/") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			return copyFile(p, target, info.Mode().Perm()|0o200)
		}
	})
}

// clearTree removes everything below root except the excluded paths.
func clearTree(root string, exclude []string) error {
	ents, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	return clearEntries(root, "/", ents, exclude)
}

func clearEntries(dir, mdir string, ents []fs.DirEntry, exclude []string) error {
	for _, e := range ents {
		mp := strings.TrimSuffix(mdir, "/") + "/" + e.Name()
		keep, inside := false, false
		for _, x := range exclude {
			if mp == x {
				keep = true
			}
			if strings.HasPrefix(x, mp+"/") {
				inside = true
			}
		}
		full := filepath.Join(dir, e.Name())
		switch {
		case keep:
		case inside && e.IsDir():
			sub, err := os.ReadDir(full)
			if err != nil {
				return err
			}
			if err := clearEntries(full, mp, sub, exclude); err != nil {
				return err
			}
		default:
			if err := os.RemoveAll(full); err != nil {
				return err
			}
		}
	}
	return nil
}

// snapshotRunning copies the files of the boot environment mounted at the
// root into the store under name (dataset@snapshot or a dataset).
func (m *Machine) snapshotRunning(model *Model, name string) error {
	dst := m.storePath(name)
	os.RemoveAll(dst)
	return copyTree(m.Root, dst, beExcluded(model))
}

// copyStored copies a stored tree to another name.
func (m *Machine) copyStored(from, to string) error {
	dst := m.storePath(to)
	os.RemoveAll(dst)
	return copyTree(m.storePath(from), dst, nil)
}

// switchRoot puts the files of boot environment be at the root, saving
// the files of the boot environment that was there (old) to the store.
func (m *Machine) switchRoot(model *Model, old, be string) error {
	if old == be {
		return nil
	}
	exclude := beExcluded(model)
	if old != "" {
		if err := m.snapshotRunning(model, old); err != nil {
			return err
		}
	}
	if err := clearTree(m.Root, exclude); err != nil {
		return err
	}
	src := m.storePath(be)
	if _, err := os.Stat(src); err != nil {
		return err
	}
	if err := copyTree(src, m.Root, nil); err != nil {
		return err
	}
	return os.RemoveAll(src)
}

// statDir reports whether p is an existing directory.
func statDir(p string) (fs.FileInfo, bool) {
	st, err := os.Stat(p)
	if err != nil || !st.IsDir() {
		return nil, false
	}
	return st, true
}

// removeStoredSnapshot deletes the stored files of one snapshot.
func removeStoredSnapshot(m *Machine, snapshot string) { os.RemoveAll(m.storePath(snapshot)) }

// renameStored moves the stored files of a dataset or snapshot to
// another name, if any are kept.
func renameStored(m *Machine, from, to string) error {
	err := os.Rename(m.storePath(from), m.storePath(to))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// removeStored deletes the stored files of a dataset and its snapshots.
func removeStored(m *Machine, dataset string) {
	os.RemoveAll(m.storePath(dataset))
	ents, _ := os.ReadDir(m.storeDir())
	prefix := strings.ReplaceAll(dataset, "/", "%") + "@"
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			os.RemoveAll(filepath.Join(m.storeDir(), e.Name()))
		}
	}
}
