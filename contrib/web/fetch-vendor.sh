#!/bin/sh
# Fetch the page's libraries from the npm registry into vendor/, so that
# annalsd serves them from disk and the page needs no network.
#
#   sh contrib/web/fetch-vendor.sh            fetch, check, unpack
#   sh contrib/web/fetch-vendor.sh --update   the same, recording new sums
#
# The package tarballs must match vendor/SHA256SUMS.npm (the sha256 of
# what `npm pack` downloaded), and the files unpacked must match
# vendor/SHA256SUMS, which `make test-browser` checks too.  To move to
# another version, change it below and run with --update.
set -eu
VIS=vis-timeline@8.5.4
UPLOT=uplot@1.6.32

here=$(cd "$(dirname "$0")" && pwd)
vendor=$here/vendor
update=0
[ "${1:-}" = --update ] && update=1
command -v npm >/dev/null || { echo "fetch-vendor: npm is needed" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
npm pack --silent "$VIS" "$UPLOT" >/dev/null
if [ $update = 1 ]; then
	sha256sum vis-timeline-*.tgz uplot-*.tgz > "$vendor/SHA256SUMS.npm"
else
	sha256sum -c --quiet "$vendor/SHA256SUMS.npm"
fi

mkdir vis uplot
tar xzf vis-timeline-*.tgz -C vis
tar xzf uplot-*.tgz -C uplot
mkdir -p "$vendor/vis-timeline" "$vendor/uplot"
cp vis/package/standalone/umd/vis-timeline-graph2d.min.js \
    vis/package/styles/vis-timeline-graph2d.min.css \
    vis/package/LICENSE.MIT.txt vis/package/LICENSE.Apache-2.0.txt \
    vis/package/package.json "$vendor/vis-timeline/"
cp uplot/package/dist/uPlot.iife.min.js uplot/package/dist/uPlot.min.css \
    uplot/package/LICENSE uplot/package/package.json "$vendor/uplot/"

cd "$vendor"
if [ $update = 1 ]; then
	find vis-timeline uplot -type f | LC_ALL=C sort | xargs sha256sum \
	    > SHA256SUMS
else
	sha256sum -c --quiet SHA256SUMS
fi
echo "fetch-vendor: $VIS and $UPLOT in $vendor"
