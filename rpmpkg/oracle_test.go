package rpmpkg

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cavaliergopher/rpm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// github.com/cavaliergopher/rpm is the oracle for this package's header
// decoder: it stays in tests only, because it imports the deprecated
// golang.org/x/crypto/openpgp. oracleCompare reads a package with both and
// fails on any difference in any tag of either header, or in the Info built
// from them. buildBytes and writeBytes call it on every package the tests
// write through them.
func oracleCompare(t testing.TB, name string, raw []byte) {
	t.Helper()
	p, err := rpm.Read(bytes.NewReader(raw))
	require.NoError(t, err, "%s: cavaliergopher/rpm cannot read it", name)
	h, err := readHeaders(bytes.NewReader(raw))
	require.NoError(t, err, "%s", name)
	compareTags(t, name+": signature header", p.Signature.Tags, h.sigTags)
	compareTags(t, name+": header", p.Header.Tags, h.tags)

	got, err := newInfo(h)
	require.NoError(t, err, "%s", name)
	want := oracleInfo(t, name, p)
	got.Digests = Digests{}
	assert.Equal(t, want, got, "%s: Info", name)
}

func compareTags(t testing.TB, what string, want map[int]*rpm.Tag, got *header) {
	t.Helper()
	assert.Equal(t, sortedKeys(want), sortedKeys(got.tags), "%s: tag set", what)
	for id, w := range want {
		g := got.tags[id]
		if g == nil {
			continue // reported with the tag set
		}
		assert.Equal(t, int(w.Type), g.typ, "%s: tag %d type", what, id)
		switch v := w.Value.(type) {
		case []byte:
			assert.Equal(t, v, g.bytes, "%s: tag %d", what, id)
			assert.Nil(t, g.ints, "%s: tag %d", what, id)
			assert.Nil(t, g.strs, "%s: tag %d", what, id)
		case []int64:
			assert.Equal(t, v, g.ints, "%s: tag %d", what, id)
			assert.Nil(t, g.bytes, "%s: tag %d", what, id)
			assert.Nil(t, g.strs, "%s: tag %d", what, id)
		case []string:
			assert.Equal(t, v, g.strs, "%s: tag %d", what, id)
			assert.Nil(t, g.bytes, "%s: tag %d", what, id)
			assert.Nil(t, g.ints, "%s: tag %d", what, id)
		case nil:
			assert.True(t, g.bytes == nil && g.ints == nil && g.strs == nil, "%s: tag %d is NULL", what, id)
		default:
			t.Errorf("%s: tag %d: oracle value of type %T", what, id, v)
		}
	}
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// oracleInfo builds Info from cavaliergopher's accessors, as this package
// did before it had its own decoder. Multi-language I18N strings are the
// one intended difference: the oracle joins every language, Info keeps the
// first (the C locale, what rpm -qi shows), so the test packages must hold
// one language only, which the check below makes sure of.
func oracleInfo(t testing.TB, name string, p *rpm.Package) *Info {
	t.Helper()
	for _, id := range []int{tagSummary, tagDescription, tagGroup} {
		require.LessOrEqual(t, len(p.Header.GetTag(id).StringSlice()), 1, "%s: tag %d has several languages", name, id)
	}
	hdr := &p.Header
	info := &Info{
		Name: p.Name(), Version: p.Version(), Release: p.Release(), Epoch: p.Epoch(),
		Arch: p.Architecture(), OS: p.OperatingSystem(),
		Source: hdr.GetTag(tagSourceRPM) == nil, SourceRPM: p.SourceRPM(),
		Summary: p.Summary(), Description: p.Description(),
		License: p.License(), Vendor: p.Vendor(), URL: p.URL(), Packager: p.Packager(),
		Distribution: p.Distribution(), BuildHost: p.BuildHost(),
		PayloadFormat: p.PayloadFormat(), PayloadCompressor: p.PayloadCompression(),
		Scripts: Scriptlets{
			PreTrans: hdr.GetTag(tagPreTrans).String(), Pre: p.PreInstallScript(),
			Post: p.PostInstallScript(), PreUn: p.PreUninstallScript(),
			PostUn: p.PostUninstallScript(), PostTrans: hdr.GetTag(tagPostTrans).String(),
		},
		Signed: p.Signature.GetTag(sigTagRSA) != nil || p.Signature.GetTag(sigTagPGP) != nil ||
			p.Signature.GetTag(sigTagDSA) != nil || p.Signature.GetTag(sigTagGPG) != nil,
		Requires: oracleDeps(p.Requires()), Provides: oracleDeps(p.Provides()),
		Conflicts: oracleDeps(p.Conflicts()), Obsoletes: oracleDeps(p.Obsoletes()),
	}
	if g := p.Groups(); len(g) > 0 {
		info.Group = g[0]
	}
	if bt := hdr.GetTag(tagBuildTime); bt != nil {
		info.BuildTime = time.Unix(bt.Int64(), 0).UTC()
	}
	for _, f := range p.Files() {
		info.Files = append(info.Files, FileInfo{
			Name: f.Name(), Mode: f.Mode(), Size: f.Size(), Owner: f.Owner(), Group: f.Group(),
			MTime: f.ModTime().UTC(), Digest: f.Digest(), LinkTarget: f.Linkname(), Flags: FileFlag(f.Flags()),
		})
	}
	sort.Slice(info.Files, func(i, j int) bool { return info.Files[i].Name < info.Files[j].Name })
	return info
}

func oracleDeps(deps []rpm.Dependency) []string {
	var out []string
	for _, d := range deps {
		s := d.Name()
		var op string
		switch d.Flags() & (rpm.DepFlagLesser | rpm.DepFlagGreater | rpm.DepFlagEqual) {
		case rpm.DepFlagLesser:
			op = "<"
		case rpm.DepFlagLesserOrEqual:
			op = "<="
		case rpm.DepFlagEqual:
			op = "="
		case rpm.DepFlagGreaterOrEqual:
			op = ">="
		case rpm.DepFlagGreater:
			op = ">"
		}
		if op != "" {
			v := d.Version()
			if d.Epoch() > 0 {
				v = fmt.Sprintf("%d:%s", d.Epoch(), v)
			}
			if d.Release() != "" {
				v += "-" + d.Release()
			}
			s += " " + op + " " + v
		}
		out = append(out, s)
	}
	return out
}

// TestOracleFixtures compares both readers on every RPM under testdata.
func TestOracleFixtures(t *testing.T) {
	var files []string
	require.NoError(t, filepath.WalkDir("../testdata", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".rpm") {
			files = append(files, path)
		}
		return err
	}))
	require.NotEmpty(t, files)
	for _, file := range files {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		oracleCompare(t, file, raw)
	}
}

// TestOracleWrittenPackages covers the package shapes Write and Build make
// beyond the helpers' defaults: every compressor, signed, source, relations
// with epochs, every file kind.
func TestOracleWrittenPackages(t *testing.T) {
	priv, _ := testKey(t)
	signer, err := NewOpenPGPSigner(bytes.NewReader(priv), &SignerOptions{Time: testEpoch})
	require.NoError(t, err)
	for _, comp := range []string{"gzip", "xz", "lzma", "zstd"} {
		s := testSourceSpec()
		s.Compressor = comp
		writeBytes(t, s)
		s.Signer = signer
		writeBytes(t, s)
	}
	p := testPackage()
	p.Signer = signer
	p.Requires = []string{"kpatch >= 1:0.9.8-2", "coreutils", "bash = 0:5.2"}
	buildBytes(t, p)

	epoch := uint32(2)
	s := Spec{
		Name: "tool", Version: "1.0", Release: "1.ph5", Epoch: &epoch, Arch: "x86_64",
		Summary: "Tool", Description: "A tool.", License: "MIT", Vendor: "klpkit tests", Group: "System",
		URL: "https://klpkit.invalid", Packager: "tests", Distribution: "Photon", BuildHost: "oracle",
		BuildTime: testEpoch, Compressor: "xz",
		Files: []File{
			{Name: "/usr/bin/tool", Body: []byte("#!/bin/sh\n"), Mode: 0o755},
			{Name: "/usr/bin/tool-link", LinkTarget: "tool", Mode: fs.ModeSymlink | 0o777},
			{Name: "/var/lib/tool", Mode: fs.ModeDir | 0o750, Owner: "nobody", Group: "nogroup"},
			{Name: "/etc/tool.conf", Body: []byte("x=1\n"), Mode: 0o600, Flags: FlagConfig | FlagNoReplace},
		},
		Scripts:   Scriptlets{Pre: "true", Post: "echo post", PreUn: "true", PostUn: "true", PreTrans: "true", PostTrans: "true"},
		Requires:  []string{"bash", "kpatch >= 1:0.9.8-2"},
		Provides:  []string{"tool = 2:1.0-1"},
		Conflicts: []string{"oldtool < 1"},
		Obsoletes: []string{"oldtool <= 0.9"},
	}
	writeBytes(t, s)
}

// FuzzHeaderOracle: whatever this package's decoder accepts, the oracle
// must read the same way, tag for tag.
func FuzzHeaderOracle(f *testing.F) {
	addPackageSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := readHeaders(bytes.NewReader(data))
		if err != nil {
			return
		}
		p, err := func() (p *rpm.Package, err error) {
			defer func() {
				if v := recover(); v != nil {
					err = fmt.Errorf("panic: %v", v)
				}
			}()
			return rpm.Read(bytes.NewReader(data))
		}()
		if err != nil {
			// The oracle is stricter in one place: it refuses an entry
			// whose offset is the store's end, which a NULL entry may have.
			t.Skipf("oracle refuses what the decoder accepts: %v", err)
		}
		compareTags(t, "signature header", p.Signature.Tags, h.sigTags)
		compareTags(t, "header", p.Header.Tags, h.tags)
	})
}
