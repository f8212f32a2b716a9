// SPDX-License-Identifier: Apache-2.0

package photonsource

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/klpkit/klpkit/build"
	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/ccwrap"
)

// kbuildRoot chooses where make runs in the tree, as build.Run will choose
// for its compiles (Source.Toolchain): kbuild records the compiler that
// runs olddefconfig in .config (CONFIG_CC_VERSION_TEXT and what depends on
// it) and builds the tree's objects with it, so a tree made ready by
// another compiler than the one that builds the livepatch is not the
// kernel's. kernelCC is the kernel's compiler (vmlinux's .comment). nil
// means the host. The compiler check itself is build.Run's; here the
// host's `cc --version` only chooses, and on the host refuses before make
// a compiler build.Run would refuse after it.
func (s *Source) kbuildRoot(ctx context.Context, kernelCC string) (*toolchain.Root, error) {
	tc := s.Toolchain
	switch tc.Mode {
	case "", build.ToolchainHost:
		// build.Run's compiler check would refuse this compiler after
		// make: refuse it before (a full build takes hours).
		if s.Prepare.SkipCompilerCheck || kernelCC == "" {
			return nil, nil
		}
		line, err := hostVersionLine(ctx, s.compiler())
		if err == nil && !ccwrap.Same(kernelCC, line, false) {
			return nil, fmt.Errorf("photonsource: kernel %s was built with %q, the host's %s is %q (use the kernel's compiler, --toolchain auto, or skip the check): %w",
				s.Kernel, kernelCC, s.compiler(), line, build.ErrCompilerMismatch)
		}
		return nil, nil // an unusable compiler is build.Run's to report
	case build.ToolchainRoot:
		return &toolchain.Root{Dir: tc.Dir}, nil
	case build.ToolchainAuto:
	default:
		return nil, fmt.Errorf("photonsource: %w: Toolchain.Mode %q (want host, auto or root)", build.ErrBadOptions, tc.Mode)
	}
	// As build.Run: a skipped check builds on the host.
	if s.Prepare.SkipCompilerCheck || kernelCC == "" {
		return nil, nil
	}
	line, err := hostVersionLine(ctx, s.compiler())
	if err == nil && ccwrap.Same(kernelCC, line, false) {
		return nil, nil
	}
	if err != nil {
		line = "unusable (" + err.Error() + ")"
	}
	if !asuser.IsRoot() {
		return nil, fmt.Errorf("photonsource: kernel %s was built with %q, the host's %s is %q: %w; %w: a toolchain root needs root privileges (mount namespace and chroot): %w",
			s.Kernel, kernelCC, s.compiler(), line, build.ErrCompilerMismatch, build.ErrToolchainUnavailable, toolchain.ErrNeedsRoot)
	}
	cache, err := tc.Cache()
	if err != nil {
		return nil, err
	}
	if s.DryRun {
		return s.dryRunRoot(ctx, kernelCC, line, cache)
	}
	s.progress(StepKbuild, fmt.Sprintf("the host's %s is %q, the kernel was built with %q: provisioning the kernel's toolchain", s.compiler(), line, kernelCC))
	root, err := s.provideToolchain(ctx, kernelCC, cache)
	if err != nil {
		return nil, fmt.Errorf("%w; %w: %w", build.ErrCompilerMismatch, build.ErrToolchainUnavailable, err)
	}
	return root, nil
}

// dryRunRoot is kbuildRoot's root in a dry run: the cached root, or none
// (make is then left out) when the cache lacks it.
func (s *Source) dryRunRoot(ctx context.Context, kernelCC, line, cache string) (*toolchain.Root, error) {
	planned, err := s.lookupToolchain(ctx, kernelCC, cache)
	if err != nil {
		return nil, fmt.Errorf("%w; %w: %w", build.ErrCompilerMismatch, build.ErrToolchainUnavailable, err)
	}
	if planned.Cached {
		return &toolchain.Root{Dir: planned.Dir, List: planned.List}, nil
	}
	s.noKbuild = true
	s.progress(StepKbuild, fmt.Sprintf("dry run: the host's %s is %q, the kernel was built with %q, and its toolchain root %s is not provisioned (%d packages): make is left out of the tree", s.compiler(), line, kernelCC, planned.Dir, len(planned.List)))
	return nil, nil
}

// hostVersionLine is the first line of `<real compiler> --version` for a
// CC make variable (wrappers such as ccache removed).
func hostVersionLine(ctx context.Context, cc string) (string, error) {
	c, err := ccwrap.Unwrap(strings.Fields(cc))
	if err != nil {
		return "", err
	}
	if len(c.Argv) == 0 {
		return "", fmt.Errorf("CC=%q names no compiler", cc)
	}
	out, err := exec.CommandContext(ctx, c.Argv[0], "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", c.Argv[0], err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first), nil
}

// startInRoot starts cmd (make, named bare: the root's) in s.root, in the
// tree (bound at its real path), as the build user.
func (s *Source) startInRoot(cmd *exec.Cmd, tree string) error {
	real, err := filepath.EvalSymlinks(tree)
	if err != nil {
		return err
	}
	name := cmd.Args[0]
	if strings.Contains(name, "/") {
		name = "make" // a host program is not in the root
	}
	p, err := s.root.LookPath(name)
	if err != nil {
		return err
	}
	cmd.Path, cmd.Err, cmd.Dir = p, nil, real
	cmd.Env = toolchain.Environ(os.Environ())
	if s.as != nil {
		if cmd.SysProcAttr == nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{}
		}
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: s.as.UID, Gid: s.as.GID}
	}
	return s.root.Start(cmd, []string{real})
}
