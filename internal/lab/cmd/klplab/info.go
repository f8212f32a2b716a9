// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"sort"
	"strings"

	"github.com/klpkit/klpkit/internal/lab"
)

// infoFields are what `klplab info FIELD` prints alone, for scripts and the
// README's examples: the lab kernel's release moves with Debian's, so
// commands name it through these, never literally.
func infoFields(l *lab.Lab) map[string]string {
	return map[string]string{
		"release":    l.KernelRelease,
		"version":    l.Version,
		"vmlinuz":    l.Vmlinuz,
		"config":     l.Config,
		"vmlinux":    l.Vmlinux,
		"system-map": l.SystemMap,
		"headers":    l.HeadersDir,
		"source":     l.SourceDir,
		"modules":    l.ModulesDir,
		// 5.10's kbuild runs in a toolchain root with the compiler named.
		"toolchain-root": l.ToolchainRoot,
		"compiler":       l.MakeArgs()[0][len("CC="):],
	}
}

// infoField returns one field of the lab, or an error naming the fields.
func infoField(l *lab.Lab, name string) (string, error) {
	fields := infoFields(l)
	v, ok := fields[name]
	if !ok {
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		sort.Strings(names)
		return "", usageError{fmt.Sprintf("klplab info: unknown field %q (one of %s)", name, strings.Join(names, ", "))}
	}
	if v == "" {
		return "", fmt.Errorf("the lab in %s has no %s: run `make lab`", l.Dir, name)
	}
	return v, nil
}
