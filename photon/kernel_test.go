// SPDX-License-Identifier: Apache-2.0

package photon

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// want is one row of the parse table: the fields a uname string must yield.
type want struct {
	uname   string
	version Version
	build   int
	rt      int
	variant Variant
	photon  Release
	flavor  Flavor
	// livepatchable: "" means yes, otherwise a fragment of the refusal.
	refused string
}

// kernels holds real Photon kernel strings, as Photon's repositories name them.
var kernels = []want{
	{"4.9.43-1.ph2-esx", V(4, 9, 43), 1, 0, "", 2, ESX, "no livepatch support (it starts with 3.0)"},
	{"4.9.140-1.ph2", V(4, 9, 140), 1, 0, "", 2, Generic, "starts with 3.0"},
	{"4.19.245-5.ph3-aws", V(4, 19, 245), 5, 0, "", 3, AWS, "from 4.19.247-2 on"},
	{"4.19.247-1.ph3", V(4, 19, 247), 1, 0, "", 3, Generic, "from 4.19.247-2 on"},
	{"4.19.247-2.ph3", V(4, 19, 247), 2, 0, "", 3, Generic, ""},
	{"4.19.247-2.ph3-aws", V(4, 19, 247), 2, 0, "", 3, AWS, ""},
	{"4.19.247-rt108-1.ph3-rt", V(4, 19, 247), 1, 108, "", 3, RT, "from 4.19.247-2 on"},
	{"4.19.247-rt108-2.ph3-rt", V(4, 19, 247), 2, 108, "", 3, RT, ""},
	{"4.19.247-rt108-10.ph3-rt", V(4, 19, 247), 10, 108, "", 3, RT, ""},
	{"4.19.247-11.ph3-rt", V(4, 19, 247), 11, 0, "", 3, RT, ""},
	{"4.19.225-3.ph3-esx", V(4, 19, 225), 3, 0, "", 3, ESX, "without ftrace"},
	{"4.19.290-1.ph3", V(4, 19, 290), 1, 0, "", 3, Generic, ""},
	{"4.19.325-1.ph3", V(4, 19, 325), 1, 0, "", 3, Generic, ""},
	{"4.19.325-1.ph3-aws", V(4, 19, 325), 1, 0, "", 3, AWS, ""},
	{"4.19.325-1.ph3-rt", V(4, 19, 325), 1, 0, "", 3, RT, ""},
	{"4.19.325-1.ph3-esx", V(4, 19, 325), 1, 0, "", 3, ESX, "without ftrace"},
	{"4.19.325-1.ph3-secure", V(4, 19, 325), 1, 0, "", 3, Secure, "secure kernels"},
	{"5.10.4-4.ph4", V(5, 10, 4), 4, 0, "", 4, Generic, "from 5.10.118-2 on"},
	{"5.10.108-2.ph4", V(5, 10, 108), 2, 0, "", 4, Generic, "from 5.10.118-2 on"},
	{"5.10.118-1.ph4", V(5, 10, 118), 1, 0, "", 4, Generic, "from 5.10.118-2 on"},
	{"5.10.118-1.kat.ph4", V(5, 10, 118), 1, 0, KAT, 4, Generic, "from 5.10.118-2 on"},
	{"5.10.118-1.acvp.ph4", V(5, 10, 118), 1, 0, ACVP, 4, Generic, "from 5.10.118-2 on"},
	{"5.10.118-4.acvp.kat.ph4", V(5, 10, 118), 4, 0, ACVPKAT, 4, Generic, ""},
	{"5.10.118-2.ph4", V(5, 10, 118), 2, 0, "", 4, Generic, ""},
	{"5.10.118-3.ph4", V(5, 10, 118), 3, 0, "", 4, Generic, ""},
	{"5.10.118-2.ph4-aws", V(5, 10, 118), 2, 0, "", 4, AWS, ""},
	{"5.10.118-2.ph4-esx", V(5, 10, 118), 2, 0, "", 4, ESX, "without ftrace"},
	{"5.10.118-rt67-1.ph4-rt", V(5, 10, 118), 1, 67, "", 4, RT, "from 5.10.118-2 on"},
	{"5.10.118-rt67-2.ph4-rt", V(5, 10, 118), 2, 67, "", 4, RT, ""},
	{"5.10.118-rt67-3.ph4-rt", V(5, 10, 118), 3, 67, "", 4, RT, ""},
	{"5.10.118-rt67-14.ph4-rt", V(5, 10, 118), 14, 67, "", 4, RT, ""},
	{"5.10.118-15.ph4-rt", V(5, 10, 118), 15, 0, "", 4, RT, ""},
	{"5.10.216-1.ph4-rt", V(5, 10, 216), 1, 0, "", 4, RT, ""},
	{"5.10.237-1.ph4", V(5, 10, 237), 1, 0, "", 4, Generic, ""},
	{"5.10.237-1.ph4-aws", V(5, 10, 237), 1, 0, "", 4, AWS, ""},
	{"5.10.237-1.ph4-secure", V(5, 10, 237), 1, 0, "", 4, Secure, "secure kernels"},
	{"5.10.78-6.ph5", V(5, 10, 78), 6, 0, "", 5, Generic, "from 5.10.78-7 on"},
	{"5.10.78-7.ph5", V(5, 10, 78), 7, 0, "", 5, Generic, ""},
	{"5.10.78-6.ph5-rt", V(5, 10, 78), 6, 0, "", 5, RT, ""},
	{"5.10.142-3.ph5-aws", V(5, 10, 142), 3, 0, "", 5, AWS, ""},
	{"6.1.10-11.ph5", V(6, 1, 10), 11, 0, "", 5, Generic, ""},
	{"6.1.83-4.ph5", V(6, 1, 83), 4, 0, "", 5, Generic, ""},
	{"6.1.83-5.ph5", V(6, 1, 83), 5, 0, "", 5, Generic, "LATENT_ENTROPY"},
	{"6.1.83-9.ph5", V(6, 1, 83), 9, 0, "", 5, Generic, "LATENT_ENTROPY"},
	{"6.1.90-1.ph5-secure", V(6, 1, 90), 1, 0, "", 5, Secure, "secure kernels"},
	{"6.1.100-2.ph5", V(6, 1, 100), 2, 0, "", 5, Generic, "LATENT_ENTROPY"},
	{"6.1.118-6.ph5", V(6, 1, 118), 6, 0, "", 5, Generic, "LATENT_ENTROPY"},
	{"6.1.118-7.ph5", V(6, 1, 118), 7, 0, "", 5, Generic, ""},
	{"6.1.100-2.ph5-rt", V(6, 1, 100), 2, 0, "", 5, RT, ""},
	{"6.1.138-2.ph5", V(6, 1, 138), 2, 0, "", 5, Generic, ""},
	{"6.1.138-1.ph5-rt", V(6, 1, 138), 1, 0, "", 5, RT, ""},
	{"6.1.138-1.ph5-esx", V(6, 1, 138), 1, 0, "", 5, ESX, "without ftrace"},
	{"6.12.30-1.ph6", V(6, 12, 30), 1, 0, "", 6, Generic, "not in klpkit's support matrix"},
	{"6.12.30-1.ph6-esx", V(6, 12, 30), 1, 0, "", 6, ESX, "not in klpkit's support matrix"},
}

func TestParseKernel(t *testing.T) {
	require.GreaterOrEqual(t, len(kernels), 40)
	for _, w := range kernels {
		t.Run(w.uname, func(t *testing.T) {
			k, err := ParseKernel(w.uname)
			require.NoError(t, err)
			assert.Equal(t, w.version, k.Version, "version")
			assert.Equal(t, w.build, k.Build, "build")
			assert.Equal(t, w.rt, k.RTLevel, "rt level")
			assert.Equal(t, w.variant, k.Variant, "variant")
			assert.Equal(t, w.photon, k.Photon, "photon release")
			assert.Equal(t, w.flavor, k.Flavor, "flavor")
			assert.Equal(t, w.uname, k.String(), "round trip")

			err = k.Livepatchable()
			if w.refused == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrNotLivepatchable)
			assert.Contains(t, err.Error(), w.refused)
			assert.Contains(t, err.Error(), w.uname, "the error names the kernel")
		})
	}
}

func TestParseKernelMalformed(t *testing.T) {
	cases := []struct{ in, reason string }{
		{"", "empty string"},
		{"5.10.118-3", "no Photon dist tag"},
		{"5.10.118-3.ph", "no Photon dist tag"},
		{"5.10.118-3.phx", "no Photon dist tag"},
		{"5.10.118.ph4", `no "-" between kernel version and release`},
		{"5.10-3.ph4", "want three numbers"},
		{"5.10.118.1-3.ph4", "want three numbers"},
		{"5.10.x-3.ph4", `"x" is not a number`},
		{"05.10.118-3.ph4", "leading zero"},
		{"5.10.118-03.ph4", "leading zero"},
		{"5.10.118--3.ph4", `release number: "-3" is not a number`},
		{"5.10.118-3.ph04", "leading zero"},
		{"5.10.118-3.ph0", ".ph0 does not exist"},
		{"5.10.118-3.ph4-", `unknown flavor ""`},
		{"5.10.118-3.ph4-ESX", `unexpected character 'E'`},
		{"5.10.118-3.ph4-esxi", `unknown flavor "esxi"`},
		{"5.10.118-3.ph4-rt-rt", `unknown flavor "rt-rt"`},
		{"5.10.118-3.ph4 ", `unexpected character ' '`},
		{" 5.10.118-3.ph4", `unexpected character ' '`},
		{"5.10.118-3.ph4\n", `unexpected character '\n'`},
		{"5.10.118-rt67-3.ph4", "appears only in rt kernels"},
		{"5.10.118-rt67-3.ph4-aws", "appears only in rt kernels"},
		{"5.10.118-rt-3.ph4-rt", "rt level: empty number"},
		{"5.10.118-rt67.ph4-rt", `must be followed by "-"`},
		{"5.10.118-3.fips.ph4", `unexpected ".fips"`},
		{"5.10.118-3.kat.acvp.ph4", `unexpected ".kat.acvp"`},
		{"5.10.118-3.ph4.x86_64", "unexpected character '_'"},
		{"5.10.118-3.ph4.1", `"4.1" is not a number`},
		{"5.10.118-1234567890.ph4", "too long"},
		{"5.10.118-" + strings.Repeat("1", 9) + "." + strings.Repeat("a", 60) + ".ph4", "bytes long"},
		{"-3.ph4", `kernel version "": want three numbers`},
		{"ph4", "no Photon dist tag"},
		{"5.10.118-rt0-3.ph4-rt", "rt level rt0 does not exist"},
		{"5.10.118-3..ph4", "empty field between release number and dist tag"},
	}
	require.GreaterOrEqual(t, len(cases), 20)
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			_, err := ParseKernel(c.in)
			require.Error(t, err)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, c.in, pe.Input)
			assert.Contains(t, err.Error(), c.reason)
			assert.Contains(t, err.Error(), "not a Photon kernel release")
		})
	}
}

func TestKernelNames(t *testing.T) {
	cases := []struct {
		uname, pkg, local, srpm, debuginfo, config string
	}{
		{"5.10.118-rt67-3.ph4-rt", "linux-rt", "-3.ph4-rt", "linux-rt-5.10.118-3.ph4.src.rpm", "linux-rt-debuginfo-5.10.118-3.ph4.x86_64.rpm", "config-rt"},
		{"6.1.138-2.ph5", "linux", "-2.ph5", "linux-6.1.138-2.ph5.src.rpm", "linux-debuginfo-6.1.138-2.ph5.x86_64.rpm", "config_x86_64"},
		{"4.19.325-1.ph3", "linux", "-1.ph3", "linux-4.19.325-1.ph3.src.rpm", "linux-debuginfo-4.19.325-1.ph3.x86_64.rpm", "config"},
		{"4.19.325-1.ph3-aws", "linux-aws", "-1.ph3-aws", "linux-aws-4.19.325-1.ph3.src.rpm", "linux-aws-debuginfo-4.19.325-1.ph3.x86_64.rpm", "config-aws"},
		{"6.1.138-1.ph5-esx", "linux-esx", "-1.ph5-esx", "linux-esx-6.1.138-1.ph5.src.rpm", "linux-esx-debuginfo-6.1.138-1.ph5.x86_64.rpm", "config-esx_x86_64"},
		{"5.10.118-1.kat.ph4", "linux", "-1.kat.ph4", "linux-5.10.118-1.kat.ph4.src.rpm", "linux-debuginfo-5.10.118-1.kat.ph4.x86_64.rpm", "config_x86_64"},
	}
	for _, c := range cases {
		t.Run(c.uname, func(t *testing.T) {
			k := MustParseKernel(c.uname)
			assert.Equal(t, c.pkg, k.Package())
			assert.Equal(t, c.local, k.LocalVersion())
			assert.Equal(t, c.srpm, k.SourceRPM())
			assert.Equal(t, c.debuginfo, k.DebuginfoRPM())
			assert.Equal(t, "/usr/lib/debug/lib/modules/"+c.uname+"/vmlinux-"+c.uname, k.VmlinuxPath())
			cfg, err := k.ConfigFile()
			require.NoError(t, err)
			assert.Equal(t, c.config, cfg)
		})
	}
	_, err := MustParseKernel("6.12.30-1.ph6").ConfigFile()
	assert.ErrorIs(t, err, ErrUnknownRelease)
}

func TestCompareOrdersAsRPM(t *testing.T) {
	// Oldest first, as rpm -q --last would rank package upgrades.
	ordered := []string{
		"4.19.247-2.ph3",
		"4.19.247-10.ph3",
		"4.19.325-1.ph3",
		"5.10.9-1.ph4",
		"5.10.118-1.acvp.ph4",
		"5.10.118-1.kat.ph4",
		"5.10.118-1.ph4",
		"5.10.118-2.ph4",
		"5.10.118-10.ph4",
		"5.10.118-10.ph5",
		"6.1.9-1.ph5",
		"6.1.10-11.ph5",
		"6.1.118-7.ph5",
	}
	ks := make([]Kernel, len(ordered))
	for i, s := range ordered {
		ks[i] = MustParseKernel(s)
	}
	shuffled := slices.Clone(ks)
	slices.Reverse(shuffled)
	slices.SortFunc(shuffled, Kernel.Compare)
	for i := range ks {
		assert.Equal(t, ordered[i], shuffled[i].String())
	}
	for i := range ks {
		assert.Zero(t, ks[i].Compare(ks[i]))
		for j := i + 1; j < len(ks); j++ {
			assert.Equal(t, -1, ks[i].Compare(ks[j]), "%s < %s", ks[i], ks[j])
			assert.Equal(t, 1, ks[j].Compare(ks[i]), "%s > %s", ks[j], ks[i])
		}
	}
	// Same version and release, different flavors: a total, stable order.
	a, b := MustParseKernel("6.1.138-1.ph5"), MustParseKernel("6.1.138-1.ph5-rt")
	assert.Equal(t, -a.Compare(b), b.Compare(a))
	assert.NotZero(t, a.Compare(b))
}

func TestRPMVerCmp(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "2.0", -1}, {"2.0.1", "2.0", 1}, {"1.010", "1.9", 1},
		{"1.05", "1.5", 0}, {"1a", "1b", -1}, {"1.0", "1.a", 1}, {"2.ph4", "10.ph4", -1},
		{"1.kat.ph4", "1.ph4", -1}, {"1.ph4", "1.ph5", -1}, {"a", "", 1}, {"", "", 0},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, rpmvercmp(c.a, c.b), "%q vs %q", c.a, c.b)
		assert.Equal(t, -c.want, rpmvercmp(c.b, c.a), "%q vs %q", c.b, c.a)
	}
}

func TestLivepatchableThresholds(t *testing.T) {
	// Just below and at each release's threshold, for each livepatch flavor.
	cases := []struct {
		below, at string
	}{
		{"4.19.247-1.ph3", "4.19.247-2.ph3"},
		{"4.19.246-9.ph3-aws", "4.19.247-2.ph3-aws"},
		{"4.19.247-rt108-1.ph3-rt", "4.19.247-rt108-2.ph3-rt"},
		{"5.10.118-1.ph4", "5.10.118-2.ph4"},
		{"5.10.117-20.ph4-aws", "5.10.118-2.ph4-aws"},
		{"5.10.118-rt67-1.ph4-rt", "5.10.118-rt67-2.ph4-rt"},
		{"5.10.78-6.ph5", "5.10.78-7.ph5"},
		{"5.10.78-5.ph5-rt", "5.10.78-6.ph5-rt"},
	}
	for _, c := range cases {
		assert.ErrorIs(t, MustParseKernel(c.below).Livepatchable(), ErrNotLivepatchable, c.below)
		assert.NoError(t, MustParseKernel(c.at).Livepatchable(), c.at)
	}
	// The latent-entropy range of Photon 5.0 generic, bounds included; rt unaffected.
	for s, ok := range map[string]bool{
		"6.1.83-4.ph5": true, "6.1.83-5.ph5": false, "6.1.118-6.ph5": false,
		"6.1.118-7.ph5": true, "6.1.100-1.ph5-rt": true,
	} {
		err := MustParseKernel(s).Livepatchable()
		if ok {
			assert.NoError(t, err, s)
		} else {
			assert.ErrorIs(t, err, ErrNotLivepatchable, s)
			assert.Contains(t, err.Error(), "6.1.118-7", s)
		}
	}
}

func TestLivepatchableArch(t *testing.T) {
	k := MustParseKernel("6.1.138-2.ph5")
	assert.NoError(t, k.LivepatchableOn("x86_64"))
	assert.NoError(t, k.LivepatchableOn("amd64"))
	for _, arch := range []string{"aarch64", "arm64"} {
		err := k.LivepatchableOn(arch)
		require.ErrorIs(t, err, ErrNotLivepatchable)
		assert.Contains(t, err.Error(), "aarch64 kernels are built without CONFIG_LIVEPATCH")
	}
	err := k.LivepatchableOn("riscv64")
	var se *SupportError
	require.True(t, errors.As(err, &se))
	assert.Equal(t, "riscv64", se.Arch)
	assert.Contains(t, err.Error(), `"riscv64" is not supported`)
}

func TestReleaseTable(t *testing.T) {
	rs := Releases()
	require.Len(t, rs, 3)
	for _, r := range rs {
		fs, err := Flavors(r.Release)
		require.NoError(t, err)
		seen := map[Flavor]bool{}
		for _, f := range fs {
			assert.False(t, seen[f.Flavor], "flavor listed twice in %s", r.Release)
			seen[f.Flavor] = true
			assert.NotEmpty(t, f.ConfigFile)
			if !f.Livepatch {
				assert.NotEmpty(t, f.Why, "a flavor without livepatch says why")
			}
		}
		assert.True(t, seen[Generic] && seen[RT] && seen[ESX])
	}
	// Releases returns a copy: callers cannot change the table.
	rs[0].Flavors[0].Livepatch = false
	assert.NoError(t, MustParseKernel("4.19.325-1.ph3").Livepatchable())
	assert.False(t, mustLookup(t, 3).AtomicReplace, "4.19 has no klp replace")
	assert.True(t, mustLookup(t, 5).AtomicReplace)
	assert.Equal(t, "5.0", Release(5).String())
	assert.Equal(t, ".ph5", Release(5).DistTag())
}

func mustLookup(t *testing.T, r Release) ReleaseInfo {
	info, err := Lookup(r)
	require.NoError(t, err)
	return info
}

func FuzzParseKernel(f *testing.F) {
	for _, w := range kernels {
		f.Add(w.uname)
	}
	f.Add("5.10.118-rt67-3.ph4")
	f.Add("1.2.3-4.acvp.kat.ph9-secure")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKernel(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Input != s {
				t.Fatalf("error %v is not a ParseError for %q", err, s)
			}
			return
		}
		if k.String() != s {
			t.Fatalf("round trip: %q parsed, printed %q", s, k.String())
		}
		_ = k.Livepatchable() // never panics
		_, _ = k.ConfigFile()
	})
}

func BenchmarkParseKernel(b *testing.B) {
	for b.Loop() {
		for _, w := range kernels[:10] {
			_, _ = ParseKernel(w.uname)
		}
	}
}

// TestParseRCKernels: the dev branch's release candidates carry "rcN." at
// the start of their RPM release (5.9.0-rc7.1.ph4-rt).
func TestParseRCKernels(t *testing.T) {
	cases := []struct {
		uname       string
		version     Version
		rc, build   int
		flavor      Flavor
		rpmRelease  string
		refusedWith string
	}{
		{"5.9.0-rc7.1.ph4-rt", V(5, 9, 0), 7, 1, RT, "rc7.1.ph4", "from 5.10.118-2 on"},
		{"5.9.0-rc4.1.ph3-esx", V(5, 9, 0), 4, 1, ESX, "rc4.1.ph3", "without ftrace"},
		{"5.10.118-rc1.3.ph4", V(5, 10, 118), 1, 3, Generic, "rc1.3.ph4", "from 5.10.118-2 on"},
	}
	for _, c := range cases {
		t.Run(c.uname, func(t *testing.T) {
			k, err := ParseKernel(c.uname)
			require.NoError(t, err)
			assert.Equal(t, c.version, k.Version)
			assert.Equal(t, c.rc, k.RC)
			assert.Equal(t, c.build, k.Build)
			assert.Equal(t, c.flavor, k.Flavor)
			assert.Equal(t, c.rpmRelease, k.RPMRelease())
			assert.Equal(t, c.uname, k.String(), "round trip")
			err = k.Livepatchable()
			require.ErrorIs(t, err, ErrNotLivepatchable)
			assert.Contains(t, err.Error(), c.refusedWith)
		})
	}
	// An rc comes before the builds of its version.
	assert.Negative(t, MustParseKernel("5.10.118-rc1.3.ph4").Compare(MustParseKernel("5.10.118-1.ph4")))
	for in, reason := range map[string]string{
		"5.9.0-rc7.ph4":    `must be followed by "."`,
		"5.9.0-rc.1.ph4":   "release candidate: empty number",
		"5.9.0-rc0.1.ph4":  "rc0 does not exist",
		"5.9.0-rc07.1.ph4": "leading zero",
	} {
		_, err := ParseKernel(in)
		var pe *ParseError
		require.ErrorAs(t, err, &pe, in)
		assert.Contains(t, pe.Reason, reason, in)
	}
}
