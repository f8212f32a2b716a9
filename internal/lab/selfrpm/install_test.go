// SPDX-License-Identifier: Apache-2.0

package selfrpm

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/needtest"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/klpkit/klpkit/rpmpkg"
)

// scratchRoot is an empty rpm root with /bin/sh, where rpm (which chroots
// there for scriptlets, hence root) runs the packages' scriptlets against
// a database of its own, not the host's.
func scratchRoot(t *testing.T) string {
	t.Helper()
	needRPM(t)
	if os.Geteuid() != 0 {
		needtest.Missing(t, "needs root: rpm chroots into --root to run scriptlets")
	}
	root := t.TempDir()
	sh, err := filepath.EvalSymlinks("/bin/sh")
	require.NoError(t, err)
	out, err := exec.Command("ldd", sh).Output()
	require.NoError(t, err, "ldd %s", sh)
	for _, f := range append([]string{sh}, regexp.MustCompile(`/\S+`).FindAllString(string(out), -1)...) {
		copyInto(t, root, f, f)
	}
	copyInto(t, root, sh, "/bin/sh")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "tmp"), 0o1777))
	return root
}

func copyInto(t *testing.T, root, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(root, filepath.Dir(to)), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, to), b, 0o755))
}

// writeSpec writes s into dir under its file name.
func writeSpec(t *testing.T, dir string, s rpmpkg.Spec) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, rpmpkg.Write(&buf, s))
	file := filepath.Join(dir, s.FileName())
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o644))
	return file
}

// photonPackage stands in for Photon's kpatch or kpatch-utils package: the
// same name and the paths klpkit's package takes over.
func photonPackage(name, version string, files ...string) rpmpkg.Spec {
	s := rpmpkg.Spec{Name: name, Version: version, Release: "7.ph5", Arch: "x86_64", Summary: "Photon's " + name,
		License: "GPLv2", Vendor: "VMware, Inc.", BuildTime: testTime}
	for _, f := range files {
		s.Files = append(s.Files, rpmpkg.File{Name: f, Mode: 0o755, Body: []byte("#!/bin/bash\n# Photon's " + f + "\n")})
	}
	return s
}

// rpmIn runs rpm in root; it returns the combined output and whether rpm
// succeeded.
func rpmIn(t *testing.T, root string, args ...string) (string, bool) {
	t.Helper()
	out, err := exec.Command("rpm", append([]string{"--root", root}, args...)...).CombinedOutput()
	return string(out), err == nil
}

func mustRPMIn(t *testing.T, root string, args ...string) string {
	t.Helper()
	out, ok := rpmIn(t, root, args...)
	require.True(t, ok, "rpm %s:\n%s", strings.Join(args, " "), out)
	return out
}

// klpkit's kpatch replaces an installed Photon kpatch without breaking the
// livepatch packages that require it, satisfies both generations of their
// Requires, refuses a newer Photon kpatch beside it, and cannot be erased
// while a livepatch needs it. The livepatches' own scriptlets are left out
// (--noscripts): rpmpkg's tests run those; here the kpatch package's run.
func TestRPMToolReplacesPhotonKpatch(t *testing.T) {
	root := scratchRoot(t)
	// A systemctl that records its calls: what the scriptlets ask of systemd.
	require.NoError(t, os.WriteFile(filepath.Join(root, "usr/bin/systemctl"),
		[]byte("#!/bin/sh\necho \"systemctl $*\" >>/systemctl.log\n"), 0o755))
	systemctl := func() string {
		b, _ := os.ReadFile(filepath.Join(root, "systemctl.log"))
		return string(b)
	}
	dir := t.TempDir()
	o := testOptions()
	o.Dists = []string{"ph5"}
	files, err := WriteDir(dir, testInputs(t), o)
	require.NoError(t, err)
	ours, utils := files[0], files[2]

	mustRPMIn(t, root, "-i", writeSpec(t, dir, photonPackage("kpatch", "0.9.10", KpatchPath)))
	const kernel = "6.1.83-5.ph5"
	module := kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "livepatch_gen1", Vermagic: kernel + " SMP mod_unload modversions ", Livepatch: true})
	var gen1 bytes.Buffer
	require.NoError(t, rpmpkg.Build(&gen1, rpmpkg.Package{Name: "livepatch-gen1", Kernel: kernel, Module: module, BuildTime: testTime}))
	gen1File := filepath.Join(dir, "livepatch-gen1.rpm")
	require.NoError(t, os.WriteFile(gen1File, gen1.Bytes(), 0o644))
	mustRPMIn(t, root, "-i", "--noscripts", gen1File)

	// The upgrade takes Photon's kpatch away (Obsoletes) and keeps the
	// livepatch's Requires: kpatch met (rpm checks it: no --nodeps).
	mustRPMIn(t, root, "-U", ours)
	out, ok := rpmIn(t, root, "-q", "kpatch")
	assert.False(t, ok, "Photon's kpatch is obsoleted:\n%s", out)
	assert.Equal(t, KpatchName+"\n", mustRPMIn(t, root, "-q", "--whatprovides", "kpatch", "--qf", "%{NAME}\n"))
	body, err := os.ReadFile(filepath.Join(root, KpatchPath))
	require.NoError(t, err)
	assert.Equal(t, testInputs(t).Kpatch, body, "klpkit's kpatch owns "+KpatchPath)
	assert.Empty(t, mustRPMIn(t, root, "-V", KpatchName), "rpm -V is clean")
	assert.Equal(t, "systemctl preset kpatch.service\n", systemctl(), "first install enables the unit as the preset says")

	// An upgrade of klpkit's kpatch leaves the unit's state alone.
	o.Release += ".1"
	newer, err := WriteDir(t.TempDir(), testInputs(t), o)
	require.NoError(t, err)
	mustRPMIn(t, root, "-U", newer[0])
	assert.Equal(t, "systemctl preset kpatch.service\n", systemctl(), "upgrade: no preset, no disable")
	assert.Equal(t, "livepatch-gen1\n"+KpatchName+"\n", mustRPMIn(t, root, "-qf", "--qf", "%{NAME}\n", rpmpkg.ModuleDir),
		"the store is owned by kpatch, not only by the livepatches")

	// Gen-2 livepatch packages ask for kpatch >= 0.9.10-1.
	gen2 := rpmpkg.Spec{Name: "livepatch-gen2", Version: "1", Release: "1.ph5", Arch: "x86_64", Summary: "gen-2",
		License: "GPLv2", BuildTime: testTime, Requires: []string{"kpatch >= 0.9.10-1"},
		Files: []rpmpkg.File{{Name: "/lib/modules/" + kernel + "/extra/livepatches/livepatch-gen2.ko", Mode: 0o744, Body: module}}}
	mustRPMIn(t, root, "-i", "--noscripts", writeSpec(t, dir, gen2))

	// A newer Photon kpatch would own the same paths: refused.
	out, ok = rpmIn(t, root, "-i", writeSpec(t, dir, photonPackage("kpatch", "0.9.12", KpatchPath)))
	assert.False(t, ok, "a newer Photon kpatch installs beside klpkit's:\n%s", out)
	assert.Contains(t, out, "kpatch > "+KpatchCompat+" conflicts with (installed) "+KpatchName)

	// Erasing kpatch would strand the livepatches.
	out, ok = rpmIn(t, root, "-e", KpatchName)
	assert.False(t, ok, "kpatch erased under its livepatches:\n%s", out)
	assert.Contains(t, out, "kpatch is needed by (installed) livepatch-gen1")
	assert.Contains(t, out, "kpatch >= 0.9.10-1 is needed by (installed) livepatch-gen2")

	// kpatch-utils takes Photon's auto_livepatch.sh over as a link.
	mustRPMIn(t, root, "-i", writeSpec(t, dir, photonPackage("kpatch-utils", "0.9.10", AutoShPath)))
	mustRPMIn(t, root, "-U", "--nodeps", utils) // gcc and friends are not in the scratch root
	out, ok = rpmIn(t, root, "-q", "kpatch-utils")
	assert.False(t, ok, "Photon's kpatch-utils is obsoleted:\n%s", out)
	link, err := os.Readlink(filepath.Join(root, AutoShPath))
	require.NoError(t, err)
	assert.Equal(t, "auto_livepatch", link)

	mustRPMIn(t, root, "-e", "--noscripts", "livepatch-gen1", "livepatch-gen2")
	mustRPMIn(t, root, "-e", KpatchName)
	assert.Equal(t, "systemctl preset kpatch.service\nsystemctl --no-reload disable kpatch.service\n", systemctl(),
		"erase disables the unit; no daemon-reload without a running systemd")
	assert.NoFileExists(t, filepath.Join(root, KpatchPath))
	assert.NoFileExists(t, filepath.Join(root, UnitPath))
}
