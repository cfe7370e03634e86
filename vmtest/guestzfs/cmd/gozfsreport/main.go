// SPDX-License-Identifier: BSD-2-Clause

// Command gozfsreport runs in the vmtest Linux guest and prints, as one
// JSON object, the pools and file systems as go-zfs (the project's chosen
// ZFS library, a parser of zpool and zfs output written by others) reads
// them from the real zpool and zfs: an independent check of the end state.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	zfs "github.com/mistifyio/go-zfs/v4"
)

// Report is what gozfsreport prints.
type Report struct {
	Pools       []Pool       `json:"pools"`
	Filesystems []Filesystem `json:"filesystems"`
}

// Pool is a pool as go-zfs reads it.
type Pool struct {
	Name, Health          string
	Size, Free, Allocated uint64
}

// Filesystem is a file system as go-zfs reads it; Origin is the snapshot
// a clone was made from ("-" for none).
type Filesystem struct {
	Name, Mountpoint, Origin string
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gozfsreport:", err)
		os.Exit(1)
	}
}

func run() error {
	var r Report
	pools, err := zfs.ListZpools()
	if err != nil {
		return fmt.Errorf("ListZpools: %w", err)
	}
	for _, p := range pools {
		r.Pools = append(r.Pools, Pool{Name: p.Name, Health: p.Health, Size: p.Size, Free: p.Free, Allocated: p.Allocated})
	}
	fss, err := zfs.Filesystems("")
	if err != nil {
		return fmt.Errorf("Filesystems: %w", err)
	}
	for _, f := range fss {
		r.Filesystems = append(r.Filesystems, Filesystem{Name: f.Name, Mountpoint: f.Mountpoint, Origin: f.Origin})
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}
