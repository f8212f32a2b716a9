// SPDX-License-Identifier: Apache-2.0

package kmod

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// LoadedModule is one line of /proc/modules.
type LoadedModule struct {
	Name   string   `json:"name"`
	Size   int      `json:"size"`
	Refcnt int      `json:"refcnt"`
	Deps   []string `json:"deps"`
	State  string   `json:"state"`  // Live, Loading, Unloading
	Taints string   `json:"taints"` // e.g. "OEK", empty when untainted
}

// Livepatch reports taint K: the module is a livepatch.
func (m LoadedModule) Livepatch() bool { return strings.ContainsRune(m.Taints, 'K') }

// Modules parses /proc/modules. The kernel lists the newest module first.
func (s *System) Modules() ([]LoadedModule, error) {
	data, err := os.ReadFile(s.procPath("modules"))
	if err != nil {
		return nil, err
	}
	return parseProcModules(data), nil
}

// parseProcModules skips lines it cannot read: the file is the kernel's.
func parseProcModules(data []byte) []LoadedModule {
	var out []LoadedModule
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		m := LoadedModule{Name: f[0], State: f[4]}
		m.Size, _ = strconv.Atoi(f[1])
		m.Refcnt, _ = strconv.Atoi(f[2])
		if f[3] != "-" {
			for _, d := range strings.Split(f[3], ",") {
				if d != "" {
					m.Deps = append(m.Deps, d)
				}
			}
		}
		if len(f) > 6 && strings.HasPrefix(f[6], "(") {
			m.Taints = strings.Trim(f[6], "()")
		}
		out = append(out, m)
	}
	return out
}
