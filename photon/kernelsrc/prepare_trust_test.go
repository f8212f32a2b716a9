// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/beneath"
	"github.com/klpkit/klpkit/photon"
	"github.com/klpkit/klpkit/photon/specprep"
	"github.com/klpkit/klpkit/rpmpkg"
)

const hostSecret = "TOPSECRET-host-file-content"

// configFixture lays out parent/{secret, SOURCES, BUILD/linux-V} for
// installConfig, with the flavor's config file made by mkConfig.
type configFixture struct {
	k                      photon.Kernel
	spec                   *specprep.Spec
	secret, sources, tree  string
	configName, configPath string
}

func newConfigFixture(t *testing.T) *configFixture {
	t.Helper()
	parent := t.TempDir()
	f := &configFixture{k: photon.MustParseKernel("6.1.138-1.ph5-rt")}
	f.secret = filepath.Join(parent, "secret")
	require.NoError(t, os.WriteFile(f.secret, []byte(hostSecret+"\n"), 0o600))
	f.sources = filepath.Join(parent, "SOURCES")
	f.tree = filepath.Join(parent, "BUILD", "linux-6.1.138")
	require.NoError(t, os.MkdirAll(f.sources, 0o755))
	require.NoError(t, os.MkdirAll(f.tree, 0o755))
	name, err := f.k.ConfigFile()
	require.NoError(t, err)
	f.configName, f.configPath = name, filepath.Join(f.sources, name)
	f.spec = &specprep.Spec{File: "linux-rt.spec", Sources: map[int]string{1: name}}
	return f
}

func (f *configFixture) install() (string, error) {
	return installConfig(f.k, f.spec, f.sources, f.tree, func(specprep.PrepareStep, string) {})
}

// The config file is read without following links out of SOURCES, however
// they are chained, and the host file never reaches .config.
func TestInstallConfigDoesNotFollowLinksOut(t *testing.T) {
	cases := map[string]func(t *testing.T, f *configFixture){
		"absolute symlink": func(t *testing.T, f *configFixture) {
			require.NoError(t, os.Symlink(f.secret, f.configPath))
		},
		"relative symlink out": func(t *testing.T, f *configFixture) {
			require.NoError(t, os.Symlink("../secret", f.configPath))
		},
		"chain through a link to the root": func(t *testing.T, f *configFixture) {
			require.NoError(t, os.MkdirAll(filepath.Join(f.sources, "c"), 0o755))
			require.NoError(t, os.Symlink("..", filepath.Join(f.sources, "c", "d")))
			require.NoError(t, os.Symlink("c/d/../secret", f.configPath))
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			f := newConfigFixture(t)
			setup(t, f)
			_, err := f.install()
			require.Error(t, err)
			assert.True(t, errors.Is(err, beneath.ErrEscapes), "got %v", err)
			assert.NotContains(t, err.Error(), hostSecret)
			data, _ := os.ReadFile(filepath.Join(f.tree, ".config"))
			assert.NotContains(t, string(data), hostSecret)
		})
	}
}

// .config never gets wider permissions than the config it comes from.
func TestInstallConfigKeepsMode(t *testing.T) {
	for _, mode := range []fs.FileMode{0o600, 0o640, 0o644} {
		f := newConfigFixture(t)
		require.NoError(t, os.WriteFile(f.configPath, []byte("CONFIG_X=y\n"), mode))
		require.NoError(t, os.Chmod(f.configPath, mode))
		config, err := f.install()
		require.NoError(t, err)
		fi, err := os.Stat(config)
		require.NoError(t, err)
		assert.Zero(t, fi.Mode().Perm()&^mode, "source %v, .config %v", mode, fi.Mode().Perm())
	}
}

// A patch can create localversion files; one that links to a host file
// must not put the file's text into an error.
func TestInstallConfigLocalversionLinkOut(t *testing.T) {
	for name, target := range map[string]func(f *configFixture) string{
		"absolute": func(f *configFixture) string { return f.secret },
		"relative": func(f *configFixture) string { return "../../secret" },
	} {
		t.Run(name, func(t *testing.T) {
			f := newConfigFixture(t)
			require.NoError(t, os.WriteFile(f.configPath, []byte("CONFIG_X=y\n"), 0o644))
			require.NoError(t, os.Symlink(target(f), filepath.Join(f.tree, "localversion-x")))
			_, err := f.install()
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "TOPSECRET")
			assert.Contains(t, err.Error(), "localversion-x")
		})
	}
}

// A source RPM whose config is reached through a symlink chain out of
// SOURCES is refused at extraction, before anything reads it.
func TestPrepareRefusesConfigSymlinkChain(t *testing.T) {
	requirePatch(t)
	k := photon.MustParseKernel("6.1.138-1.ph5-rt")
	parent := t.TempDir()
	secret := filepath.Join(parent, "secret")
	require.NoError(t, os.WriteFile(secret, []byte(hostSecret+"\n"), 0o600))
	srpm := filepath.Join(parent, k.SourceRPM())
	raw := buildSRPM(t, k, repoOptions{})
	config, err := k.ConfigFile()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(srpm, withConfigChain(t, raw, config), 0o644))
	work := filepath.Join(parent, "work")
	_, err = Prepare(context.Background(), k, srpm, "", &PrepareOptions{Dir: work, SkipCompilerCheck: true})
	require.ErrorIs(t, err, rpmpkg.ErrUnsafePath)
	assert.NotContains(t, err.Error(), "TOPSECRET")
	assert.Empty(t, outputs(work))
}

// withConfigChain rewrites a source RPM so that its config file becomes
// "a/b/c/up/../../../secret" with "a/b/c/up -> ../../..": each reads as
// inside SOURCES, but the kernel resolves the pair to SOURCES/../../../secret,
// the host file beside the work directory.
func withConfigChain(t *testing.T, raw []byte, config string) []byte {
	t.Helper()
	dir := t.TempDir()
	_, err := rpmpkg.Extract(context.Background(), strings.NewReader(string(raw)), dir, nil)
	require.NoError(t, err)
	var files []rpmpkg.File
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Name() == config {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		files = append(files, rpmpkg.File{Name: "/" + e.Name(), Body: data, Mode: 0o644})
	}
	// rpmpkg.Write keeps source packages flat; a hostile one need not be,
	// and extraction does not look at the architecture.
	files = append(files,
		rpmpkg.File{Name: "/a", Mode: fs.ModeDir | 0o755},
		rpmpkg.File{Name: "/a/b", Mode: fs.ModeDir | 0o755},
		rpmpkg.File{Name: "/a/b/c", Mode: fs.ModeDir | 0o755},
		rpmpkg.File{Name: "/a/b/c/up", Mode: fs.ModeSymlink | 0o777, LinkTarget: "../../.."},
		rpmpkg.File{Name: "/" + config, Mode: fs.ModeSymlink | 0o777, LinkTarget: "a/b/c/up/../../../secret"},
	)
	info, err := rpmpkg.Read(strings.NewReader(string(raw)))
	require.NoError(t, err)
	var out strings.Builder
	require.NoError(t, rpmpkg.Write(&out, rpmpkg.Spec{
		Name: info.Name, Version: info.Version, Release: info.Release, Arch: "noarch",
		Summary: "Kernel", License: "GPLv2", Files: files,
	}))
	return []byte(out.String())
}
