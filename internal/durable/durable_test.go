// SPDX-License-Identifier: BSD-2-Clause

package durable

import (
	"os"
	"path/filepath"
	"testing"
)

// TestWriteFileReplaces: the file holds the new data with the permissions
// asked for, whatever the old one had, and nothing else is left in the
// directory.
func TestWriteFileReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "journal.json")
	if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "new" {
		t.Fatalf("read back %q, %v; want new", got, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", fi.Mode().Perm())
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 {
		t.Errorf("the directory holds %d entries, want only the file: %v", len(ents), ents)
	}
}

// TestTempPattern: the pattern matches the temporary file WriteFile makes
// (one left by a crash looks the same) and not the file itself.
func TestTempPattern(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "journal.json")
	pat := TempPattern(p)
	for name, want := range map[string]bool{
		".journal.json4242":  true,
		"journal.json":       false,
		".journal.json.bad-": false,
		".other.json4242":    false,
	} {
		ok, err := filepath.Match(pat, filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if ok != want {
			t.Errorf("%s matches %s: %v, want %v", pat, name, ok, want)
		}
	}
}

// TestWriteFileMissingDir: a directory that is not there is an error, and
// nothing is made.
func TestWriteFileMissingDir(t *testing.T) {
	p := filepath.Join(t.TempDir(), "gone", "journal.json")
	if err := WriteFile(p, []byte("x"), 0o600); err == nil {
		t.Fatal("WriteFile into a missing directory succeeded")
	}
	if _, err := os.Stat(filepath.Dir(p)); !os.IsNotExist(err) {
		t.Errorf("the directory was made: %v", err)
	}
}
