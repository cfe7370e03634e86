// SPDX-License-Identifier: BSD-2-Clause

package simhost

import (
	"path"
	"sort"
	"strings"
)

// cleanFAT normalises a path inside a FAT file system: no leading or
// trailing slash, no dot elements.
func cleanFAT(p string) string {
	p = path.Clean("/" + p)
	return strings.TrimPrefix(p, "/")
}

// lookup finds a file or directory without regard to case, as FAT does.
// The root ("") is always a directory.
func (f *FAT) lookup(p string) *FATFile {
	p = cleanFAT(p)
	if p == "" {
		return &FATFile{Path: "", Dir: true}
	}
	for _, e := range f.Files {
		if strings.EqualFold(e.Path, p) {
			return e
		}
	}
	return nil
}

// parentExists reports whether the directory holding p exists.
func (f *FAT) parentExists(p string) bool {
	dir := path.Dir(cleanFAT(p))
	if dir == "." {
		return true
	}
	e := f.lookup(dir)
	return e != nil && e.Dir
}

// write creates or replaces a file; its parent must exist.
func (f *FAT) write(p string, data []byte) {
	p = cleanFAT(p)
	if e := f.lookup(p); e != nil {
		e.Data = append([]byte(nil), data...)
		f.markWritten(e.Path)
		return
	}
	f.Files = append(f.Files, &FATFile{Path: p, Data: append([]byte(nil), data...)})
	f.markWritten(p)
}

// mkdir creates a directory; its parent must exist.
func (f *FAT) mkdir(p string) {
	p = cleanFAT(p)
	if f.lookup(p) != nil {
		return
	}
	f.Files = append(f.Files, &FATFile{Path: p, Dir: true})
}

// remove deletes a file or an empty directory.
func (f *FAT) remove(p string) {
	p = cleanFAT(p)
	for i, e := range f.Files {
		if strings.EqualFold(e.Path, p) {
			f.Files = append(f.Files[:i], f.Files[i+1:]...)
			return
		}
	}
}

// rename moves a file over another (replacing it).
func (f *FAT) rename(from, to string) {
	src := f.lookup(from)
	if src == nil {
		return
	}
	to = cleanFAT(to)
	f.remove(to)
	if src.Dir {
		old := src.Path
		for _, e := range f.Files {
			if strings.HasPrefix(strings.ToLower(e.Path), strings.ToLower(old)+"/") {
				e.Path = to + e.Path[len(old):]
			}
		}
	}
	src.Path = to
}

// list returns the names directly inside directory p, sorted.
func (f *FAT) list(p string) []string {
	p = cleanFAT(p)
	var out []string
	for _, e := range f.Files {
		dir := path.Dir(e.Path)
		if dir == "." {
			dir = ""
		}
		if strings.EqualFold(dir, p) {
			out = append(out, path.Base(e.Path))
		}
	}
	sort.Strings(out)
	return out
}

func (f *FAT) markWritten(p string) {
	for _, w := range f.Written {
		if strings.EqualFold(w, p) {
			return
		}
	}
	f.Written = append(f.Written, p)
}

// sync makes the live view durable.
func (f *FAT) sync() {
	f.Synced = cloneFAT(f.Files)
	f.Written = nil
}

// tear applies a power cut: the medium keeps what was synced; files
// written since were allocated but their data never reached the disk.
func (f *FAT) tear() {
	live := f.Files
	f.Files = cloneFAT(f.Synced)
	for _, w := range f.Written {
		var existed bool
		for _, e := range live {
			if strings.EqualFold(e.Path, w) {
				existed = true
			}
		}
		if !existed {
			continue
		}
		if e := f.lookup(w); e != nil && !e.Dir {
			e.Data = nil
		} else if f.parentExists(w) {
			f.Files = append(f.Files, &FATFile{Path: cleanFAT(w)})
		}
	}
	f.Synced = cloneFAT(f.Files)
	f.Written = nil
}
