// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/klpkit/klpkit"
	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/internal/lab"
	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// kpatchGuestCommand is the hidden command klplab runs as /init in the
// VM of the patch demo: /init __kpatch-guest <module> <file to show>.
const kpatchGuestCommand = "__kpatch-guest"

// Where the patch demo puts things in the guest.
const (
	guestKpatch = "/bin/kpatch"
	guestKlpDir = "/klp"
)

// patchDemo is the demo of the whole tool chain: build.Run makes a
// livepatch from a patch in testdata/patches against the lab kernel (a
// kernel this project did not compile), the VM boots that kernel, and the
// kpatch CLI loads, lists and unloads the module while the demo shows the
// file the patch changes.
type patchDemo struct {
	lab     *lab.Lab
	patch   string // patch file
	show    string // guest file whose contents the patch changes
	self    string // static klplab, the guest's /init
	work    string
	timeout time.Duration
	stdout  io.Writer
}

func (d *patchDemo) run(ctx context.Context) error {
	say := func(format string, a ...any) { fmt.Fprintf(d.stdout, "==> "+format+"\n", a...) }
	if d.lab.SourceDir == "" {
		return errors.New("the lab has no source tree: run `make lab` (klplab prepare --source)")
	}
	say("lab kernel %s (Debian %s), a kernel klpkit did not build", d.lab.KernelRelease, d.lab.Version)
	say("building a livepatch from %s with build.Run", d.patch)
	patchText, err := os.ReadFile(d.patch)
	if err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(string(patchText), "\n"), "\n") {
		fmt.Fprintf(d.stdout, "    patch| %s\n", line)
	}
	start := time.Now()
	res, err := build.Run(ctx, build.Options{
		Source: &build.Tree{
			Release: d.lab.KernelRelease, Dir: d.lab.SourceDir, KbuildDir: d.lab.HeadersDir,
			Config: d.lab.Config, Vmlinux: d.lab.Vmlinux, MakeArgs: d.lab.MakeArgs(),
		},
		Patches:   []string{d.patch},
		OutputDir: d.work,
		Toolchain: d.toolchain(),
		Progress: klpkit.On(func(e build.Event) {
			fmt.Fprintf(d.stdout, "    build| [%s %d/%d] %s\n", e.Stage, e.Done, e.Total, e.Message)
		}),
	})
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	say("built %s in %s", filepath.Base(res.Module), time.Since(start).Round(100*time.Millisecond))

	kpatchBin := filepath.Join(d.work, "kpatch")
	say("building the kpatch CLI (examples/kpatch) for the guest")
	if err := goBuildStatic(ctx, kpatchBin, "github.com/klpkit/klpkit/examples/kpatch"); err != nil {
		return err
	}
	guestKo := guestKlpDir + "/" + filepath.Base(res.Module)
	say("booting the lab kernel in QEMU (TCG); the guest runs kpatch load, list and unload")
	console := &consoleLines{w: d.stdout, prefix: "    vm| "}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	boot, err := vmtest.Boot(ctx, vmtest.BootConfig{
		Kernel: d.lab.Vmlinuz,
		Files: []vmtest.File{
			{Guest: "/init", Host: d.self, Mode: 0o755},
			{Guest: guestKpatch, Host: kpatchBin, Mode: 0o755},
			{Guest: guestKo, Host: res.Module},
		},
		Append:  "-- " + kpatchGuestCommand + " " + guestKo + " " + d.show,
		Console: console,
		WorkDir: d.work,
	})
	console.flush()
	if err != nil {
		var be *vmtest.BootError
		if errors.As(err, &be) {
			return fmt.Errorf("demo failed: %s", strings.SplitN(be.Error(), "\n", 2)[0])
		}
		return err
	}
	say("demo passed: %s changed %s while loaded, and unloading restored it (VM ran %s)",
		res.Name, d.show, boot.Duration.Round(100*time.Millisecond))
	return nil
}

// toolchain is where the build compiles: the lab's toolchain root when
// its kernel's compiler is not the host's (5.10: gcc-10).
func (d *patchDemo) toolchain() build.Toolchain {
	if d.lab.ToolchainRoot == "" {
		return build.Toolchain{}
	}
	return build.Toolchain{Mode: build.ToolchainRoot, Dir: d.lab.ToolchainRoot}
}

// goBuildStatic builds a command of the module with CGO_ENABLED=0 (run from
// the module, as make does).
func goBuildStatic(ctx context.Context, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s (run from the klpkit module): %w\n%s", pkg, err, msg)
	}
	return nil
}
