// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/flock"
)

// sectionFlags give every function and data object its own section, which
// the object differ needs to compare and extract them one by one.
var sectionFlags = []string{"-ffunction-sections", "-fdata-sections"}

// waitDelay bounds the wait for a killed command's output pipes: make or a
// compiler driver killed on cancellation may leave children holding them.
const waitDelay = 5 * time.Second

// compiler runs kbuild's recorded compiler commands directly: kbuild's
// own start-up costs more than compiling one object (FACTS 10.5).
type compiler struct {
	tree     string
	makeArgs []string
	log      *slog.Logger
	as       *asuser.User // runs the tree's programs; nil: this process
	root     *rootEnv     // runs them in a toolchain root; nil: on the host
	kbuild   *kbuildTree  // nil: make runs in tree as this process
}

// command returns the kbuild command file of obj, running `make <obj>` once
// in the tree when it does not exist yet.
func (c *compiler) command(ctx context.Context, obj string) (*cmdFile, error) {
	cmd, err := readCmdFile(c.tree, obj)
	if err == nil {
		return cmd, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(c.tree, strings.TrimSuffix(obj, ".o")+".c")); err != nil {
		return nil, fmt.Errorf("no source for %s in %s: %w", obj, c.tree, err)
	}
	unlock, err := flock.Lock(ctx, filepath.Join(c.tree, ".klpkit-make.lock"), 0o644)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if cmd, err := readCmdFile(c.tree, obj); err == nil {
		return cmd, nil // another build made it while we waited
	}
	c.log.Debug("kbuild records the command", "object", obj, "args", c.makeArgs)
	k := c.kbuild
	if k == nil {
		k = &kbuildTree{dir: c.tree, log: c.log}
	}
	if out, err := k.make(ctx, c.makeArgs, []string{obj}); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("make %s: %w\n%s", obj, err, lastLines(string(out), 20))
	}
	return readCmdFile(c.tree, obj)
}

// compileSteps turns the recorded command of an object into the commands
// that build it at out: the compiler call with the section flags, then
// objtool, as kbuild runs them. The compiler is the real one behind any
// wrapper the tree was built through (wrapper.go). Other steps (genksyms
// for CRCs) do not change the code and are left out. With an overlay, the
// source and any header the overlay holds come from there, while __FILE__
// strings and debug paths keep their tree-relative form, so unchanged code
// compiles to the same bytes.
func compileSteps(cmd *cmdFile, out string, ov *overlay) ([][]string, error) {
	var steps [][]string
	var cc []string
	for _, step := range cmd.Steps {
		// Older kbuilds wrap recordmcount in "if ...; then ...; fi".
		if step[0] == "then" && len(step) > 1 {
			step = step[1:]
		}
		switch {
		case cc == nil && slices.Contains(step, "-c") && slices.Contains(step, "-o"):
			cc = step
		case isTool(step[0], "objtool") || isTool(step[0], "recordmcount"):
			if len(step) < 2 || step[len(step)-1] != cmd.Object {
				return nil, fmt.Errorf("%s step of %s does not end with the object", path.Base(step[0]), cmd.Object)
			}
			s := slices.Clone(step)
			s[len(s)-1] = out
			steps = append(steps, s)
		}
	}
	if cc == nil {
		return nil, fmt.Errorf("no compiler step in the kbuild command of %s", cmd.Object)
	}
	src := cmd.Source
	if src == "" {
		src = strings.TrimSuffix(cmd.Object, ".o") + ".c"
	}
	prefix, cc, err := realCompileStep(cmd.Object, cc)
	if err != nil {
		return nil, err
	}
	args := append(prefix, cc[0])
	args = append(args, sectionFlags...)
	if ov != nil {
		inc, err := patchIncludeDir(ov) // kpatch-macros.h for the patch
		if err != nil {
			return nil, err
		}
		// The tree as "." keeps where it is out of the patch object's
		// debug information, hence out of the module; GCC tries the last
		// map first, so the overlay's comes after. GCC splits the option
		// at its first '=': a tree path holding one is left as it is.
		for _, root := range treeRoots(ov.tree) {
			if !strings.Contains(root, "=") {
				args = append(args, "-fdebug-prefix-map="+root+"=.")
			}
		}
		args = append(args, "-fmacro-prefix-map="+ov.dir+"/=", "-fdebug-prefix-map="+ov.dir+"/=",
			"-iquote", path.Dir(src), "-I"+inc)
	}
	sawSource := false
	for i := 1; i < len(cc); i++ {
		a := cc[i]
		switch {
		case strings.HasPrefix(a, "-Wp,-MMD,") || strings.HasPrefix(a, "-Wp,-MD,"):
			continue // the dependency file belongs to kbuild's own build
		case a == "-o" && i+1 < len(cc):
			args = append(args, "-o", out)
			i++
			continue
		case a == src || a == "./"+src:
			sawSource = true
			if ov != nil {
				a = ov.path(src)
			}
		case ov != nil && a == "-include" && i+1 < len(cc):
			f := strings.TrimPrefix(cc[i+1], "./")
			if ov.has(f) {
				args = append(args, a, ov.path(f))
				i++
				continue
			}
		case ov != nil && strings.HasPrefix(a, "-I") && len(a) > 2:
			dir := strings.TrimPrefix(strings.TrimPrefix(a, "-I"), "./")
			if st, err := os.Stat(ov.path(dir)); err == nil && st.IsDir() {
				args = append(args, "-I"+ov.path(dir))
			}
		}
		args = append(args, a)
	}
	if !sawSource {
		return nil, fmt.Errorf("the kbuild command of %s does not compile %s", cmd.Object, src)
	}
	return append([][]string{args}, steps...), nil
}

// isTool reports whether argv0 runs the kbuild tool name.
func isTool(argv0, name string) bool { return argv0 == name || strings.HasSuffix(argv0, "/"+name) }

// run executes the steps in the tree.
func (c *compiler) run(ctx context.Context, obj string, steps [][]string) error {
	for _, s := range steps {
		c.log.Debug("compile", "object", obj, "argv", s)
		cmd := exec.CommandContext(ctx, s[0], s[1:]...)
		cmd.WaitDelay = waitDelay
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		done, err := c.root.setup(cmd, c.as, c.tree)
		if err != nil {
			return err
		}
		err = c.root.run(cmd)
		done()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s: %w\n%s", filepath.Base(s[0]), err, lastLines(out.String(), 30))
		}
	}
	return nil
}
