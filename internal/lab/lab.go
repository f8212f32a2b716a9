// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/klpkit/klpkit/internal/atomicfile"
)

// ErrNotPrepared means the lab directory holds no complete lab: run `make lab`.
var ErrNotPrepared = errors.New("lab not prepared (run `make lab`)")

// manifestName is the file Prepare writes last; its presence means the lab is complete.
const manifestName = "lab.json"

// Lab is a prepared lab kernel: every path is absolute.
type Lab struct {
	Dir           string `json:"-"`              // the lab directory
	KernelRelease string `json:"kernel_release"` // uname -r of the lab kernel, e.g. 6.1.0-56-amd64
	Version       string `json:"version"`        // Debian package version, e.g. 6.1.192-2
	Vmlinuz       string `json:"vmlinuz"`        // bootable kernel image
	Config        string `json:"config"`         // the kernel's .config (from the headers: complete)
	Vmlinux       string `json:"vmlinux"`        // vmlinux with symbols and DWARF (from -dbg)
	SystemMap     string `json:"system_map"`     // the real System.map (from -dbg)
	HeadersDir    string `json:"headers_dir"`    // /lib/modules/<release>/build
	SourceDir     string `json:"source_dir"`     // prepared source tree; "" if not requested
	ModulesDir    string `json:"modules_dir"`    // GuestModules as under /lib/modules; "" in labs prepared before them
	// Generation is the kernel's generation; "" in labs prepared before
	// there were two means Bookworm61.
	Generation Generation `json:"generation,omitempty"`
	// ToolchainRoot is the toolchain root that kbuild runs in against this
	// kernel (see Make), holding HeadersDir at the same path (the lab
	// installs the root's headers on the host too); "" runs it on the host.
	ToolchainRoot string `json:"toolchain_root,omitempty"`
	// Compiler is the gcc kbuild uses as CC and HOSTCC; "" means gcc-12.
	Compiler string `json:"compiler,omitempty"`
}

// Open reads the lab prepared in dir and checks that its files still exist.
// It returns an error wrapping ErrNotPrepared when dir holds no complete lab.
func Open(dir string) (*Lab, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("lab directory %s: %w", dir, ErrNotPrepared)
	}
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	var l Lab
	if err := json.Unmarshal(data, &l); err != nil {
		return nil, fmt.Errorf("lab manifest %s: %w", filepath.Join(dir, manifestName), err)
	}
	l.Dir = dir
	for _, p := range l.paths() {
		if p.path == "" && p.optional {
			continue
		}
		if _, err := os.Stat(p.path); err != nil {
			return nil, fmt.Errorf("lab %s: %s missing (%v): %w", dir, p.what, err, ErrNotPrepared)
		}
	}
	return &l, nil
}

type labPath struct {
	what, path string
	optional   bool
}

func (l *Lab) paths() []labPath {
	return []labPath{
		{"vmlinuz", l.Vmlinuz, false},
		{"config", l.Config, false},
		{"vmlinux", l.Vmlinux, false},
		{"System.map", l.SystemMap, false},
		{"headers", l.HeadersDir, false},
		{"source tree", l.SourceDir, true},
		{"modules", l.ModulesDir, true},
		{"toolchain root", l.ToolchainRoot, true},
	}
}

// writeManifest records l in its directory atomically.
func (l *Lab) writeManifest() error {
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(l.Dir, manifestName), append(data, '\n'), 0o644)
}

// DirFromEnv returns the lab directory the make targets use:
// $KLPKIT_LAB_DIR, else $XDG_CACHE_HOME/klpkit/lab, else
// $HOME/.cache/klpkit/lab. Pass os.Getenv (commands and tests do).
func DirFromEnv(getenv func(string) string) string {
	if d := getenv("KLPKIT_LAB_DIR"); d != "" {
		return d
	}
	if d := getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "klpkit", "lab")
	}
	if d := getenv("HOME"); d != "" {
		return filepath.Join(d, ".cache", "klpkit", "lab")
	}
	return filepath.Join(os.TempDir(), "klpkit-lab")
}
