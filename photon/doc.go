// Package photon owns everything specific to Photon OS: the kernel release
// string (uname -r) grammar, Photon releases and kernel flavors, the
// livepatch support matrix, package and file names, and fetching and
// preparing a kernel's exact source tree and debug symbols from Photon's
// package repositories.
//
// Start with ParseKernel, which turns a uname -r string such as
// "5.10.118-rt67-3.ph4-rt" into a Kernel, and Kernel.Livepatchable, which
// says whether klpkit can build a livepatch for it and, if not, why:
//
//	k, err := photon.ParseKernel("6.1.118-7.ph5")
//	if err != nil {
//		// *ParseError: names the input and what is wrong with it
//	}
//	if err := k.Livepatchable(); errors.Is(err, photon.ErrNotLivepatchable) {
//		// the error says why: flavor, threshold, known-bad build, arch
//	}
//
// The release table (Releases, Lookup, Flavors) keeps every Photon fact the
// package knows in one place.
package photon
