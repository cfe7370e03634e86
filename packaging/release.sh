#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# SPDX-License-Identifier: BSD-2-Clause
#
# The release build: static zupgrade binaries for freebsd/amd64 and
# freebsd/arm64 with the version stamped, and their SHA-256 checksums.
#
#   packaging/release.sh VERSION [OUTDIR]
#
# writes OUTDIR/zupgrade-VERSION-freebsd-amd64, ...-arm64 and
# OUTDIR/SHA256SUMS (the format of sha256sum and sha256 -r; check on
# FreeBSD with `sha256sum -c SHA256SUMS`). OUTDIR defaults to dist.
set -eu

usage() {
	echo "usage: $0 VERSION [OUTDIR]   (VERSION like 1.2.3 or 1.2.3-rc1)" >&2
	exit 2
}
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	usage
fi
version=$1
out=${2:-dist}
# The version goes into -ldflags and file names: digits, dots and a
# suffix of letters, digits, dots and dashes only.
if ! printf '%s\n' "$version" | grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?'; then
	echo "$0: version \"$version\" is not like 1.2.3 or 1.2.3-rc1" >&2
	exit 2
fi

cd "$(dirname "$0")/.."
mkdir -p "$out"
out=$(cd "$out" && pwd)
files=""
for arch in amd64 arm64; do
	bin="zupgrade-$version-freebsd-$arch"
	# No -trimpath: with it, go leaves -ldflags out of the build
	# information, and `go version -m` could not show the version.
	CGO_ENABLED=0 GOOS=freebsd GOARCH=$arch go build \
		-ldflags "-s -w -X main.version=$version" -o "$out/$bin" ./cmd/zupgrade
	files="$files $bin"
done

cd "$out"
if command -v sha256sum >/dev/null 2>&1; then
	# shellcheck disable=SC2086 # the names hold no blanks
	sha256sum $files >SHA256SUMS
else
	# shellcheck disable=SC2086
	sha256 -r $files | sed 's/ / */' >SHA256SUMS
fi
cat SHA256SUMS
