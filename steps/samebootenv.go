// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/zupgrade/zupgrade/host"
)

// sameBootEnv refuses to go on in a boot environment other than the one the
// run started in (its root dataset). freebsd-update makes a boot environment
// at every install (install_create_be; CreateBootEnv defaults to yes), so
// some are copies of the host taken mid-run, with the boot hook enabled and
// the journal of the run: booting one must not resume the run there. The boot
// hook then disables itself in that copy; the run itself is untouched.
func (e *Engine) sameBootEnv(ctx context.Context, j *Journal) error {
	want := j.Plan.Facts.RootDataset
	res, err := e.Runner.Run(ctx, host.Command{Args: []string{"kenv", "-q", "vfs.root.mountfrom"}})
	if want == "" || err != nil || !res.OK() {
		return nil
	}
	got, ok := strings.CutPrefix(strings.TrimSpace(string(res.Stdout)), "zfs:")
	if !ok || got == want {
		return nil
	}
	if st := j.Plan.Staged; st != nil && got == path.Join(path.Dir(want), st.BootEnv) {
		// A staged upgrade's trial boot goes on in the new boot
		// environment.
		return nil
	}
	msg := fmt.Sprintf("the host runs boot environment %s, but the run upgrades %s (a copy such as freebsd-update's boot environments holds the run's state too): not going on here; boot %s again to go on (bectl activate %s, reboot)", got, want, want, path.Base(want))
	if e.Resume {
		for _, c := range e.unhook(ctx, &j.Plan.Facts) {
			if _, err := e.Runner.Run(ctx, c.Op.Command()); err != nil {
				return fmt.Errorf("%s; removing the boot hook from %s: %v", msg, got, err)
			}
		}
		msg += "; the boot hook is removed from " + got
	}
	return errors.New(msg)
}
