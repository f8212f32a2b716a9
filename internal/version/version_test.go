// SPDX-License-Identifier: Apache-2.0

package version

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "3f2a9c1d4b5e6f708192a3b4c5d6e7f8091a2b3c"},
		{Key: "vcs.time", Value: "2026-12-07T05:00:00Z"},
	}
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"go install @version", debug.BuildInfo{Main: debug.Module{Path: Module, Version: "v1.2.0"}}, "v1.2.0"},
		{"checkout", debug.BuildInfo{Main: debug.Module{Path: Module, Version: "(devel)"}, Settings: vcs},
			"devel (3f2a9c1d4b5e, 2026-12-07T05:00:00Z)"},
		{"checkout with changes", debug.BuildInfo{Main: debug.Module{Path: Module, Version: "(devel)"},
			Settings: append(vcs[:3:3], debug.BuildSetting{Key: "vcs.modified", Value: "true"})},
			"devel (3f2a9c1d4b5e, 2026-12-07T05:00:00Z, modified)"},
		// Go 1.24+ derives the main module's version from the checkout: a
		// pseudo-version says less than the commit, a clean tag is kept.
		{"checkout, pseudo-version", debug.BuildInfo{Main: debug.Module{Path: Module, Version: "v0.0.0-20261207050000-3f2a9c1d4b5e"}, Settings: vcs},
			"devel (3f2a9c1d4b5e, 2026-12-07T05:00:00Z)"},
		{"checkout with changes, pseudo-version", debug.BuildInfo{Main: debug.Module{Path: Module, Version: "v1.2.1-0.20261207050000-3f2a9c1d4b5e+dirty"},
			Settings: append(vcs[:3:3], debug.BuildSetting{Key: "vcs.modified", Value: "true"})},
			"devel (3f2a9c1d4b5e, 2026-12-07T05:00:00Z, modified)"},
		{"tagged checkout", debug.BuildInfo{Main: debug.Module{Path: Module, Version: "v1.2.0"}, Settings: vcs}, "v1.2.0"},
		{"no vcs (test binary, -buildvcs=false)", debug.BuildInfo{Main: debug.Module{Path: Module, Version: "(devel)"}}, "devel"},
		{"dependency of a program", debug.BuildInfo{Main: debug.Module{Path: "example.com/agent", Version: "v0.3.0"},
			Deps: []*debug.Module{{Path: "golang.org/x/sys", Version: "v0.30.0"}, {Path: Module, Version: "v1.4.1"}}}, "v1.4.1"},
		{"replaced by a version", debug.BuildInfo{Main: debug.Module{Path: "example.com/agent"},
			Deps: []*debug.Module{{Path: Module, Version: "v1.4.1", Replace: &debug.Module{Path: "example.com/fork", Version: "v1.4.2"}}}}, "v1.4.2"},
		// A directory replacement has no version: the program's own
		// checkout says nothing about klpkit's, so no commit either.
		{"replaced by a directory", debug.BuildInfo{Main: debug.Module{Path: "example.com/agent", Version: "(devel)"}, Settings: vcs,
			Deps: []*debug.Module{{Path: Module, Version: "v1.4.1", Replace: &debug.Module{Path: "../klpkit"}}}}, "devel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, FromBuildInfo(&tt.bi))
		})
	}
}

func TestLine(t *testing.T) {
	// A test binary's main module is klpkit, without VCS stamps.
	assert.Equal(t, "klpkit devel", Line())
	assert.True(t, strings.HasPrefix(Line(), "klpkit "))
}
