// SPDX-License-Identifier: Apache-2.0

// Package photon is the model of Photon OS kernels: the kernel release
// string (uname -r) grammar, Photon releases and kernel flavors, the
// livepatch support matrix, and package and file names. It imports only the
// standard library (and klpkit's stdlib-only JSON helpers), so a program that
// only parses versions pulls in nothing else. Fetching a kernel's packages
// from Photon's repositories and preparing its exact source tree live in
// package github.com/klpkit/klpkit/photon/kernelsrc.
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
