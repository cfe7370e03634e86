// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"strings"

	"github.com/zupgrade/zupgrade/host"
	"github.com/zupgrade/zupgrade/progress"
)

// openChildren stops what a killed zupgrade left running before apply or
// rollback runs a command beside it (host.OpenChildren on the state
// directory: the process group SIGTERM, then SIGKILL), saying so as notes,
// and returns runner with the children lock given to the commands it
// starts, so that the next run stops them in turn. The caller holds the
// state directory's lock and closes the Children.
func openChildren(dir string, runner host.Runner, out *runOutput) (*host.Children, host.Runner, error) {
	children, err := host.OpenChildren(dir, noteWriter{out})
	if err != nil {
		return nil, nil, err
	}
	if er, ok := runner.(host.ExecRunner); ok {
		er.Children = children
		runner = er
	}
	return children, runner, nil
}

// noteWriter says each line written to it as a note event.
type noteWriter struct{ out *runOutput }

func (w noteWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		w.out.emit(progress.Event{Kind: progress.Note, Text: line})
	}
	return len(p), nil
}
