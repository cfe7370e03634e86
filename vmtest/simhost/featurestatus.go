// SPDX-License-Identifier: BSD-2-Clause

package simhost

import "strings"

// The status and action lines zpool status prints for a pool whose
// features differ from what its compatibility property requests
// (cmd/zpool/zpool_main.c status_callback; the same text in zfs-2.2.6
// and zfs-2.3.0).
const (
	featDisabledText = "status: Some supported and requested features are not enabled on the pool.\n\tThe pool can still be used, but some features are unavailable.\naction: Enable all features using 'zpool upgrade'. Once this is done,\n\tthe pool may no longer be accessible by software that does not support\n\tthe features. See zpool-features(7) for details.\n"
	incompatFeatText = "status: One or more features are enabled on the pool despite not being\n\trequested by the 'compatibility' property.\naction: Consider setting 'compatibility' to an appropriate value, or\n\tadding needed features to the relevant file in\n\t/etc/zfs/compatibility.d or /usr/share/zfs/compatibility.d.\n"
)

// featureStatus is what the running release's zpool status says of the
// pool's features, "" when nothing: lib/libzfs/libzfs_status.c
// check_status, as its last check, walks the release's own feature table
// in order and reports ZPOOL_STATUS_FEAT_DISABLED at the first feature
// the compatibility property requests (every one when it is off) that is
// not enabled, ZPOOL_STATUS_INCOMPATIBLE_FEAT at the first one enabled
// that it does not request. ok is false when the compatibility files
// cannot be read (ZPOOL_STATUS_COMPATIBILITY_ERR, not modelled here).
func (inv *Invocation) featureStatus(p *Pool) (text string, ok bool) {
	allowed, err := inv.compatibleFeatures(p)
	if err != nil {
		return "", false
	}
	for _, f := range featuresOf(inv.zfsRelease()) {
		requested := allowed == nil || allowed[f.Name]
		enabled := p.featureState(f.Name) != "disabled"
		switch {
		case requested && !enabled:
			return featDisabledText, true
		case !requested && enabled:
			return incompatFeatText, true
		}
	}
	return "", true
}

// releaseFeatureStatus rewrites the real zpool status output out (a
// newer OpenZFS than the running release's) where it reports a pool's
// features: that status and action are replaced by what the release's
// zpool says (featureStatus), which may be nothing once every feature
// the release knows is enabled. Any other status the real zpool reports
// (a degraded pool, a resilver) is checked before the features
// (check_status) and stays.
func (inv *Invocation) releaseFeatureStatus(out string) string {
	var b strings.Builder
	var pool *Pool
	skipping := false
	for _, line := range strings.SplitAfter(out, "\n") {
		if skipping {
			if strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "action: ") {
				continue
			}
			skipping = false
		}
		if name, ok := strings.CutPrefix(line, "  pool: "); ok {
			pool = inv.model.pool(strings.TrimSpace(name))
		}
		if pool != nil && (strings.HasPrefix(featDisabledText, line) || strings.HasPrefix(incompatFeatText, line)) && strings.HasPrefix(line, "status: ") {
			if text, ok := inv.featureStatus(pool); ok {
				b.WriteString(text)
				skipping = true
				continue
			}
		}
		b.WriteString(line)
	}
	return b.String()
}
