// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// configOption is one line of a config fragment: CONFIG_X=value, or
// "# CONFIG_X is not set" (Value "").
type configOption struct {
	Name, Value string
	Line        int
}

var (
	configSet   = regexp.MustCompile(`^(CONFIG_[A-Za-z0-9_]+)=(.*)$`)
	configUnset = regexp.MustCompile(`^# (CONFIG_[A-Za-z0-9_]+) is not set$`)
)

// parseConfig reads the options of a .config or a fragment; other comment
// lines and blank lines are skipped, anything else is an error naming file.
func parseConfig(file string, data []byte) ([]configOption, error) {
	var opts []configOption
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch m, u := configSet.FindStringSubmatch(line), configUnset.FindStringSubmatch(line); {
		case m != nil:
			opts = append(opts, configOption{Name: m[1], Value: m[2], Line: n})
		case u != nil:
			opts = append(opts, configOption{Name: u[1], Line: n})
		case line == "" || strings.HasPrefix(line, "#"):
		default:
			return nil, fmt.Errorf("photonlab: %s:%d: not a kernel config line: %q", file, n, line)
		}
	}
	return opts, sc.Err()
}

// ConfigMismatchError lists the fragment's options that the final .config
// does not have as asked (Kconfig dropped them: a missing dependency or a
// renamed symbol).
type ConfigMismatchError struct {
	Fragment string
	Options  []string // "CONFIG_X: want y, got not set"
}

func (e *ConfigMismatchError) Error() string {
	return fmt.Sprintf("photonlab: %d option(s) of %s did not land in the .config:\n  %s",
		len(e.Options), e.Fragment, strings.Join(e.Options, "\n  "))
}

// checkConfig verifies that every option of the fragment holds in config
// ("n" and "is not set" are the same).
func checkConfig(fragmentFile string, fragment, config []byte) error {
	want, err := parseConfig(fragmentFile, fragment)
	if err != nil {
		return err
	}
	have, err := parseConfig(".config", config)
	if err != nil {
		return err
	}
	got := map[string]string{}
	for _, o := range have {
		got[o.Name] = o.Value
	}
	norm := func(v string) string {
		if v == "" || v == "n" {
			return "not set"
		}
		return v
	}
	var bad []string
	for _, o := range want {
		if norm(got[o.Name]) != norm(o.Value) {
			bad = append(bad, fmt.Sprintf("%s (line %d): want %s, got %s", o.Name, o.Line, norm(o.Value), norm(got[o.Name])))
		}
	}
	if len(bad) > 0 {
		return &ConfigMismatchError{Fragment: fragmentFile, Options: bad}
	}
	return nil
}

// setLocalVersion does what the spec's %prep sed does to the config.
func setLocalVersion(config []byte, localVersion string) ([]byte, error) {
	const empty = `CONFIG_LOCALVERSION=""`
	if !bytes.Contains(config, []byte("\n"+empty+"\n")) {
		return nil, fmt.Errorf("photonlab: the config has no %s line for the spec's sed to rewrite", empty)
	}
	return bytes.Replace(config, []byte("\n"+empty+"\n"), []byte("\n"+fmt.Sprintf("CONFIG_LOCALVERSION=%q", localVersion)+"\n"), 1), nil
}

// makeConfig makes a flavor config in a scratch build directory work:
// allnoconfig, the fragments merged in order with merge_config.sh,
// olddefconfig (make run by kb, with the kernel's compiler: Kconfig
// tests it); every fragment's options are then checked. The result has
// CONFIG_LOCALVERSION="" as Photon's config files do.
func makeConfig(ctx context.Context, r *runner, kb kbuild, tree, work string, fragmentFiles ...string) ([]byte, error) {
	if err := os.RemoveAll(work); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	mk := []string{"-s", "O=" + work}
	if err := kb.make(ctx, tree, nil, append(mk, "allnoconfig")...); err != nil {
		return nil, err
	}
	merge := append([]string{"scripts/kconfig/merge_config.sh", "-m", "-O", work, filepath.Join(work, ".config")}, fragmentFiles...)
	if err := r.run(ctx, tree, nil, "bash", merge...); err != nil {
		return nil, err
	}
	if err := kb.make(ctx, tree, nil, append(mk, "olddefconfig")...); err != nil {
		return nil, err
	}
	config, err := os.ReadFile(filepath.Join(work, ".config"))
	if err != nil {
		return nil, err
	}
	for _, f := range fragmentFiles {
		fragment, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if err := checkConfig(f, fragment, config); err != nil {
			return nil, err
		}
	}
	return config, nil
}

// kbuildTools are the compilers of every lab kernel build: gcc-12 is
// Debian's compiler for 6.1 and minbase has no plain gcc for host tools.
var kbuildTools = []string{"CC=gcc-12", "HOSTCC=gcc-12"}
