// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
)

// keepRunLogs is how many runs' logs a new run keeps in the log
// directory, itself counted.
const keepRunLogs = 10

// keepJournals is how many journals of ended runs (journal-RUN.json) the
// state directory keeps.
const keepJournals = 10

// runLogName matches the files of a run's log: RUN.json (RUN the run's ID,
// a UTC time, steps.NewJournal) and the archives newsyslog makes of it
// when it rotates it: the log's name, a dot, the archive's number (or time
// stamp) and the compression's suffix (usr.sbin/newsyslog/newsyslog.c).
var runLogName = regexp.MustCompile(`^([0-9]{8}T[0-9]{6}Z)\.json(\..+)?$`)

// pruneRunLogs removes from dir the logs of all runs but the newest keep
// (their IDs sort by time), the run current always kept among them, and
// returns the names of the files it removed. Only a run's log files are
// touched (runLogName); resume.log and anything else stay. The caller holds
// the state directory's lock: current is the only run that can be pending.
// A dir that does not exist holds nothing to remove.
func pruneRunLogs(dir, current string, keep int) ([]string, error) {
	return pruneRuns(dir, runLogName, current, keep)
}

// journalArchiveName matches the journal of an ended run as apply moves
// it aside (archiveJournal): journal-RUN.json.
var journalArchiveName = regexp.MustCompile(`^journal-([0-9]{8}T[0-9]{6}Z)\.json$`)

// pruneJournals removes from the state directory dir the journals of
// ended runs but the newest keep, the run current always kept among them,
// and returns the names of the files it removed (pruneRuns).
func pruneJournals(dir, current string, keep int) ([]string, error) {
	return pruneRuns(dir, journalArchiveName, current, keep)
}

// pruneRuns removes from dir the files of all runs but the newest keep,
// the run current always kept among them: the regular files whose names
// match names, whose first group is the run's ID. It returns the names of
// the files it removed.
func pruneRuns(dir string, names *regexp.Regexp, current string, keep int) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	byRun := map[string][]string{}
	for _, e := range entries {
		if m := names.FindStringSubmatch(e.Name()); m != nil && e.Type().IsRegular() {
			byRun[m[1]] = append(byRun[m[1]], e.Name())
		}
	}
	ids := slices.Sorted(maps.Keys(byRun))
	kept := map[string]bool{current: true}
	for i := len(ids) - 1; i >= 0 && len(kept) < keep; i-- {
		kept[ids[i]] = true
	}
	var removed []string
	for _, id := range ids {
		if kept[id] {
			continue
		}
		for _, name := range byRun[id] {
			if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return removed, err
			}
			removed = append(removed, name)
		}
	}
	return removed, nil
}
