// SPDX-License-Identifier: Apache-2.0

package photon

// CompareRPMVersions orders two rpm version or release strings as rpm's
// rpmvercmp does (see rpmvercmp): negative if a is older than b, zero if
// equal, positive if newer. Resolvers of Photon's repositories
// (build/photontoolchain) compare package versions with it.
func CompareRPMVersions(a, b string) int { return rpmvercmp(a, b) }
