// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/rpmpkg/internal/rpmoracle"
)

// github.com/cavaliergopher/rpm is the oracle for this package's header
// decoder. It imports the deprecated golang.org/x/crypto/openpgp, so it
// lives in the tests of rpmpkg/internal/rpmoracle, which nothing imports: were it
// a test dependency here, `go mod tidy` in every program importing rpmpkg
// would add that module. oracleCompare runs that package's test binary on
// a package and fails on any difference in any tag of either header, or in
// the Info built from them. buildBytes and writeBytes call it on every
// package the tests write through them.
func oracleCompare(t testing.TB, name string, raw []byte) {
	t.Helper()
	want := runOracle(t, raw)
	require.Empty(t, want.Error, "%s: cavaliergopher/rpm cannot read it", name)
	h, err := readHeaders(bytes.NewReader(raw))
	require.NoError(t, err, "%s", name)
	assert.Equal(t, want.Signature, oracleTags(h.sigTags), "%s: signature header", name)
	assert.Equal(t, want.Header, oracleTags(h.tags), "%s: header", name)

	info, err := newInfo(h)
	require.NoError(t, err, "%s", name)
	got, err := json.Marshal(info)
	require.NoError(t, err)
	assert.JSONEq(t, string(want.Info), string(got), "%s: Info", name)
}

// oracleTags is h in the oracle's shape.
func oracleTags(h *header) map[int]rpmoracle.Tag {
	out := make(map[int]rpmoracle.Tag, len(h.tags))
	for id, t := range h.tags {
		out[id] = rpmoracle.Tag{Type: t.typ, Strings: t.strs, Ints: t.ints, Bytes: t.bytes}
	}
	return out
}

// oracleDir holds the oracle binary once built; TestMain removes it.
var oracleDir string

// oracleBinary builds rpmpkg/internal/rpmoracle's test binary once per run.
var oracleBinary = sync.OnceValues(func() (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the oracle is built with the go command: %w", err)
	}
	oracleDir, err = os.MkdirTemp("", "rpmoracle-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(oracleDir, "rpmoracle.test")
	out, err := exec.Command(goTool, "test", "-c", "-o", bin, "./internal/rpmoracle").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("build the oracle: %w\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	code := m.Run()
	if oracleDir != "" {
		os.RemoveAll(oracleDir)
	}
	os.Exit(code)
}

func runOracle(t testing.TB, raw []byte) rpmoracle.Dump {
	t.Helper()
	bin, err := oracleBinary()
	require.NoError(t, err)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), rpmoracle.DumpEnv+"=1")
	cmd.Stdin = bytes.NewReader(raw)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "oracle: %s", stderr.String())
	var d rpmoracle.Dump
	require.NoError(t, json.Unmarshal(out, &d), "oracle output")
	return d
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
// reads the same way, tag for tag (slow: one oracle process per input).
func FuzzHeaderOracle(f *testing.F) {
	addPackageSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := readHeaders(bytes.NewReader(data))
		if err != nil {
			return
		}
		want := runOracle(t, data)
		if want.Error != "" {
			// The oracle is stricter in one place: it refuses an entry
			// whose offset is the store's end, which a NULL entry may have.
			t.Skipf("oracle refuses what the decoder accepts: %s", want.Error)
		}
		assert.Equal(t, want.Signature, oracleTags(h.sigTags), "signature header")
		assert.Equal(t, want.Header, oracleTags(h.tags), "header")
	})
}
