// SPDX-License-Identifier: Apache-2.0

package klp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/elfobj"
)

// LinkOptions says how to link a module with the kernel's own kbuild.
type LinkOptions struct {
	// KbuildDir is the kernel tree (or installed headers, e.g.
	// /lib/modules/<release>/build) that `make -C` builds against. Its
	// Module.symvers supplies the exports' CRCs.
	KbuildDir string
	// MakeArgs are extra make arguments, e.g. CC=gcc-12 KERNELRELEASE=...
	MakeArgs []string
	// WorkDir is an empty directory the module is built in; it keeps the
	// generated source and kbuild's files for debugging.
	WorkDir string
	// Objects are the patch objects (as AliasFunction and RenameUndefined
	// left them) linked into the module.
	Objects []string
	// Exported reports symbols the kernel exports; other undefined symbols
	// must be .klp.sym symbols (see Finalize). Nil: none are exported.
	Exported func(string) bool
	// Release, when set, must be the release in the module's vermagic.
	Release string
	// Output receives kbuild's output; nil discards it.
	Output io.Writer
	// Command, when set, prepares each command the link runs to run in
	// dir (the kbuild tree): it sets cmd.Dir and may run cmd as another
	// user (build.Options.BuildUser); done is called once cmd has run.
	// nil: cmd.Dir = dir.
	Command func(cmd *exec.Cmd, dir string) (done func(), err error)
	// Start, when set, starts each command the link runs, after Command
	// (build.Options.Toolchain: inside a toolchain root). nil: cmd.Start.
	Start func(cmd *exec.Cmd) error
	// RecipeDir, when set, keeps the commands kbuild runs to link a module
	// for this kernel, configuration and compiler, so that later links
	// replay them instead of running make (see linkrecipe.go). "": every
	// link runs make.
	RecipeDir string
	// Notify, when set, receives one-line notes on how the link ran, such
	// as why it had to run make.
	Notify func(string)
}

// hookName is the object holding the generated klp_patch.
const hookName = "klpkit-hook"

// Link generates m's source, links it with the patch objects through
// kbuild as an out-of-tree module, finalizes the result (see Finalize),
// checks its vermagic and returns the module's bytes. It never writes the
// output file: callers write the bytes atomically where they want them.
//
// kbuild's modpost runs with KBUILD_MODPOST_WARN=1 because the .klp.sym
// references are undefined by design; Finalize then refuses any other
// undefined symbol, which is the check modpost would have made.
func Link(ctx context.Context, m *Module, o LinkOptions) ([]byte, error) {
	src, err := m.Source()
	if err != nil {
		return nil, err
	}
	if o.KbuildDir == "" || o.WorkDir == "" {
		return nil, fmt.Errorf("link %s: KbuildDir and WorkDir are required", m.Name)
	}
	if err := os.WriteFile(filepath.Join(o.WorkDir, hookName+".c"), src, 0o644); err != nil {
		return nil, fmt.Errorf("link %s: %w", m.Name, err)
	}
	objs := []string{hookName + ".o"}
	for i, obj := range o.Objects {
		// Prebuilt objects go in as <name>_shipped: kbuild copies them to
		// <name>, its documented way to take objects it did not compile.
		name := fmt.Sprintf("klpkit-patch-%d.o", i)
		data, err := os.ReadFile(obj)
		if err != nil {
			return nil, fmt.Errorf("link %s: %w", m.Name, err)
		}
		if err := os.WriteFile(filepath.Join(o.WorkDir, name+"_shipped"), data, 0o644); err != nil {
			return nil, fmt.Errorf("link %s: %w", m.Name, err)
		}
		// modpost reads each object's .cmd file for the CRCs of the
		// symbols it exports (#SYMVER lines); patch objects export none.
		cmdFile := filepath.Join(o.WorkDir, "."+name+".cmd")
		if err := os.WriteFile(cmdFile, []byte("# prebuilt patch object: no exports\n"), 0o644); err != nil {
			return nil, fmt.Errorf("link %s: %w", m.Name, err)
		}
		objs = append(objs, name)
	}
	kbuild := fmt.Sprintf("# SPDX-License-Identifier: GPL-2.0\nobj-m := %s.o\n%s-y := %s\n", m.Name, m.Name, strings.Join(objs, " "))
	if err := os.WriteFile(filepath.Join(o.WorkDir, "Kbuild"), []byte(kbuild), 0o644); err != nil {
		return nil, fmt.Errorf("link %s: %w", m.Name, err)
	}
	if err := kbuildLink(ctx, m.Name, objs, o); err != nil {
		return nil, err
	}
	ko := filepath.Join(o.WorkDir, m.Name+".ko")
	data, err := os.ReadFile(ko)
	if err != nil {
		return nil, fmt.Errorf("link %s: kbuild produced no module: %w", m.Name, err)
	}
	f, err := elfobj.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("link %s: reading %s: %w", m.Name, ko, err)
	}
	if err := Finalize(f, o.Exported); err != nil {
		return nil, fmt.Errorf("link %s: %w", m.Name, err)
	}
	if o.Release != "" {
		if err := CheckVermagic(f, o.Release); err != nil {
			return nil, fmt.Errorf("link %s: %w", m.Name, err)
		}
	}
	var buf bytes.Buffer
	if err := elfobj.Write(&buf, f); err != nil {
		return nil, fmt.Errorf("link %s: writing the livepatch module: %w", m.Name, err)
	}
	return buf.Bytes(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// command prepares cmd to run in dir (LinkOptions.Command).
func (o *LinkOptions) command(cmd *exec.Cmd, dir string) (func(), error) {
	if o.Command != nil {
		return o.Command(cmd, dir)
	}
	cmd.Dir = dir
	return func() {}, nil
}

// run starts cmd (LinkOptions.Start) and waits for it.
func (o *LinkOptions) run(cmd *exec.Cmd) error {
	start := cmd.Start
	if o.Start != nil {
		start = func() error { return o.Start(cmd) }
	}
	if err := start(); err != nil {
		return err
	}
	return cmd.Wait()
}

// runMake links the module in o.WorkDir with kbuild's make.
func runMake(ctx context.Context, name string, o LinkOptions) error {
	return runMakeLogged(ctx, name, o, nil)
}

// runMakeLogged is runMake that, when log is not nil, has kbuild print
// every command it runs (V=1) and copies make's whole output to log.
func runMakeLogged(ctx context.Context, name string, o LinkOptions, log *bytes.Buffer) error {
	// The directories are mapped out of the debug information: the
	// module's bytes must not depend on where it was built.
	// make runs in the kbuild tree rather than with -C: a build user may
	// reach it only as its working directory (Command).
	args := append([]string{"M=" + o.WorkDir, "KBUILD_MODPOST_WARN=1"}, prefixMapArgs(o.MakeArgs, os.Environ(), o.KbuildDir, o.WorkDir)...)
	if log != nil {
		args = append(args, "V=1")
	}
	args = append(args, "modules")
	cmd := exec.CommandContext(ctx, "make", args...)
	done, err := o.command(cmd, o.KbuildDir)
	if err != nil {
		return fmt.Errorf("link %s: %w", name, err)
	}
	defer done()
	// On cancellation make is killed; its children may hold the output
	// pipe, so stop waiting for it soon after.
	cmd.WaitDelay = 5 * time.Second
	var tail bytes.Buffer
	out := io.Writer(&tail)
	if o.Output != nil {
		out = io.MultiWriter(out, o.Output)
	}
	if log != nil {
		out = io.MultiWriter(out, log)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := o.run(cmd); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("link %s: kbuild failed: %w\n%s", name, err, lastLines(tail.String(), 20))
	}
	return nil
}
