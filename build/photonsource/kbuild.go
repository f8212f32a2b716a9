// SPDX-License-Identifier: Apache-2.0

package photonsource

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/asuser"
	"github.com/klpkit/klpkit/internal/atomicfile"
	"github.com/klpkit/klpkit/internal/flock"
	"github.com/klpkit/klpkit/internal/procgroup"
)

// Build modes, as the marker file records them.
const (
	modePrepare = "modules_prepare"
	modeFull    = "vmlinux modules"
)

// kbuild runs make in the tree once: a full build (kpatch-build's, for
// Module.symvers and the modules) or, with a known Module.symvers, only
// modules_prepare. A marker written afterwards lets later runs skip it; a
// full build also satisfies a later prepare-only run. A lock keeps two
// runs from building the same tree at once.
func (s *Source) kbuild(ctx context.Context, tree, mode string) error {
	if done(tree, mode) {
		return nil
	}
	unlock, err := flock.Lock(ctx, tree+".kbuild.lock", 0o644)
	if err != nil {
		return fmt.Errorf("photonsource: %w", err)
	}
	defer unlock()
	if done(tree, mode) { // another run finished while we waited
		return nil
	}
	if err := os.Remove(markerFile(tree)); err != nil && !os.IsNotExist(err) {
		return err
	}
	s.progress(StepKbuild, fmt.Sprintf("running make %s in %s (once per kernel)", mode, tree))
	if err := s.make(ctx, tree, "olddefconfig"); err != nil {
		return err
	}
	if err := s.make(ctx, tree, strings.Fields(mode)...); err != nil {
		return err
	}
	return atomicfile.WriteFile(markerFile(tree), []byte(mode+"\n"), 0o644)
}

// done reports whether an earlier run finished mode (or a full build).
func done(tree, mode string) bool {
	data, err := os.ReadFile(markerFile(tree))
	if err != nil {
		return false
	}
	got := strings.TrimSpace(string(data))
	return got == mode || got == modeFull
}

// make runs make with targets in tree; a failure carries the output's tail.
func (s *Source) make(ctx context.Context, tree string, targets ...string) error {
	prog := s.Make
	if prog == "" {
		prog = "make"
	}
	args := append([]string{"-j" + strconv.Itoa(s.jobs())}, s.MakeArgs...)
	args = append(args, targets...)
	s.log().Debug("run", "dir", tree, "cmd", prog+" "+strings.Join(args, " "), "user", s.as.String())
	cmd := exec.CommandContext(ctx, prog, args...)
	procgroup.StopOnCancel(cmd, 5*time.Second)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if s.root != nil {
		err := s.startInRoot(cmd, tree)
		if err == nil {
			err = cmd.Wait()
		}
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &MakeError{Dir: tree, Targets: targets, Output: tail(out.String(), 20), Err: fmt.Errorf("in toolchain root %s: %w", s.root.Dir, err)}
	}
	// In the tree (not make -C): the build user may not pass through the
	// directories above it.
	done, err := asuser.Setup(cmd, s.as, tree)
	if err != nil {
		return &MakeError{Dir: tree, Targets: targets, Err: err}
	}
	err = cmd.Run()
	done()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &MakeError{Dir: tree, Targets: targets, Output: tail(out.String(), 20), Err: err}
}

// MakeError is a failed make run in the kernel tree.
type MakeError struct {
	Dir     string   `json:"dir"`
	Targets []string `json:"targets"`
	Output  string   `json:"output"` // the last lines of make's output
	Err     error    `json:"err"`
}

func (e *MakeError) Error() string {
	return fmt.Sprintf("photonsource: make %s in %s: %v\n%s", strings.Join(e.Targets, " "), e.Dir, e.Err, e.Output)
}

func (e *MakeError) Unwrap() error { return e.Err }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// MarshalJSON writes Err as its message and an empty Targets as [].
func (e MakeError) MarshalJSON() ([]byte, error) {
	type plain MakeError
	p := plain(e)
	if p.Targets == nil {
		p.Targets = []string{}
	}
	msg := ""
	if e.Err != nil {
		msg = e.Err.Error()
	}
	return json.Marshal(struct {
		plain
		Err string `json:"err"`
	}{p, msg})
}
