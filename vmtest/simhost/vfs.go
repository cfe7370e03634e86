// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// vfile is a path of the machine resolved to what backs it: a real file
// under the root directory, a file on a mounted FAT file system, or a
// device node of the model.
type vfile struct {
	// mpath is the path as the machine sees it (/boot/efi/efi/boot).
	mpath string
	// real is the backing file under the root (kind real).
	real string
	// fat and fatPath: a file on a mounted ESP; mount and fatPart say
	// where it is mounted and which partition holds it.
	fat     *FAT
	fatPath string
	mount   *Mount
	fatPart *Partition
	// disk and part: a device node (/dev/ada0, /dev/ada0p1, /dev/gpt/x).
	disk *Disk
	part *Partition
	// dev is set for any path under /dev, even one naming nothing.
	dev bool
}

func (v vfile) isFAT() bool { return v.fat != nil }

// resolve maps a path argument to what backs it on the machine. Relative
// paths are taken from the real working directory; real paths inside
// the root are accepted as they are.
func (inv *Invocation) resolve(p string) vfile {
	mp := p
	if !filepath.IsAbs(p) {
		cwd, _ := os.Getwd()
		abs := filepath.Join(cwd, p)
		if inside, ok := inv.m.machinePath(abs); ok {
			mp = inside
		} else {
			mp = abs
		}
	} else if inside, ok := inv.m.machinePath(filepath.Clean(p)); ok {
		mp = inside
	}
	mp = path.Clean("/" + mp)
	v := vfile{mpath: mp}
	if strings.HasPrefix(mp, "/dev/") {
		v.dev = true
		v.disk, v.part = inv.model.device(strings.TrimPrefix(mp, "/dev/"))
		return v
	}
	if r := inv.model.Running; r != nil {
		var best *Mount
		for i := range r.Mounts {
			mt := &r.Mounts[i]
			if mp == mt.Point || strings.HasPrefix(mp, mt.Point+"/") {
				if best == nil || len(mt.Point) > len(best.Point) {
					best = mt
				}
			}
		}
		if best != nil {
			if part := inv.model.partition(best.Disk, best.Index); part != nil && part.FAT != nil {
				v.fat = part.FAT
				v.fatPath = cleanFAT(strings.TrimPrefix(mp, best.Point))
				v.mount, v.fatPart = best, part
				return v
			}
		}
	}
	v.real = inv.m.HostPath(mp)
	return v
}

// device finds the disk or partition a /dev name refers to, among the
// disks present: ada0, ada0p1, gpt/LABEL, gptid/UUID, diskid/DISK-SERIAL[pN].
func (m *Model) device(name string) (*Disk, *Partition) {
	name = strings.TrimSuffix(name, ".eli")
	for _, d := range m.Disks {
		if d.Missing {
			continue
		}
		if name == d.Name || name == "diskid/DISK-"+d.Serial {
			return d, nil
		}
		for _, p := range d.Partitions {
			switch name {
			case fmt.Sprintf("%sp%d", d.Name, p.Index),
				fmt.Sprintf("diskid/DISK-%sp%d", d.Serial, p.Index),
				"gptid/" + p.RawUUID:
				return d, p
			}
			if p.Label != "" && name == "gpt/"+p.Label {
				return d, p
			}
			if p.FAT != nil && name == "msdosfs/"+p.FAT.Label {
				return d, p
			}
		}
	}
	return nil, nil
}

// partName is the provider name of a partition (ada0p1).
func partName(d *Disk, p *Partition) string { return fmt.Sprintf("%sp%d", d.Name, p.Index) }

var errNoEnt = errors.New("No such file or directory")

// readFile returns the content of a regular file.
func (inv *Invocation) readFile(v vfile) ([]byte, error) {
	switch {
	case v.dev:
		return nil, fmt.Errorf("reading device nodes")
	case v.isFAT():
		e := v.fat.lookup(v.fatPath)
		if e == nil {
			return nil, errNoEnt
		}
		if e.Dir {
			return nil, errors.New("Is a directory")
		}
		return append([]byte(nil), e.Data...), nil
	}
	data, err := os.ReadFile(v.real)
	if err != nil {
		return nil, sysErr(err)
	}
	return data, nil
}

// writeFile creates or replaces a regular file; its directory must exist.
func (inv *Invocation) writeFile(v vfile, data []byte, mode fs.FileMode) error {
	switch {
	case v.dev:
		return fmt.Errorf("Operation not supported")
	case v.isFAT():
		if e := v.fat.lookup(v.fatPath); e != nil && e.Dir {
			return errors.New("Is a directory")
		}
		if !v.fat.parentExists(v.fatPath) {
			return errNoEnt
		}
		if r := v.realFATPath(); r != "" {
			if err := os.WriteFile(r, data, 0o644); err != nil {
				return sysErr(err)
			}
		}
		v.fat.write(v.fatPath, data)
		return nil
	}
	if st, err := os.Stat(filepath.Dir(v.real)); err != nil || !st.IsDir() {
		return errNoEnt
	}
	os.Remove(v.real)
	if err := os.WriteFile(v.real, data, mode); err != nil {
		return sysErr(err)
	}
	return sysErr(os.Chmod(v.real, mode))
}

// stat says whether a path exists and whether it is a directory.
func (inv *Invocation) stat(v vfile) (exists, dir bool) {
	switch {
	case v.dev:
		return v.disk != nil, false
	case v.isFAT():
		e := v.fat.lookup(v.fatPath)
		return e != nil, e != nil && e.Dir
	}
	st, err := os.Stat(v.real)
	if err != nil {
		return false, false
	}
	return true, st.IsDir()
}

// fileMode is the mode of a real file, or a default for other kinds.
func (inv *Invocation) fileMode(v vfile) fs.FileMode {
	if v.real != "" {
		if st, err := os.Stat(v.real); err == nil {
			return st.Mode().Perm()
		}
	}
	return 0o644
}

// listDir returns the names in a directory, sorted.
func (inv *Invocation) listDir(v vfile) ([]string, error) {
	if v.isFAT() {
		e := v.fat.lookup(v.fatPath)
		if e == nil {
			return nil, errNoEnt
		}
		if !e.Dir {
			return nil, errors.New("Not a directory")
		}
		return v.fat.list(v.fatPath), nil
	}
	if v.dev {
		return nil, errors.New("Not a directory")
	}
	ents, err := os.ReadDir(v.real)
	if err != nil {
		return nil, sysErr(err)
	}
	var names []string
	for _, e := range ents {
		if v.mpath == "/" && e.Name() == stateDirName {
			continue
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names, nil
}

// mkdirOne creates one directory whose parent exists.
func (inv *Invocation) mkdirOne(v vfile) error {
	switch {
	case v.dev:
		return errors.New("Operation not supported")
	case v.isFAT():
		if e := v.fat.lookup(v.fatPath); e != nil {
			return fs.ErrExist
		}
		if !v.fat.parentExists(v.fatPath) {
			return errNoEnt
		}
		if r := v.realFATPath(); r != "" {
			if err := os.Mkdir(r, 0o755); err != nil {
				return sysErr(err)
			}
		}
		v.fat.mkdir(v.fatPath)
		return nil
	}
	if err := os.Mkdir(v.real, 0o755); err != nil {
		return sysErr(err)
	}
	return nil
}

// removeFile deletes a file.
func (inv *Invocation) removeFile(v vfile) error {
	switch {
	case v.dev:
		return errors.New("Operation not supported")
	case v.isFAT():
		if v.fat.lookup(v.fatPath) == nil {
			return errNoEnt
		}
		if r := v.realFATPath(); r != "" {
			if err := os.Remove(r); err != nil {
				return sysErr(err)
			}
		}
		v.fat.remove(v.fatPath)
		return nil
	}
	return sysErr(os.Remove(v.real))
}

// sysErr turns Go file errors into the strerror text FreeBSD tools print.
func sysErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return errNoEnt
	case errors.Is(err, fs.ErrExist):
		return errors.New("File exists")
	case errors.Is(err, fs.ErrPermission):
		return errors.New("Permission denied")
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		msg := pe.Err.Error()
		if msg != "" {
			return errors.New(strings.ToUpper(msg[:1]) + msg[1:])
		}
	}
	return err
}

// syncAll writes every mounted FAT file system's pending data.
func (m *Model) syncAll() {
	for _, d := range m.Disks {
		for _, p := range d.Partitions {
			if p.FAT != nil {
				p.FAT.sync()
			}
		}
	}
}
