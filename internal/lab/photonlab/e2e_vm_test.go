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
	"github.com/klpkit/klpkit/internal/lab/photonlab"
	"github.com/klpkit/klpkit/internal/lab/selfrpm"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/kmod/modsign"
	"github.com/klpkit/klpkit/photon"
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
// exactly that kernel, the real rpm (Debian's, with an rpm database of the
// guest's own) installs klpkit's kpatch package and the livepatch RPMs,
// runs their scriptlets, upgrades, verifies and erases them.
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

// upgradeName is the package of the rpm -U step: v1's and v2's modules as
// its versions 1 and 2.
const upgradeName = "klp_photonlab"

// e2eSetup (host) builds the two livepatch RPMs with the auto_livepatch
// CLI, as an administrator would: no --symvers. The kernel's
// Module.symvers comes from the flavor's devel RPM in the repository, so
// the prepared tree is never built in full, and the guest proves the CRCs
// it yields are the kernel's; v2's header change finds the header's users
// in the debuginfo's vmlinux, again without a full build. The fallback
// for a repository without a devel RPM, the full build as the build user,
// is built once, for the generic flavor only (fullBuildSetup), as is v1
// in a Photon toolchain root, the host's compiler made to differ from
// the kernel's (toolchainSetup). aws's livepatches are signed with the
// lab key (--sign-key), generic's are not.
// The guest also gets rpm, klpkit's kpatch package (which installs the
// kpatch command the scriptlets run), the upgrade series and a package
// for another kernel.
func e2eSetup(t *testing.T, pl *photonlab.Lab) []vmtest.File {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Fatalf("the guest's /bin/sh is busybox: install busybox-static (.ci/packages.txt): %v", err)
	}
	root, err := filepath.Abs("../../..")
	require.NoError(t, err)
	tools := t.TempDir()
	autoLivepatch := vmtest.BuildStatic(t, root, "./examples/auto_livepatch", filepath.Join(tools, "auto_livepatch"))
	kpatch := vmtest.BuildStatic(t, root, "./examples/kpatch", filepath.Join(tools, "kpatch"))
	kpatchBuild := vmtest.BuildStatic(t, root, "./examples/kpatch-build", filepath.Join(tools, "kpatch-build"))

	srv := httptest.NewServer(http.FileServer(http.Dir(pl.RepoDir)))
	defer srv.Close()
	out, cache := t.TempDir(), t.TempDir()
	work := openWorkDir(t)
	files := append(rpmGuestFiles(t),
		vmtest.File{Guest: "/bin/busybox", Host: "/bin/busybox", Mode: 0o755},
		vmtest.File{Guest: "/rpms/kpatch.rpm", Host: kpatchPackage(t, root, kpatch, kpatchBuild, autoLivepatch)},
		vmtest.File{Guest: "/want-release", Data: []byte(pl.KernelRelease)},
		otherKernelPackage(t, "klp_other_kernel", pl.Version+"-99.ph5"),
	)
	k, err := pl.Kernel()
	require.NoError(t, err)
	// aws's livepatches are signed with the lab key its kernel trusts
	// (--sign-key with --rpm: the RPMs carry signed modules); generic's
	// are not, and load with the unsigned-module taint.
	signed := k.Flavor == photon.AWS
	if signed {
		require.NotEmpty(t, pl.SigningKey, "the aws kernel trusts the lab key: rebuild the lab with `make lab-photon`")
		files = append(files, vmtest.File{Guest: "/want-signed", Data: []byte("yes")})
	}
	var modules [2]string
	for i, p := range e2ePatches {
		start := time.Now()
		args := []string{"-k", pl.KernelRelease,
			"-p", filepath.Join(root, "testdata/photonlab/livepatch", p.Patch), "-n", p.Name, "--rpm", "-o", out,
			"--mirror", srv.URL, "--cache", cache, "--work", work,
			"--make-arg", "CC=gcc-12", "--make-arg", "HOSTCC=gcc-12"}
		if signed {
			args = append(args, "--sign-key", pl.SigningKey, "--sign-cert", pl.SigningCert)
		}
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
		requireKpatchRequired(t, rpms[0])
		files = append(files, vmtest.File{Guest: "/rpms/" + p.Name + ".rpm", Host: rpms[0]})
		modules[i] = filepath.Join(out, p.Name+".ko")
		if signed {
			requireLabSigned(t, pl, modules[i])
		}
	}
	if k.Flavor == photon.Generic {
		files = append(files, toolchainSetup(t, pl, root, autoLivepatch, work, cache, modules[0])...)
		files = append(files, fullBuildSetup(t, pl, root, autoLivepatch)...)
	}
	return append(files, upgradePackages(t, upgradeName, pl.KernelRelease, modules)...)
}

// requireLabSigned checks a module is signed with the lab key (sha512).
func requireLabSigned(t *testing.T, pl *photonlab.Lab, module string) {
	t.Helper()
	data, err := os.ReadFile(module)
	require.NoError(t, err)
	certs, err := modsign.LoadCertificates(pl.SigningCert)
	require.NoError(t, err)
	sig, by, err := modsign.Verify(data, certs)
	require.NoError(t, err, "%s is signed with the lab key", module)
	require.Equal(t, "sha512", sig.HashName())
	require.Equal(t, photonlab.SigningCommonName, by.Subject.CommonName)
}

// requireKpatchRequired checks a livepatch RPM requires kpatch, which the
// guest's kpatch package must then provide for rpm to install it.
func requireKpatchRequired(t *testing.T, file string) {
	t.Helper()
	f, err := os.Open(file)
	require.NoError(t, err)
	defer f.Close()
	info, err := rpmpkg.Inspect(t.Context(), f, nil)
	require.NoError(t, err)
	require.Contains(t, info.Requires, "kpatch", "Photon's livepatch RPMs require kpatch")
}

// e2eGuest (in the VM) has rpm install, replace, upgrade, verify and erase
// the patches; every load and unload is the scriptlets' doing, so a
// scriptlet rpm did not run leaves a patch that is not live (or not gone).
func e2eGuest(t *testing.T) {
	start := time.Now()
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

	setupRPMGuest(t)
	t.Log("rpm -i klpkit's kpatch package: it provides what livepatch packages require")
	rpmInstall(t, "-i", "/rpms/kpatch.rpm")
	require.Equal(t, selfrpm.KpatchName, rpmOK(t, "-q", "--whatprovides", "kpatch", "--qf", "%{NAME}"))
	fullBuildGuest(t)
	toolchainGuest(t)

	t.Logf("rpm runs %%pre, which refuses a patch for a kernel neither running nor installed")
	_, stderr, err := rpmRun(t, "-i", "--ignoresize", "/rpms/klp_other_kernel.rpm")
	require.Error(t, err, "rpm -i of a patch for another kernel")
	require.Contains(t, stderr, "ABORT: livepatch klp_other_kernel is for kernel")
	_, _, err = rpmRun(t, "-q", "klp_other_kernel")
	require.Error(t, err, "the refused package is not installed")

	t.Logf("rpm -i v1: %%pre checks the kernel, %%post installs and loads")
	rpmInstall(t, "-i", "/rpms/"+v1.Name+".rpm")
	requireLive(t, v1)
	requireList(t, []string{v1.Name}, nil)
	if _, err := os.Stat("/want-signed"); err == nil {
		// The kernel verified the packaged module's signature: no
		// TAINT_UNSIGNED_MODULE (E), which an unsigned module sets.
		requireInFile(t, "/sys/module/"+v1.Name+"/taint", "K")
		requireNotInFile(t, "/sys/module/"+v1.Name+"/taint", "E")
		taint, _ := os.ReadFile("/sys/module/" + v1.Name + "/taint")
		t.Logf("the signed v1 loaded with module taint %q (no E)", strings.TrimSpace(string(taint)))
	}

	t.Logf("rpm -e v1: %%preun unloads and uninstalls")
	rpmOK(t, "-e", v1.Name)
	requireGone(t, v1.Name)
	requireList(t, nil, []string{v1.Name})
	requireNotInFile(t, "/proc/version", v1.Version)

	t.Log("rpm -i v1 again, then the cumulative v2, a package of its own, which replaces it")
	rpmInstall(t, "-i", "/rpms/"+v1.Name+".rpm")
	requireLive(t, v1)
	rpmInstall(t, "-i", "/rpms/"+v2.Name+".rpm")
	requireLive(t, v2)
	requireReplaced(t, v1.Name)

	t.Log("a simulated boot: every patch unloaded, then kpatch.service's command loads the installed ones, oldest first")
	kpatchOK(t, "unload", "--all")
	requireGone(t, v1.Name)
	requireGone(t, v2.Name)
	requireNotInFile(t, "/proc/version", "photonlab-livepatch")
	bootCommand(t)
	requireLive(t, v2) // v1 first, then v2 over it; the other order leaves v1 live
	requireReplaced(t, v1.Name)

	t.Log("rpm -e v1, then v2: v2 stays live until its own erase")
	rpmOK(t, "-e", v1.Name)
	requireGone(t, v1.Name)
	requireLive(t, v2)
	requireList(t, []string{v2.Name}, []string{v1.Name})
	rpmOK(t, "-e", v2.Name)
	requireGone(t, v2.Name)
	requireNotInFile(t, "/proc/version", "photonlab-livepatch")

	t.Log("rpm -U from version 1 to the cumulative version 2 of one package: the kernel is never unpatched")
	rpmInstall(t, "-i", "/rpms/"+upgradeName+"-1.rpm")
	requireLive(t, v1)
	stop := watchPatched("/proc/version", "photonlab-livepatch: v")
	rpmInstall(t, "-U", "/rpms/"+upgradeName+"-2.rpm")
	reads, misses := stop()
	t.Logf("/proc/version read %d times during rpm -U, %d without the patch", reads, misses)
	require.Positive(t, reads)
	require.Zero(t, misses, "the patch left the kernel during the upgrade")
	requireLive(t, v2)
	// Replaced atomically by version 2, and its module taken out by
	// version 1's %preun: nothing of version 1 is left loaded.
	requireGone(t, v1.Name)
	require.Equal(t, "2", rpmOK(t, "-q", upgradeName, "--qf", "%{VERSION}"))
	list := kpatchOK(t, "list")
	loaded, installed, _ := strings.Cut(list, "Installed patch modules:")
	require.Contains(t, loaded, v2.Name+" [enabled]")
	require.Contains(t, installed, upgradeName+" (", "the upgrade installs version 2 for boot")
	stored, err := os.ReadFile("/lib/modules/" + string(want) + "/livepatches/" + upgradeName + ".ko")
	require.NoError(t, err)
	packaged, err := os.ReadFile(rpmpkg.ModuleDir + "/" + upgradeName + ".ko")
	require.NoError(t, err)
	require.True(t, bytes.Equal(stored, packaged), "the boot copy is version 2's module")

	t.Log("rpm -V: the installed packages are as packaged")
	require.Empty(t, rpmOK(t, "-V", selfrpm.KpatchName, upgradeName))
	t.Logf("the rpm steps took %s", time.Since(start).Round(100*time.Millisecond))
}

func kpatchOK(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("kpatch", args...).CombinedOutput()
	require.NoError(t, err, "kpatch %s: %s", strings.Join(args, " "), out)
	return string(out)
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
