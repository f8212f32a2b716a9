// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpkit/klpkit/photon"
	"github.com/stretchr/testify/require"
)

// fakeMake stands in for kbuild: allnoconfig writes a one-line .config,
// all "builds" (and counts builds per directory; like kbuild it counts in
// .version and makes a signing key when there is none; it fails when
// $FAKE_MAKE_FAIL is set and in the .config), kernelrelease prints the
// version and CONFIG_LOCALVERSION.
const fakeMake = `#!/bin/sh
out=.
target=
for a in "$@"; do
	case $a in
	O=*) out=${a#O=} ;;
	-*|*=*) ;;
	*) target=$a ;;
	esac
done
case $target in
allnoconfig) echo "# fake allnoconfig" > "$out/.config" ;;
olddefconfig) ;;
all)
	if [ -n "$FAKE_MAKE_FAIL" ] && grep -q "$FAKE_MAKE_FAIL" "$out/.config"; then echo "fake make: failing" >&2; exit 2; fi
	echo built >> "$out/builds"
	echo $(($(cat "$out/.version" 2>/dev/null || echo 0) + 1)) > "$out/.version"
	if [ ! -f "$out/certs/signing_key.pem" ]; then
		mkdir -p "$out/certs"
		od -An -N16 -tx1 /dev/urandom > "$out/certs/signing_key.pem"
	fi
	mkdir -p "$out/arch/x86/boot"
	echo vmlinux > "$out/vmlinux"
	echo bzImage > "$out/arch/x86/boot/bzImage"
	echo symvers > "$out/Module.symvers" ;;
kernelrelease) echo "6.1.192$(sed -n 's/^CONFIG_LOCALVERSION="\(.*\)"$/\1/p' "$out/.config")" ;;
*) echo "fake make: unexpected target $target" >&2; exit 2 ;;
esac
`

// fakeMergeConfig appends the fragments to the base config, as the real
// merge_config.sh -m does in effect.
const fakeMergeConfig = `#!/bin/sh
shift 3
base=$1
shift
cat "$@" >> "$base"
`

// fakePrepareEnv makes a Debian lab manifest, a fake Debian tarball (with
// a merge_config.sh) and fake make, and returns a Config for Prepare.
func fakePrepareEnv(t *testing.T) (Config, *bytes.Buffer) {
	t.Helper()
	requireTools(t, "xz", "tar", "patch", "bash")
	dir := t.TempDir()
	labDir := filepath.Join(dir, "lab")
	kdir := filepath.Join(labDir, "6.1.0-56-amd64")
	require.NoError(t, os.MkdirAll(filepath.Join(kdir, "headers"), 0o755))
	paths := map[string]string{}
	for _, f := range []string{"vmlinuz", "config", "vmlinux", "System.map"} {
		paths[f] = filepath.Join(kdir, f)
		require.NoError(t, os.WriteFile(paths[f], []byte(f), 0o644))
	}
	manifest, err := json.Marshal(map[string]string{"kernel_release": "6.1.0-56-amd64", "version": "6.1.192-2",
		"vmlinuz": paths["vmlinuz"], "config": paths["config"], "vmlinux": paths["vmlinux"], "system_map": paths["System.map"],
		"headers_dir": filepath.Join(kdir, "headers")})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(labDir, "lab.json"), manifest, 0o644))

	deb := filepath.Join(dir, "linux-source-6.1.tar.xz")
	entries := append(fakeDebianTree(),
		fakeEntry{Name: "linux-source-6.1/scripts/kconfig/", Type: '5', Mode: 0o755},
		fakeEntry{Name: "linux-source-6.1/scripts/kconfig/merge_config.sh", Body: fakeMergeConfig, Mode: 0o755})
	writeTarXZ(t, deb, entries)
	mk := filepath.Join(dir, "make")
	require.NoError(t, os.WriteFile(mk, []byte(fakeMake), 0o755))
	var log bytes.Buffer
	return Config{LabDir: labDir, Assets: fakeAssets(t), DebianTarball: deb, Make: mk, Jobs: 1,
		Logger: slog.New(slog.NewTextHandler(&log, nil))}, &log
}

func builds(t *testing.T, buildDir string) int {
	data, err := os.ReadFile(filepath.Join(buildDir, "builds"))
	require.NoError(t, err)
	return strings.Count(string(data), "built")
}

// TestPrepareCachesAndRedoes runs the whole Prepare on a fake tree with a
// fake make: the first run does every step, the second nothing, a changed
// patch redoes the tree and everything after it (not the tarball), and a
// lost marker redoes its step and the ones after it only.
func TestPrepareCachesAndRedoes(t *testing.T) {
	cfg, log := fakePrepareEnv(t)
	ctx := t.Context()

	l, err := Prepare(ctx, cfg)
	require.NoError(t, err)
	require.Equal(t, "6.1.192-1.ph5", l.KernelRelease)
	aws, err := l.Flavor(photon.AWS)
	require.NoError(t, err)
	require.Equal(t, "6.1.192-1.ph5-aws", aws.KernelRelease)
	require.Equal(t, 1, builds(t, l.BuildDir))
	require.Equal(t, 2, builds(t, aws.BuildDir), "aws is built on a copy of generic's objects")
	genericConfig, err := os.ReadFile(l.Config)
	require.NoError(t, err)
	cert, err := os.ReadFile(l.SigningCert)
	require.NoError(t, err)
	require.Contains(t, string(genericConfig), `CONFIG_LOCALVERSION="-1.ph5"`+"\n", "generic's build directory is generic's again")
	require.NoDirExists(t, l.BuildDir+keepSuffix)
	for _, dir := range []string{l.BuildDir, aws.BuildDir} {
		requireFile(t, filepath.Join(dir, "certs", TrustedCertSource), cert, "both flavors trust the lab key")
		requireFile(t, filepath.Join(dir, ".version"), []byte("1\n"), "uname -v's #N counts the flavor's own builds")
	}
	genericKey, err := os.ReadFile(filepath.Join(l.BuildDir, "certs/signing_key.pem"))
	require.NoError(t, err)
	awsKey, err := os.ReadFile(filepath.Join(aws.BuildDir, "certs/signing_key.pem"))
	require.NoError(t, err)
	require.NotEqual(t, string(genericKey), string(awsKey), "kbuild makes aws a module signing key of its own")
	config, err := os.ReadFile(aws.Config)
	require.NoError(t, err)
	require.Contains(t, string(config), `CONFIG_LOCALVERSION="-1.ph5-aws"`)
	require.Contains(t, string(config), `CONFIG_DEFAULT_HOSTNAME="photon-aws"`, "the aws fragment is merged")
	opened, err := Open(cfg.LabDir)
	require.NoError(t, err)
	require.Equal(t, l.SourceRPM, opened.SourceRPM)

	log.Reset()
	_, err = Prepare(ctx, cfg)
	require.NoError(t, err)
	require.Contains(t, log.String(), "nothing to do")
	require.Equal(t, 1, builds(t, l.BuildDir))

	// The Debian tarball is only needed by the tarball step.
	require.NoError(t, os.Remove(cfg.DebianTarball))
	newPatch := filepath.Join(cfg.Assets, patchesDirName, "0003-add-notes.patch")
	require.NoError(t, os.WriteFile(newPatch, []byte("--- /dev/null\n+++ b/NOTES\n@@ -0,0 +1 @@\n+notes\n"), 0o644))
	l, err = Prepare(ctx, cfg)
	require.NoError(t, err)
	requireFile(t, filepath.Join(l.BuildDir, ".version"), []byte("2\n"), "generic's second build")
	requireFile(t, filepath.Join(aws.BuildDir, ".version"), []byte("1\n"), "aws starts from generic's objects, not its counter")
	requireFile(t, filepath.Join(l.BuildDir, "certs/signing_key.pem"), genericKey, "generic keeps its kbuild key")
	require.FileExists(t, filepath.Join(l.Tree, "NOTES"))
	require.Equal(t, 2, builds(t, l.BuildDir))
	require.Equal(t, 3, builds(t, aws.BuildDir))
	names := map[string]bool{}
	for _, f := range inspect(t, aws.SourceRPM).Files {
		names[f.Name] = true
	}
	require.True(t, names["0003-add-notes.patch"], "the repository follows the assets")

	require.NoError(t, os.Remove(filepath.Join(l.Dir, ".done-build-aws")))
	_, err = Prepare(ctx, cfg)
	require.NoError(t, err)
	require.Equal(t, 2, builds(t, l.BuildDir), "generic is still done")
	require.Equal(t, 3, builds(t, aws.BuildDir), "aws again from generic's objects")

	// An aws build cut short between its copy and its hand-over: the next
	// Prepare puts generic's directory back first.
	require.NoError(t, os.Rename(l.BuildDir, l.BuildDir+keepSuffix))
	require.NoError(t, os.MkdirAll(l.BuildDir, 0o755))
	require.NoError(t, os.WriteFile(l.Config, []byte("half-built aws\n"), 0o644))
	_, err = Prepare(ctx, cfg)
	require.NoError(t, err)
	requireFile(t, l.Config, genericConfig, "generic's build is restored")
	require.NoDirExists(t, l.BuildDir+keepSuffix)
	require.Equal(t, 2, builds(t, l.BuildDir), "generic is still done")

	// A failed aws build gives generic its directory back at once.
	require.NoError(t, os.Remove(filepath.Join(l.Dir, ".done-build-aws")))
	t.Setenv("FAKE_MAKE_FAIL", "photon-aws")
	_, err = Prepare(ctx, cfg)
	require.ErrorContains(t, err, "fake make")
	requireFile(t, l.Config, genericConfig, "generic's build is restored after the failure")
	require.NoDirExists(t, l.BuildDir+keepSuffix)
	require.Equal(t, 2, builds(t, l.BuildDir))
}

func TestPrepareNeedsTheDebianLab(t *testing.T) {
	_, err := Prepare(t.Context(), Config{LabDir: t.TempDir(), Assets: assetsDir})
	require.ErrorContains(t, err, "the Debian lab comes first")
	_, err = Prepare(t.Context(), Config{})
	require.ErrorContains(t, err, "required")
}

func TestPrepareRefusesAnUnlivepatchableFlavor(t *testing.T) {
	cfg, _ := fakePrepareEnv(t)
	cfg.Flavors = []photon.Flavor{photon.ESX}
	_, err := Prepare(t.Context(), cfg)
	require.ErrorIs(t, err, photon.ErrNotLivepatchable)
}
