// SPDX-License-Identifier: Apache-2.0

package rpmpkg

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/needtest"
)

// needTool skips when a tool is missing, except in CI (CI=true), where
// .ci/packages.txt installs it and a skip would hide a failure.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		pkg := map[string]string{"sh": "dash", "ldd": "libc-bin"}[name]
		if pkg == "" {
			pkg = "rpm"
		}
		needtest.Missing(t, "needs %s (Debian package %s)", name, pkg)
	}
}

// runTool runs a tool that must succeed and returns its stdout (Debian's
// rpm warns on stderr that it is not the system package manager).
func runTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "%s %s:\n%s%s", name, strings.Join(args, " "), &stdout, &stderr)
	return stdout.String()
}

// writePackage builds p into a temp dir under its conventional file name.
func writePackage(t *testing.T, p Package) string {
	t.Helper()
	name, err := p.FileName()
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(file, buildBytes(t, p), 0o644))
	return file
}

func TestRPMToolQuery(t *testing.T) {
	needTool(t, "rpm")
	p := testPackage()
	p.Description = "Fixes CVE-2024-1234 in the TCP stack.\nSecond line."
	file := writePackage(t, p)
	assert.Equal(t, "livepatch-cve-2024-1234-2-3.ph5.x86_64.rpm", filepath.Base(file))

	info := runTool(t, "rpm", "-qpi", file)
	for field, want := range map[string]string{
		"Name": "livepatch-cve-2024-1234", "Version": "2", "Release": "3.ph5", "Architecture": "x86_64",
		"Group": DefaultGroup, "License": DefaultLicense, "Vendor": DefaultVendor, "Summary": DefaultSummary,
		"Source RPM": "livepatch-cve-2024-1234-2-3.ph5.src.rpm", "Signature": "(none)",
	} {
		assert.Regexp(t, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(field)+`\s*: `+regexp.QuoteMeta(want)+`$`), info, field)
	}
	assert.Contains(t, info, "Fixes CVE-2024-1234 in the TCP stack.\nSecond line.")
	assert.Contains(t, info, "Build Date  : Tue Nov 14 22:13:20 2023")

	assert.Equal(t, "/var/opt/kpatch\n/var/opt/kpatch/modules\n/var/opt/kpatch/modules/livepatch-cve-2024-1234.ko\n",
		runTool(t, "rpm", "-qpl", file))
	dump := runTool(t, "rpm", "-qp", "--dump", file)
	assert.Contains(t, dump, fmt.Sprintf("/var/opt/kpatch/modules/livepatch-cve-2024-1234.ko %d 1700000000 ", len(p.Module)))
	assert.Contains(t, dump, " 0100644 root root 0 0 ")
	assert.Contains(t, dump, "/var/opt/kpatch/modules 4096 1700000000 ")

	scripts := runTool(t, "rpm", "-qp", "--scripts", file)
	spec, err := p.Spec()
	require.NoError(t, err)
	assert.Contains(t, scripts, "preinstall scriptlet (using /bin/sh):\n"+spec.Scripts.Pre)
	assert.Contains(t, scripts, "postinstall scriptlet (using /bin/sh):\n"+spec.Scripts.Post)
	assert.Contains(t, scripts, "preuninstall scriptlet (using /bin/sh):\n"+spec.Scripts.PreUn)
	assert.NotContains(t, scripts, "postuninstall")

	assert.Contains(t, runTool(t, "rpm", "-qp", "--requires", file), "kpatch\n")
}

func TestRPMToolDigests(t *testing.T) {
	needTool(t, "rpm")
	for _, comp := range []string{"gzip", "xz", "lzma", "zstd"} {
		p := testPackage()
		p.Compressor = comp
		file := writePackage(t, p)
		out := runTool(t, "rpm", "-Kv", file)
		assert.Contains(t, out, "Header SHA256 digest: OK", comp)
		assert.Contains(t, out, "Payload SHA256 digest: OK", comp)
		assert.Contains(t, runTool(t, "rpm", "-K", file), "digests OK", comp)
	}

	// A flipped payload byte must fail rpm -K too: the digests are real.
	file := writePackage(t, testPackage())
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	raw[len(raw)-5] ^= 0xff
	require.NoError(t, os.WriteFile(file, raw, 0o644))
	out, err := exec.Command("rpm", "-K", file).CombinedOutput()
	assert.Error(t, err, "%s", out)
}

func TestRPMToolSourcePackage(t *testing.T) {
	needTool(t, "rpm")
	s := testSourceSpec()
	file := filepath.Join(t.TempDir(), s.FileName())
	require.NoError(t, os.WriteFile(file, writeBytes(t, s), 0o644))
	assert.Contains(t, runTool(t, "rpm", "-K", file), "digests OK")
	info := runTool(t, "rpm", "-qpi", file)
	assert.Regexp(t, `(?m)^Source RPM  : \(none\)$`, info)
	assert.Equal(t, "1\n", runTool(t, "rpm", "-qp", "--qf", "%{SOURCEPACKAGE}\n", file))

	// rpm -i of a source package puts the spec in SPECS and the rest in
	// SOURCES: it recognised the package as source and the spec file.
	top := t.TempDir()
	runTool(t, "rpm", "-i", "--define", "_topdir "+top, "--dbpath", filepath.Join(top, "db"), file)
	assert.FileExists(t, filepath.Join(top, "SPECS", "linux.spec"))
	assert.FileExists(t, filepath.Join(top, "SOURCES", "linux-6.1.83.tar.xz"))
	assert.FileExists(t, filepath.Join(top, "SOURCES", "0001-fix.patch"))
}

func TestRPMToolInstallVerify(t *testing.T) {
	needTool(t, "rpm")
	file := writePackage(t, testPackage())
	root := t.TempDir()
	runTool(t, "rpm", "-i", "--root", root, "--nodeps", "--noscripts", file)

	ko := filepath.Join(root, "var/opt/kpatch/modules/livepatch-cve-2024-1234.ko")
	got, err := os.ReadFile(ko)
	require.NoError(t, err)
	assert.Equal(t, testPackage().Module, got)
	fi, err := os.Stat(ko)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())

	assert.Equal(t, "livepatch-cve-2024-1234-2-3.ph5.x86_64\n", runTool(t, "rpm", "-q", "--root", root, "livepatch-cve-2024-1234"))
	assert.Empty(t, runTool(t, "rpm", "-V", "--nodeps", "--root", root, "livepatch-cve-2024-1234"), "rpm -V is clean")
	assert.Equal(t, "livepatch-cve-2024-1234\n", runTool(t, "rpm", "-qf", "--root", root, "--qf", "%{NAME}\n", "/var/opt/kpatch/modules"),
		"the package owns its directories")

	runTool(t, "rpm", "-e", "--root", root, "--noscripts", "livepatch-cve-2024-1234")
	assert.NoFileExists(t, ko)
}

// chrootWithShell makes a root where rpm can run scriptlets: /bin/sh with
// its libraries, and the fake kpatch and uname.
func chrootWithShell(t *testing.T, running string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		needtest.Missing(t, "needs root: rpm chroots into --root to run scriptlets")
	}
	root := t.TempDir()
	sh, err := filepath.EvalSymlinks("/bin/sh")
	require.NoError(t, err)
	files := []string{sh}
	out := runTool(t, "ldd", sh)
	files = append(files, regexp.MustCompile(`/\S+`).FindAllString(out, -1)...)
	for _, f := range files {
		copyFile(t, f, filepath.Join(root, f), 0o755)
	}
	copyFile(t, sh, filepath.Join(root, "bin/sh"), 0o755)
	for _, tool := range []string{"kpatch", "uname"} {
		copyFile(t, filepath.Join(fixtureDir, "fakebin", tool), filepath.Join(root, "usr/bin", tool), 0o755)
	}
	require.NoError(t, os.MkdirAll(filepath.Join(root, "var/fake-kpatch"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "tmp"), 0o1777))
	require.NoError(t, os.WriteFile(filepath.Join(root, "fake-uname"), []byte(running+"\n"), 0o644))
	return root
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(to), 0o755))
	require.NoError(t, os.WriteFile(to, b, mode))
}

// TestRPMToolImageLifecycle lets rpm itself run the scriptlets, with its
// real $1 values and ordering, the way image builders do: rpm --root into a
// directory (rpm chroots there for scriptlets) whose fake uname says another
// kernel. Install, upgrade and erase install and uninstall the patch for
// the target kernel's boot and never try to load or unload it.
func TestRPMToolImageLifecycle(t *testing.T) {
	needTool(t, "rpm")
	needTool(t, "ldd")
	const target = "6.1.83-6.ph5"
	root := chrootWithShell(t, "6.1.83-5.ph5")
	state := func(f string) string {
		b, _ := os.ReadFile(filepath.Join(root, "var/fake-kpatch", f))
		return strings.TrimSpace(string(b))
	}
	noLoads := func() {
		t.Helper()
		assert.NotRegexp(t, `(?m)^kpatch (un)?load`, state("log"), "nothing is loaded or unloaded in an image")
	}
	pkg := func(version string) string {
		p := testPackage()
		p.Name, p.Version, p.Kernel = "lpfix", version, target
		p.Module = testModule("lpfix", target, "module-"+version)
		return writePackage(t, p)
	}

	v1 := pkg("1")
	out := runTool(t, "rpm", "-i", "--root", root, "--nodeps", v1)
	assert.Contains(t, out, "livepatch lpfix: not the running system (an image root): installed for kernel "+target+", not loaded")
	ko, err := os.ReadFile(filepath.Join(root, ModuleDir, "lpfix.ko"))
	require.NoError(t, err, "the module lands in the root")
	assert.Contains(t, string(ko), "\nver:module-1\n")
	assert.Equal(t, "module-1", state("installed-lpfix"), "installed for boot; log:\n%s", state("log"))
	assert.Equal(t, target, state("kver-lpfix"), "for the target kernel, not the build host's")
	assert.Equal(t, "kpatch install -k "+target+" "+ModuleDir+"/lpfix.ko", state("log"))
	noLoads()

	runTool(t, "rpm", "-U", "--root", root, "--nodeps", pkg("2"))
	assert.Equal(t, "module-2", state("installed-lpfix"), "after upgrade the new patch loads at boot; log:\n%s", state("log"))
	assert.Empty(t, runTool(t, "rpm", "-V", "--nodeps", "--root", root, "lpfix"))
	noLoads()

	runTool(t, "rpm", "-e", "--root", root, "lpfix")
	assert.Empty(t, state("installed-lpfix"))
	assert.Contains(t, state("log"), "kpatch uninstall -k "+target+" lpfix")
	noLoads()
	_, err = exec.Command("rpm", "-q", "--root", root, "lpfix").CombinedOutput()
	assert.Error(t, err, "package is gone")
}
