// SPDX-License-Identifier: Apache-2.0

// Package kernelsrc fetches and prepares a Photon kernel's source. A Repo
// finds a kernel's source RPM and debuginfo RPM: in Photon's
// repositories (repodata first, known file names as the fallback; a mirror
// or a local directory instead of the public hosts) or as explicit files,
// the -s and -v of auto_livepatch.sh. Downloads are retried (resuming with
// Range requests), capped at the size the metadata declares (or
// DownloadOptions.MaxDownloadSize), checked against the repository's sha256
// or sha512 (no other algorithm is accepted) and cached by checksum; a failed
// or cancelled download leaves nothing in the cache. Repository metadata is
// verified against repomd.xml before it is decompressed, and the primary list
// is parsed as a stream. Redirects go only to http(s), at most 5. Repo.Prepare then
// builds the kernel's exact tree without rpmbuild: it reads the kernel's
// spec and runs its %prep with package photon/specprep (which stops with a
// specprep.SpecError on anything outside the subset of spec syntax Photon's
// kernel specs use), applying Photon's patches, then
// installs the flavor's config with CONFIG_LOCALVERSION set, extracts vmlinux
// from the debuginfo RPM and checks the local compiler against the one that
// built it:
//
//	src, err := (&kernelsrc.Repo{BaseURLs: []string{mirror}}).Prepare(ctx, k, &kernelsrc.PrepareOptions{Dir: work})
//	// src.Tree, src.Config, src.Vmlinux, src.Compiler
package kernelsrc
