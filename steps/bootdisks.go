// SPDX-License-Identifier: BSD-2-Clause

package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zupgrade/zupgrade/facts"
	"github.com/zupgrade/zupgrade/host"
)

// goneDiskError is a disk of the plan that is no longer there while its
// member is still in the boot pool: boot code cannot be written to it nor
// read back from it, and the admin must decide what becomes of it.
type goneDiskError struct {
	disk   string
	pool   string
	member facts.Member // the member as zpool status shows it now
	was    string       // the member's name in the plan
	// while is what zupgrade was doing when it vanished, "" when it was
	// gone before.
	while string
	// healthy is a disk of the pool that is still there, to copy the
	// partition table from.
	healthy string
}

func (e *goneDiskError) Error() string {
	var b strings.Builder
	if e.while != "" {
		fmt.Fprintf(&b, "disk %s (member %s of pool %s) disappeared while %s; what was written to it went with it", e.disk, e.was, e.pool, e.while)
	} else {
		fmt.Fprintf(&b, "disk %s (member %s of pool %s) is gone since the plan was made; nothing was written to it", e.disk, e.was, e.pool)
	}
	from := e.healthy
	if from == "" {
		from = "DISK"
	}
	fmt.Fprintf(&b, ". Either replace it: put in a new disk, partition it like the others (gpart backup %s | gpart restore -F %s), run zpool replace %s %s NEW-MEMBER and let it resilver; "+
		"or take it out of the pool for good: zpool detach %s %s. Then run zupgrade apply: it writes the boot code to the disks the pool has then",
		from, e.disk, e.pool, e.member.Name, e.pool, e.member.Name)
	return b.String()
}

// liveBootDisks returns the plan's boot-pool disks as the pool has them
// now. A disk whose member left the pool since the plan (zpool detach) is
// left out, with a note; a disk that is gone while its member is still in
// the pool is a *goneDiskError; a disk whose boot partitions changed stops
// the run too. A disk replaced at the same name with the same partitions
// (zpool replace onto it) is kept: it gets the boot code.
func (sc *stepContext) liveBootDisks(ctx context.Context) ([]facts.Disk, error) {
	f, err := facts.Gather(ctx, host.ReadOnlyRunner{Next: sc.e.Runner})
	if err != nil {
		return nil, err
	}
	planned := sc.bootDisks()
	pool := bootPool(f)
	if pool == nil {
		return nil, fmt.Errorf("the boot pool %s is not imported any more; import it, then run zupgrade apply again", sc.plan.Facts.BootPool)
	}
	planPool := bootPool(&sc.plan.Facts)
	var out []facts.Disk
	for _, d := range planned {
		now := diskByName(f, d.Name)
		inPool := slices.ContainsFunc(pool.Members, func(m facts.Member) bool { return m.Disk == d.Name })
		if inPool && now != nil {
			if len(now.BootPartitions) != len(d.BootPartitions) || len(now.ESPs) != len(d.ESPs) {
				return nil, fmt.Errorf("disk %s of pool %s has other boot partitions than when the plan was made; nothing was written to it: partition it as before (or make a new plan: zupgrade plan), then run zupgrade apply again", d.Name, pool.Name)
			}
			out = append(out, d)
			continue
		}
		// The plan's members on this disk, by name and by partition.
		var names []string
		for _, m := range planPool.Members {
			if m.Disk == d.Name {
				names = append(names, m.Name, "/dev/"+m.Name, m.Partition, "/dev/"+m.Partition)
			}
		}
		for _, m := range pool.Members {
			if m.Disk == "" && (slices.Contains(names, m.Was) || slices.Contains(names, m.Name)) {
				return nil, &goneDiskError{disk: d.Name, pool: pool.Name, member: m, was: strings.TrimPrefix(m.Was, "/dev/"), healthy: healthyDisk(pool, d.Name)}
			}
		}
		if !sc.noted[d.Name] {
			if sc.noted == nil {
				sc.noted = map[string]bool{}
			}
			sc.noted[d.Name] = true
			sc.note("disk %s is no longer in pool %s (detached since the plan): no boot code is written to it", d.Name, pool.Name)
		}
	}
	return out, nil
}

// healthyDisk is a disk of the pool, other than disk, that holds an ONLINE
// member.
func healthyDisk(pool *facts.Pool, disk string) string {
	for _, m := range pool.Members {
		if m.Disk != "" && m.Disk != disk && m.State == "ONLINE" {
			return m.Disk
		}
	}
	return ""
}

// bootCommandsFor keeps the operations of the disks given (and those of
// no disk of the boot pool), leaving out those of the planned boot-pool
// disks the pool no longer has.
func bootCommandsFor(cmds []Cmd, planned, keep []facts.Disk) []Cmd {
	has := func(ds []facts.Disk, name string) bool {
		return slices.ContainsFunc(ds, func(k facts.Disk) bool { return k.Name == name })
	}
	var out []Cmd
	for _, c := range cmds {
		d := opDisk(c.Op)
		if !has(planned, d) || has(keep, d) {
			out = append(out, c)
		}
	}
	return out
}

// explainVanished turns the failure of a boot code command into a
// *goneDiskError when the disk it wrote to has just vanished.
func (sc *stepContext) explainVanished(ctx context.Context, c Cmd, err error) error {
	disk := opDisk(c.Op)
	if !slices.ContainsFunc(sc.bootDisks(), func(d facts.Disk) bool { return d.Name == disk }) {
		return err
	}
	_, lerr := sc.liveBootDisks(ctx)
	var gone *goneDiskError
	if errors.As(lerr, &gone) && gone.disk == disk {
		gone.while = "its boot code was written (" + host.QuoteArgs(c.Args) + ")"
		return gone
	}
	return err
}
