#!/bin/sh
# Rebuilds the rpmbuild-made fixtures rpmpkg's tests read (Debian: apt-get
# install rpm). The packages are tiny: a "debuginfo-like" binary package with
# a directory, hard links, symlinks and a nested file, once per payload
# compressor, and a source package. Run from this directory.
set -eu
here=$(pwd)
top=$(mktemp -d)
trap 'rm -rf "$top"' EXIT
mkdir -p "$top/SPECS" "$top/SOURCES"
cp fixture.spec "$top/SPECS/"
printf 'tarball contents\n' > "$top/SOURCES/fixture-1.0.tar"
printf -- '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n' > "$top/SOURCES/0001-fix.patch"
export SOURCE_DATE_EPOCH=1700000000
for comp in gzip:w9.gzdio xz:w6.xzdio lzma:w6.lzdio zstd:w19.zstdio; do
	name=${comp%%:*}
	rpmbuild --quiet -bb --define "_topdir $top" --define "_binary_payload ${comp#*:}" \
		--define "comp $name" --define "use_source_date_epoch_as_buildtime 1" \
		--define "clamp_mtime_to_source_date_epoch 1" --define "_buildhost fixtures" \
		"$top/SPECS/fixture.spec"
	mv "$top/RPMS/x86_64/fixture-$name-1.0-1.ph5.x86_64.rpm" "$here/"
done
rpmbuild --quiet -bs --define "_topdir $top" --define "comp gzip" --define "_buildhost fixtures" \
	--define "use_source_date_epoch_as_buildtime 1" "$top/SPECS/fixture.spec"
mv "$top"/SRPMS/*.src.rpm "$here/"
