// SPDX-License-Identifier: Apache-2.0

//go:build linux

package photonlab_test

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab/selfrpm"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/klpkit/klpkit/rpmpkg"
)

// The guest's rpm database. Debian's rpm keeps its database in ~/.rpmdb
// (dpkg owns the system), so every call names Photon's place for it.
const guestDBPath = "/var/lib/rpm"

// rpmGuestFiles (host) returns Debian's rpm as the host has it installed
// (the rpm package of .ci/packages.txt) for the guest: the program, the
// shared libraries ldd names (at the paths it names, so the guest's loader
// finds them without a cache), rpm's configuration directory, and the
// user and group files rpm looks file owners up in.
func rpmGuestFiles(t *testing.T) []vmtest.File {
	t.Helper()
	rpm, err := exec.LookPath("rpm")
	if err != nil {
		t.Fatalf("the guest runs Debian's rpm: install rpm (.ci/packages.txt): %v", err)
	}
	out, err := exec.Command("ldd", rpm).Output()
	require.NoError(t, err, "ldd %s", rpm)
	files := []vmtest.File{{Guest: "/usr/bin/rpm", Host: rpm, Mode: 0o755}}
	for _, lib := range regexp.MustCompile(`/\S+`).FindAllString(string(out), -1) {
		files = append(files, vmtest.File{Guest: lib, Host: lib, Mode: 0o755})
	}
	const config = "/usr/lib/rpm"
	err = filepath.WalkDir(config, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := os.Stat(path) // a link is copied as what it leads to
		if err != nil || !fi.Mode().IsRegular() {
			return err
		}
		files = append(files, vmtest.File{Guest: path, Host: path, Mode: fi.Mode().Perm()})
		return nil
	})
	require.NoError(t, err, "rpm's configuration %s", config)
	return append(files,
		vmtest.File{Guest: "/etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/sh\n")},
		vmtest.File{Guest: "/etc/group", Data: []byte("root:x:0:\n")},
		vmtest.File{Guest: "/etc/nsswitch.conf", Data: []byte("passwd: files\ngroup: files\n")},
	)
}

// kpatchPackage (host) writes klpkit's kpatch package for Photon 5.0, as
// make rpms does, from the commands built for the guest, and returns its
// path.
func kpatchPackage(t *testing.T, root, kpatch, kpatchBuild, autoLivepatch string) string {
	t.Helper()
	var in selfrpm.Inputs
	for _, f := range []struct {
		dst  *[]byte
		path string
	}{{&in.Kpatch, kpatch}, {&in.KpatchBuild, kpatchBuild}, {&in.AutoLivepatch, autoLivepatch},
		{&in.Unit, filepath.Join(root, "examples/kpatch/kpatch.service")}, {&in.License, filepath.Join(root, "LICENSE")}} {
		var err error
		*f.dst, err = os.ReadFile(f.path)
		require.NoError(t, err)
	}
	files, err := selfrpm.WriteDir(t.TempDir(), in, selfrpm.Options{Version: "0", Release: "e2e", Dists: []string{"ph5"},
		BuildTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.Contains(t, filepath.Base(files[0]), selfrpm.KpatchName+"-", "Specs lists kpatch first")
	return files[0]
}

// upgradePackages (host) packages the two patch modules as versions 1 and
// 2 of one package, name, as a vendor ships a cumulative series: the
// module names differ, so version 2 replaces version 1 in the kernel
// atomically, while rpm -U replaces the package.
func upgradePackages(t *testing.T, name, kernel string, modules [2]string) []vmtest.File {
	t.Helper()
	var files []vmtest.File
	for i, ko := range modules {
		var buf bytes.Buffer
		require.NoError(t, rpmpkg.Build(&buf, rpmpkg.Package{Name: name, Version: []string{"1", "2"}[i], Kernel: kernel,
			ModulePath: ko, BuildTime: time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC)}))
		files = append(files, vmtest.File{Guest: "/rpms/" + name + "-" + []string{"1", "2"}[i] + ".rpm", Data: buf.Bytes()})
	}
	return files
}

// otherKernelPackage (host) is a livepatch package for a kernel the guest
// neither runs nor has installed, which its %pre must refuse.
func otherKernelPackage(t *testing.T, name, kernel string) vmtest.File {
	t.Helper()
	module := kmodtest.BuildModule(kmodtest.ModuleSpec{Name: name, Vermagic: kernel + " SMP mod_unload modversions ", Livepatch: true})
	var buf bytes.Buffer
	require.NoError(t, rpmpkg.Build(&buf, rpmpkg.Package{Name: name, Kernel: kernel, Module: module,
		BuildTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}))
	return vmtest.File{Guest: "/rpms/" + name + ".rpm", Data: buf.Bytes()}
}

// rpmRun (guest) runs the real rpm against the guest's database; it logs
// what rpm printed and returns its standard output (where queries and
// rpm -V answer) and error output (rpm's and the scriptlets' complaints).
func rpmRun(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command("/usr/bin/rpm", append([]string{"--dbpath", guestDBPath}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	t.Logf("rpm %s: %v\n%s%s", strings.Join(args, " "), err, o.String(), e.String())
	return o.String(), e.String(), err
}

// rpmOK runs rpm, which must succeed, and returns its standard output.
func rpmOK(t *testing.T, args ...string) string {
	t.Helper()
	stdout, stderr, err := rpmRun(t, args...)
	require.NoError(t, err, "rpm %s:\n%s%s", strings.Join(args, " "), stdout, stderr)
	return stdout
}

// rpmInstall runs rpm -i or -U. --ignoresize: the guest's root is the
// initramfs, whose file system reports no size for rpm to check.
func rpmInstall(t *testing.T, mode, file string) {
	t.Helper()
	rpmOK(t, mode, "--ignoresize", file)
}

// setupRPMGuest (guest) gives rpm the directories it writes: the database
// (which rpm creates on its first install; rpm --initdb would run rpmdb)
// and its temporary files.
func setupRPMGuest(t *testing.T) {
	t.Helper()
	for _, d := range []string{guestDBPath, "/var/tmp"} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
}

// watchPatched (guest) reads file over and over until stopped, counting
// the reads and those that lack text: a patch that leaves the kernel for
// a moment shows as a miss.
func watchPatched(file, text string) (stop func() (reads, misses int64)) {
	var reads, misses atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			data, err := os.ReadFile(file)
			reads.Add(1)
			if err != nil || !strings.Contains(string(data), text) {
				misses.Add(1)
			}
		}
	}()
	return func() (int64, int64) {
		close(done)
		wg.Wait()
		return reads.Load(), misses.Load()
	}
}

// bootCommand (guest) runs what kpatch.service runs at boot, as the
// installed unit file says.
func bootCommand(t *testing.T) {
	t.Helper()
	unit, err := os.ReadFile(selfrpm.UnitPath)
	require.NoError(t, err, "the kpatch package installs the unit")
	for _, line := range strings.Split(string(unit), "\n") {
		cmd, ok := strings.CutPrefix(line, "ExecStart=")
		if !ok {
			continue
		}
		args := strings.Fields(cmd)
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		t.Logf("%s:\n%s", cmd, out)
		require.NoError(t, err, "%s: %s", cmd, out)
		return
	}
	t.Fatalf("%s has no ExecStart", selfrpm.UnitPath)
}
