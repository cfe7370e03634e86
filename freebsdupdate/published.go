// SPDX-License-Identifier: BSD-2-Clause

package freebsdupdate

import "fmt"

// lastMinor is the last minor version of each major version whose branch
// has ended, from FreeBSD's release history (freebsd.org/releases): no
// release of those majors follows it. 13.5 ends stable/13.
var lastMinor = map[int]int{6: 4, 7: 4, 8: 4, 9: 3, 10: 4, 11: 4, 12: 4, 13: 5}

// NewestMajor is the newest major version this zupgrade knows; its checks
// (errata, boot code, loaders) cover no later one.
const NewestMajor = 15

// CheckPublished reports why r names no release FreeBSD published that
// zupgrade can upgrade to, or nil: a major version newer than NewestMajor,
// or a minor version after the last one of an ended branch (13.6). Which
// minor versions of the open branches exist only the update servers know
// (freebsd-update's fetch of the target's metadata fails for one that does
// not: "No mirrors remaining, giving up").
func CheckPublished(r Release) error {
	if r.Major > NewestMajor {
		return fmt.Errorf("%s is not a FreeBSD release this zupgrade knows: it knows releases up to %d.x; if FreeBSD published %s since, use a newer zupgrade", r.Base(), NewestMajor, r.Version())
	}
	if last, ok := lastMinor[r.Major]; ok && r.Minor > last {
		return fmt.Errorf("FreeBSD published no release %s: the %d branch ended with %d.%d-RELEASE", r.Base(), r.Major, r.Major, last)
	}
	return nil
}
