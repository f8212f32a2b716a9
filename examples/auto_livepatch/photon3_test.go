// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klpkit/klpkit/build"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPhoton3NonReplace: every way auto_livepatch reaches a Photon 3.0
// kernel (4.19, no atomic replace) builds and checks a non-replace module;
// it says it turned -R on only when the command line did not ask for it.
// Photon 4.0 and 5.0 keep replace unless -R is given.
func TestPhoton3NonReplace(t *testing.T) {
	const forced = "Photon 3.0: kernel 4.19 has no atomic replace; building a non-replace module (-R)\n"
	for _, tc := range []struct {
		name      string
		uname     string // the running kernel, for runs without -k
		args      []string
		noReplace bool
		said      bool     // the forced line
		stdout    []string // also in stdout
	}{
		{name: "generic", args: []string{"-k", "4.19.325-1.ph3"}, noReplace: true, said: true},
		{name: "aws", args: []string{"-k", "4.19.325-1.ph3-aws"}, noReplace: true, said: true},
		{name: "rt", args: []string{"-k", "4.19.247-rt108-10.ph3-rt"}, noReplace: true, said: true},
		{name: "rt without the rt version", args: []string{"-k", "4.19.247-11.ph3-rt"}, noReplace: true, said: true},
		{name: "running kernel", uname: "4.19.325-1.ph3", noReplace: true, said: true,
			stdout: []string{"No kernel version given: building native patch for 4.19.325-1.ph3\n"}},
		{name: "-R given", args: []string{"-k", "4.19.325-1.ph3", "-R"}, noReplace: true},
		{name: "--non-replace given", args: []string{"-k", "4.19.325-1.ph3-aws", "--non-replace"}, noReplace: true},
		{name: "rpm", args: []string{"-k", "4.19.325-1.ph3", "-n", "fix", "--rpm"}, noReplace: true, said: true,
			stdout: []string{"-1-1.ph3.x86_64.rpm"}},
		{name: "check", args: []string{"-k", "4.19.325-1.ph3", "-n", "fix", "--check"}, noReplace: true, said: true,
			stdout: []string{"fix.ko (non-replace: stacks on earlier livepatches)\n", "CHECK PASSED"}},
		{name: "photon 4.0", args: []string{"-k", "5.10.118-3.ph4"}},
		{name: "photon 4.0 check", args: []string{"-k", "5.10.118-3.ph4", "-n", "fix", "--check"},
			stdout: []string{"fix.ko (replaces earlier livepatches)\n"}},
		{name: "photon 5.0", args: []string{"-k", kernel}},
		{name: "photon 5.0 -R", args: []string{"-k", kernel, "-R"}, noReplace: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			if tc.uname != "" {
				c.a.uname = func() (string, error) { return tc.uname, nil }
			}
			var checked *build.Options
			c.a.check = func(ctx context.Context, o build.Options) (*build.Plan, error) {
				checked = &o
				// Replace as build.Check reports it: from the options.
				return &build.Plan{Release: "r", Name: o.Name, Module: filepath.Join(o.OutputDir, o.Name+".ko"), Replace: !o.NoReplace,
					Changed: []string{}, Objects: []string{}, FullBuildHeaders: []string{}, Warnings: []string{}}, nil
			}
			args := append([]string{"-p", c.patch, "-o", t.TempDir()}, tc.args...)
			require.NoError(t, c.run(args...), c.err.String())
			got := c.got
			if got == nil {
				got = checked
			}
			require.NotNil(t, got, "built or checked")
			assert.Equal(t, tc.noReplace, got.NoReplace)
			assert.Equal(t, tc.said, strings.Contains(c.out.String(), forced), "the forced line in:\n%s", c.out.String())
			assert.LessOrEqual(t, strings.Count(c.out.String(), forced), 1)
			for _, want := range tc.stdout {
				assert.Contains(t, c.out.String(), want)
			}
			assert.NotContains(t, c.err.String(), "ERROR")
			assert.NotContains(t, c.err.String(), "WARNING")
		})
	}
}
