// SPDX-License-Identifier: Apache-2.0

package photon

import (
	"fmt"
	"strings"

	"github.com/klpkit/klpkit/internal/kver"
)

// Release is a Photon OS major release: 3 for Photon 3.0 (".ph3").
type Release int

// String gives the release as Photon writes it, e.g. "4.0".
func (r Release) String() string { return fmt.Sprintf("%d.0", int(r)) }

// DistTag is the RPM dist tag, e.g. ".ph4".
func (r Release) DistTag() string { return fmt.Sprintf(".ph%d", int(r)) }

// ReleaseInfo is what klpkit knows about one Photon release.
type ReleaseInfo struct {
	Release Release `json:"release"`
	// KernelLine is the upstream kernel series, e.g. "5.10".
	KernelLine string `json:"kernel_line"`
	// Compiler is the gcc the release's kernels are built with (head of branch).
	Compiler string `json:"compiler"`
	// AtomicReplace tells whether the kernel supports klp replace (Linux
	// 5.1 or later). Without it every livepatch must be built non-replace
	// (-R). It follows from KernelLine (see atomicReplace).
	AtomicReplace bool `json:"atomic_replace"`
	// Flavors lists the x86_64 kernel flavors of the release.
	Flavors []FlavorInfo `json:"flavors"`
}

// FlavorInfo describes one flavor of one release.
type FlavorInfo struct {
	Flavor Flavor `json:"flavor"`
	// ConfigFile is the x86_64 config's file name in the source RPM.
	ConfigFile string `json:"config_file"`
	// Livepatch tells whether any kernel of this flavor has CONFIG_LIVEPATCH.
	Livepatch bool `json:"livepatch"`
	// Since is the first kernel (version and RPM release number) built with
	// CONFIG_LIVEPATCH; the zero value means every kernel of the flavor.
	Since Threshold `json:"since"`
	// Bad lists ranges that have CONFIG_LIVEPATCH but cannot be patched safely.
	Bad []BadRange `json:"bad"`
	// Why explains a flavor without livepatch support.
	Why string `json:"why"`
}

// Threshold is a kernel version plus the RPM release number of its package.
type Threshold struct {
	Version Version
	Build   int
}

func (t Threshold) String() string { return fmt.Sprintf("%s-%d", t.Version, t.Build) }

// isZero reports an unset threshold.
func (t Threshold) isZero() bool { return t == Threshold{} }

// Compare returns -1, 0 or +1 as t is older than, equal to or newer than o.
func (t Threshold) Compare(o Threshold) int {
	if c := t.Version.Compare(o.Version); c != 0 {
		return c
	}
	return sign(t.Build - o.Build)
}

// BadRange is an inclusive range of builds refused for a stated reason.
type BadRange struct {
	First  Threshold `json:"first"`
	Last   Threshold `json:"last"`
	Reason string    `json:"reason"`
}

func (b BadRange) contains(t Threshold) bool {
	return t.Compare(b.First) >= 0 && t.Compare(b.Last) <= 0
}

func th(major, minor, patch, build int) Threshold {
	return Threshold{Version{major, minor, patch}, build}
}

const (
	whyESX    = "Photon's esx kernels are built without ftrace and CONFIG_LIVEPATCH"
	whySecure = "Photon's secure kernels are built without CONFIG_LIVEPATCH (and with the GCC latent-entropy plugin)"
)

// releases is the one table of Photon facts (kernel line, compiler,
// flavors and their livepatch support), gathered from Photon's kernel
// packages and repositories. Releases fills in AtomicReplace from the
// kernel line.
var releases = []ReleaseInfo{
	{
		Release: 3, KernelLine: "4.19", Compiler: "gcc 7.3.0",
		Flavors: []FlavorInfo{
			{Flavor: Generic, ConfigFile: "config", Livepatch: true, Since: th(4, 19, 247, 2)},
			{Flavor: AWS, ConfigFile: "config-aws", Livepatch: true, Since: th(4, 19, 247, 2)},
			{Flavor: RT, ConfigFile: "config-rt", Livepatch: true, Since: th(4, 19, 247, 2)},
			{Flavor: ESX, ConfigFile: "config-esx", Why: whyESX},
			{Flavor: Secure, ConfigFile: "config-secure", Why: whySecure},
		},
	},
	{
		Release: 4, KernelLine: "5.10", Compiler: "gcc 10.5.0",
		Flavors: []FlavorInfo{
			{Flavor: Generic, ConfigFile: "config_x86_64", Livepatch: true, Since: th(5, 10, 118, 2)},
			{Flavor: AWS, ConfigFile: "config-aws", Livepatch: true, Since: th(5, 10, 118, 2)},
			{Flavor: RT, ConfigFile: "config-rt", Livepatch: true, Since: th(5, 10, 118, 2)},
			{Flavor: ESX, ConfigFile: "config-esx", Why: whyESX},
			{Flavor: Secure, ConfigFile: "config-secure", Why: whySecure},
		},
	},
	{
		Release: 5, KernelLine: "6.1", Compiler: "gcc 12.2.0",
		Flavors: []FlavorInfo{
			{
				Flavor: Generic, ConfigFile: "config_x86_64", Livepatch: true, Since: th(5, 10, 78, 7),
				Bad: []BadRange{{
					First: th(6, 1, 83, 5), Last: th(6, 1, 118, 6),
					Reason: "built with CONFIG_GCC_PLUGIN_LATENT_ENTROPY, which breaks livepatch builds; fixed in 6.1.118-7",
				}},
			},
			{Flavor: RT, ConfigFile: "config-rt", Livepatch: true, Since: th(5, 10, 78, 6)},
			// aws was dropped before 5.0 reached general availability (last 5.10.142-3).
			{Flavor: AWS, ConfigFile: "config-aws", Livepatch: true, Since: th(5, 10, 78, 6)},
			{Flavor: ESX, ConfigFile: "config-esx_x86_64", Why: whyESX},
			{Flavor: Secure, ConfigFile: "config-secure", Why: whySecure},
		},
	},
}

// Releases returns the Photon releases klpkit supports, oldest first.
func Releases() []ReleaseInfo {
	out := make([]ReleaseInfo, len(releases))
	for i, r := range releases {
		r.AtomicReplace = atomicReplace(r.KernelLine)
		r.Flavors = append([]FlavorInfo(nil), r.Flavors...)
		for j := range r.Flavors {
			r.Flavors[j].Bad = append([]BadRange(nil), r.Flavors[j].Bad...)
		}
		out[i] = r
	}
	return out
}

// atomicReplace tells whether kernels of an upstream line ("4.19") have
// klp replace. Which Linux version brought it is a fact about Linux, not
// Photon, and klpkit keeps it once, in internal/kver: kmod and build need
// it for any distribution's kernel and may not import photon, and
// internal helpers may import no public package, so the fact sits below
// them all and this table shows it for each release.
func atomicReplace(line string) bool {
	v, ok := kver.FromRelease(line)
	return ok && !v.Before(kver.AtomicReplace)
}

// ErrUnknownRelease is returned for a Photon release outside the table.
var ErrUnknownRelease = fmt.Errorf("photon: release not in klpkit's support matrix")

// Lookup returns the table entry of release r.
func Lookup(r Release) (ReleaseInfo, error) {
	for _, info := range Releases() {
		if info.Release == r {
			return info, nil
		}
	}
	return ReleaseInfo{}, fmt.Errorf("%w: Photon %s (known: %s)", ErrUnknownRelease, r, knownReleases())
}

func knownReleases() string {
	names := make([]string, len(releases))
	for i, r := range releases {
		names[i] = r.Release.String()
	}
	return strings.Join(names, ", ")
}

// Flavors returns the x86_64 kernel flavors of release r.
func Flavors(r Release) ([]FlavorInfo, error) {
	info, err := Lookup(r)
	if err != nil {
		return nil, err
	}
	return info.Flavors, nil
}

// Flavor returns the entry for flavor f.
func (ri ReleaseInfo) Flavor(f Flavor) (FlavorInfo, bool) {
	for _, fi := range ri.Flavors {
		if fi.Flavor == f {
			return fi, true
		}
	}
	return FlavorInfo{}, false
}
