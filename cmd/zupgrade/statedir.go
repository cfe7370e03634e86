// SPDX-License-Identifier: BSD-2-Clause

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/log"

	"github.com/zupgrade/zupgrade/host"
)

// stateDataset is the file system the state directory dir is on, as df
// names it (for ZFS the dataset; bin/df/df.c prints statfs(2)'s
// f_mntfromname): the nearest directory of dir that exists is asked, as
// the state directory itself is made by the first apply. "" when it
// cannot tell, and with a capture (replay), which holds no such probe.
// A staged upgrade needs its journal outside the boot environments.
func stateDataset(ctx context.Context, env Env, replay, dir string, logger *log.Logger) string {
	if replay != "" {
		return ""
	}
	r, err := hostRunner(env, "", logger)
	if err != nil {
		return ""
	}
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			out, err := host.Output(ctx, r, "df", "-k", d)
			if err != nil {
				return ""
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if f := strings.Fields(lines[len(lines)-1]); len(lines) > 1 && len(f) >= 6 {
				return f[0]
			}
			return ""
		}
		if d == filepath.Dir(d) {
			return ""
		}
	}
}
