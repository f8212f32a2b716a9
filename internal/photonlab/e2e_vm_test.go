// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonlab_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/photonlab"
	"github.com/klpkit/klpkit/internal/vmtest"
	"github.com/klpkit/klpkit/photon/kernelsrc"
	"github.com/klpkit/klpkit/rpmpkg"
)

type e2ePatch struct{ Name, Patch, Version, Cmdline string }

// The livepatches of the end-to-end test: v1 changes /proc/version; v2 is
// cumulative (the v1 change, reworded, plus /proc/cmdline through a new
// inline function in fs/proc/internal.h, a header twenty objects include)
// and replaces v1.
var e2ePatches = []e2ePatch{
	{"klp_photonlab_v1", "v1-proc-version.patch", "photonlab-livepatch: v1", ""},
	{"klp_photonlab_v2", "v2-proc-version-cmdline.patch", "photonlab-livepatch: v2", "photonlab-livepatch=v2"},
}

// TestAutoLivepatchEndToEnd runs Photon's whole livepatch flow against the
// Photon lab: auto_livepatch -k <lab uname> -p <patch> --rpm fetches the
// kernel's source, debuginfo and devel RPMs from the lab repository on
// loopback, verifies, prepares, builds and packages; then, in a VM running
// exactly that kernel, each RPM's payload is installed and its scriptlets
// are run by /bin/sh with the project's kpatch CLI as `kpatch`, as rpm would.
func TestAutoLivepatchEndToEnd(t *testing.T) {
	for _, f := range labFlavors {
		t.Run(string(f), func(t *testing.T) {
			vmtest.Run(t, vmtest.Config{
				Kernel:  func(t *testing.T, l *lab.Lab) string { return requireFlavor(t, l, f).Vmlinuz },
				Timeout: 5 * time.Minute,
				Setup: func(t *testing.T, l *lab.Lab) []vmtest.File {
					return e2eSetup(t, requireFlavor(t, l, f))
				},
			}, e2eGuest)
		})
	}
}

// e2eSetup (host) builds the two livepatch RPMs with the auto_livepatch
// CLI, as an administrator would: no --symvers. The kernel's
// Module.symvers comes from the flavor's devel RPM in the repository, so
// the prepared tree is never built in full, and the guest proves the CRCs
// it yields are the kernel's; v2's header change finds the header's users
// in the debuginfo's vmlinux, again without a full build. (The fallback
// for a repository without a devel RPM, the full build, is covered
// without a kernel build by photonsource's and auto_livepatch's tests.)
func e2eSetup(t *testing.T, pl *photonlab.Lab) []vmtest.File {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Fatalf("the guest's /bin/sh is busybox: install busybox-static (.ci/packages.txt): %v", err)
	}
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	tools := t.TempDir()
	autoLivepatch := vmtest.BuildStatic(t, root, "./examples/auto_livepatch", filepath.Join(tools, "auto_livepatch"))
	kpatch := vmtest.BuildStatic(t, root, "./examples/kpatch", filepath.Join(tools, "kpatch"))

	srv := httptest.NewServer(http.FileServer(http.Dir(pl.RepoDir)))
	defer srv.Close()
	out, cache := t.TempDir(), t.TempDir()
	work := openWorkDir(t)
	files := []vmtest.File{
		{Guest: "/bin/busybox", Host: "/bin/busybox", Mode: 0o755},
		{Guest: "/usr/sbin/kpatch", Host: kpatch, Mode: 0o755},
		{Guest: "/want-release", Data: []byte(pl.KernelRelease)},
	}
	k, err := pl.Kernel()
	require.NoError(t, err)
	for i, p := range e2ePatches {
		start := time.Now()
		args := []string{"-k", pl.KernelRelease,
			"-p", filepath.Join(root, "testdata/photonlab/livepatch", p.Patch), "-n", p.Name, "--rpm", "-o", out,
			"--mirror", srv.URL, "--cache", cache, "--work", work,
			"--make-arg", "CC=gcc-12", "--make-arg", "HOSTCC=gcc-12"}
		cmd := exec.CommandContext(t.Context(), autoLivepatch, args...)
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		require.NoError(t, cmd.Run(), "auto_livepatch for %s:\n%s", p.Patch, log.String())
		require.NotContains(t, log.String(), "vmlinux modules", "the devel RPM's Module.symvers and the debug information spare the full build")
		require.NotContains(t, log.String(), "no devel RPM")
		if i == 0 {
			require.Contains(t, log.String(), "downloaded "+kernelsrc.DevelPackage.FileName(k), "cold cache: the devel RPM is fetched")
		} else {
			require.Contains(t, log.String(), "finding the users of fs/proc/internal.h in the debug information")
		}
		t.Logf("auto_livepatch built %s in %s", p.Name, time.Since(start).Round(100*time.Millisecond))
		rpms, _ := filepath.Glob(filepath.Join(out, p.Name+"-*.rpm"))
		require.Len(t, rpms, 1, "one RPM for %s in %s", p.Name, out)
		files = append(files, stageRPM(t, rpms[0], "/rpms/"+p.Name)...)
	}
	return files
}

// stageRPM puts an RPM's payload under dir/root and its scriptlets beside
// it, for the guest's small rpm stand-in.
func stageRPM(t *testing.T, file, dir string) []vmtest.File {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	info, err := rpmpkg.Inspect(t.Context(), f, nil)
	require.NoError(t, err)
	require.Contains(t, info.Requires, "kpatch", "Photon's livepatch RPMs require kpatch")
	_, err = f.Seek(0, 0)
	require.NoError(t, err)
	payload := t.TempDir()
	_, err = rpmpkg.Extract(t.Context(), f, payload, nil)
	require.NoError(t, err)

	var files []vmtest.File
	var list []string
	for _, fi := range info.Files {
		if !fi.Mode.IsRegular() {
			continue
		}
		files = append(files, vmtest.File{Guest: dir + "/root" + fi.Name, Host: filepath.Join(payload, filepath.FromSlash(fi.Name)), Mode: fi.Mode.Perm()})
		list = append(list, fi.Name)
	}
	require.NotEmpty(t, list, "%s has no payload", file)
	files = append(files, vmtest.File{Guest: dir + "/files", Data: []byte(strings.Join(list, "\n"))})
	for name, body := range map[string]string{"pre": info.Scripts.Pre, "post": info.Scripts.Post, "preun": info.Scripts.PreUn, "postun": info.Scripts.PostUn} {
		if body != "" {
			files = append(files, vmtest.File{Guest: dir + "/" + name, Data: []byte(body)})
		}
	}
	return files
}

// e2eGuest (in the VM) installs, checks, removes and replaces the patches.
func e2eGuest(t *testing.T) {
	out, err := exec.Command("/bin/busybox", "--install", "-s", "/bin").CombinedOutput()
	require.NoError(t, err, "busybox --install: %s", out)
	want, err := os.ReadFile("/want-release")
	require.NoError(t, err)
	uname, err := exec.Command("uname", "-r").Output()
	require.NoError(t, err)
	require.Equal(t, string(want), strings.TrimSpace(string(uname)), "the VM runs the lab kernel")
	v1, v2 := e2ePatches[0], e2ePatches[1]
	requireNotInFile(t, "/proc/version", "photonlab-livepatch")
	requireNotInFile(t, "/proc/cmdline", "photonlab-livepatch")

	t.Log("install v1, as rpm -i: pre scriptlet, payload, post scriptlet")
	rpmInstall(t, v1.Name)
	requireLive(t, v1)
	requireList(t, []string{v1.Name}, nil)

	t.Log("erase v1, as rpm -e: preun scriptlet, payload removed, postun scriptlet")
	rpmErase(t, v1.Name)
	requireGone(t, v1.Name)
	requireList(t, nil, []string{v1.Name})
	requireNotInFile(t, "/proc/version", v1.Version)

	t.Log("install v1 again, then the cumulative v2, which replaces it; then erase v1's package")
	rpmInstall(t, v1.Name)
	requireLive(t, v1)
	rpmInstall(t, v2.Name)
	requireLive(t, v2)
	requireReplaced(t, v1.Name)
	requireNotInFile(t, "/proc/version", v1.Version)
	rpmErase(t, v1.Name)
	requireGone(t, v1.Name)
	requireLive(t, v2)
	requireList(t, []string{v2.Name}, []string{v1.Name})
}

// rpmInstall does what rpm -i does with a staged package: %pre 1, unpack,
// %post 1. A failing scriptlet fails the test.
func rpmInstall(t *testing.T, name string) {
	t.Helper()
	dir := "/rpms/" + name
	runScriptlet(t, dir, "pre", "1")
	for _, f := range payloadFiles(t, dir) {
		data, err := os.ReadFile(dir + "/root" + f)
		require.NoError(t, err)
		require.NoError(t, os.MkdirAll(filepath.Dir(f), 0o755))
		require.NoError(t, os.WriteFile(f, data, 0o644))
	}
	runScriptlet(t, dir, "post", "1")
}

// rpmErase does what rpm -e does: %preun 0, remove the payload, %postun 0.
func rpmErase(t *testing.T, name string) {
	t.Helper()
	dir := "/rpms/" + name
	runScriptlet(t, dir, "preun", "0")
	for _, f := range payloadFiles(t, dir) {
		require.NoError(t, os.Remove(f))
	}
	runScriptlet(t, dir, "postun", "0")
}

func payloadFiles(t *testing.T, dir string) []string {
	data, err := os.ReadFile(dir + "/files")
	require.NoError(t, err)
	return strings.Split(string(data), "\n")
}

func runScriptlet(t *testing.T, dir, which, arg string) {
	t.Helper()
	script := dir + "/" + which
	if _, err := os.Stat(script); err != nil {
		return // the package has none
	}
	out, err := exec.Command("/bin/sh", script, arg).CombinedOutput()
	t.Logf("%%%s %s of %s:\n%s", which, arg, filepath.Base(dir), out)
	require.NoError(t, err, "%%%s of %s failed", which, filepath.Base(dir))
}

// requireLive checks a patch is enabled, done transitioning and changes
// what the kernel prints.
func requireLive(t *testing.T, p e2ePatch) {
	t.Helper()
	sys := "/sys/kernel/livepatch/" + p.Name
	waitFor(t, func() bool {
		enabled, err1 := os.ReadFile(sys + "/enabled")
		transition, err2 := os.ReadFile(sys + "/transition")
		return err1 == nil && err2 == nil && strings.TrimSpace(string(enabled)) == "1" && strings.TrimSpace(string(transition)) == "0"
	}, "%s enabled and out of transition", p.Name)
	requireInFile(t, "/proc/version", p.Version)
	if p.Cmdline != "" {
		requireInFile(t, "/proc/cmdline", p.Cmdline)
	}
}

// requireReplaced waits until an atomic-replace patch has taken over from
// a patch: its livepatch is gone, while its module stays loaded until
// someone unloads it (the old package's %preun).
func requireReplaced(t *testing.T, name string) {
	t.Helper()
	waitFor(t, func() bool {
		_, err := os.Stat("/sys/kernel/livepatch/" + name)
		return os.IsNotExist(err)
	}, "%s replaced", name)
	mods, err := os.ReadFile("/proc/modules")
	require.NoError(t, err)
	require.Contains(t, string(mods), name+" ", "a replaced patch's module stays until unloaded")
}

// requireGone waits until a patch has left /sys/kernel/livepatch and the
// module list.
func requireGone(t *testing.T, name string) {
	t.Helper()
	waitFor(t, func() bool {
		_, err := os.Stat("/sys/kernel/livepatch/" + name)
		mods, _ := os.ReadFile("/proc/modules")
		return os.IsNotExist(err) && !strings.Contains(string(mods), name+" ")
	}, "%s unloaded", name)
}

// requireList checks `kpatch list`: loaded and installed sections.
func requireList(t *testing.T, present, absent []string) {
	t.Helper()
	out, err := exec.Command("kpatch", "list").CombinedOutput()
	require.NoError(t, err, "kpatch list: %s", out)
	t.Logf("kpatch list:\n%s", out)
	loaded, installed, ok := strings.Cut(string(out), "Installed patch modules:")
	require.True(t, ok, "kpatch list layout")
	for _, name := range present {
		require.Contains(t, loaded, name+" [enabled]")
		require.Contains(t, installed, name+" (")
	}
	for _, name := range absent {
		require.NotContains(t, string(out), name)
	}
}

func requireInFile(t *testing.T, file, text string) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Contains(t, string(data), text, file)
}

func requireNotInFile(t *testing.T, file, text string) {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	require.NotContains(t, string(data), text, file)
}

func waitFor(t *testing.T, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", fmt.Sprintf(format, args...))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// openWorkDir is a --work directory for auto_livepatch where the build
// user (auto_livepatch as root runs make as nobody) can reach the
// prepared trees: t.TempDir's parent is mode 0700.
func openWorkDir(t *testing.T) string {
	t.Helper()
	work, err := os.MkdirTemp("", "klpkit-e2e-work-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(work) })
	require.NoError(t, os.Chmod(work, 0o755))
	return work
}
