// SPDX-License-Identifier: BSD-2-Clause

// Package durable writes the files zupgrade owns (journal, saved plan,
// boot hook, captures) so that a crash or power cut leaves either the old
// file or the new one, complete: a temporary file beside the target,
// fsync, rename over the target, fsync of the directory.
package durable

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"
)

// WriteFile replaces path with data, durably, with permissions perm. The
// temporary file is made in path's directory (a rename does not cross
// file systems) and named by TempPattern.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	t, err := renameio.NewPendingFile(path, renameio.WithTempDir(dir), renameio.WithStaticPermissions(perm))
	if err != nil {
		return err
	}
	defer t.Cleanup()
	if _, err := t.Write(data); err != nil {
		return err
	}
	if err := t.CloseAtomicallyReplace(); err != nil {
		return err
	}
	// The rename is durable only once the directory is on disk too.
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// TempPattern is a filepath.Match pattern of the temporary files
// WriteFile(path) makes, which a crash can leave behind: a dot, the
// target's name and a number.
func TempPattern(path string) string {
	base := filepath.Base(path)
	base = strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`, `\`, `\\`).Replace(base)
	return filepath.Join(filepath.Dir(path), "."+base+"[0-9]*")
}
