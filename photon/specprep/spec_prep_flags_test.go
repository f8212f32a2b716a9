// SPDX-License-Identifier: Apache-2.0

package specprep

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// %patch and %autopatch options go through one parser: "-X", "-XN" and
// "-X N", switches, a bare number for %patch, and the same refusals.
func TestParsePatchFlags(t *testing.T) {
	patch := patchFlags{switches: "RsE", numbers: "pPF", bare: 'P'}
	auto := patchFlags{switches: "vq", numbers: "pmM"}
	for _, tc := range []struct {
		directive string
		flags     patchFlags
		args      string
		want      string // the options seen, or the error
	}{
		{"%patch", patch, "-p1 -R -F 2 7", "p1 R F2 P7"},
		{"%patch", patch, "-P 3 -s -E", "P3 s E"},
		{"%patch", patchFlags{switches: "RsE", numbers: "pPF"}, "7", `error: %patch option "7" is not supported`},
		{"%patch", patch, "-Z1", `error: %patch option "-Z1" is not supported`},
		{"%patch", patch, "-p", `error: %patch -p needs a value`},
		{"%patch", patch, "-px", `error: %patch -p "x": not a number`},
		{"%patch", patch, "seven", `error: %patch -P "seven": not a number`},
		{"%patch", patch, "-Rx", `error: %patch option "-Rx" is not supported`},
		{"%autopatch", auto, "-p1 -m301 -M 717 -v", "p1 m301 M717 v"},
		{"%autopatch", auto, "-F2", `error: %autopatch option "-F2" is not supported`},
		{"%autopatch", auto, "-m -1", `error: %autopatch -m "-1": not a number`},
	} {
		t.Run(tc.directive+" "+tc.args, func(t *testing.T) {
			r := &prepRunner{spec: &Spec{File: "linux.spec"}}
			var seen []string
			err := r.parsePatchFlags(SpecLine{Line: 9, Text: tc.directive + " " + tc.args}, tc.directive, strings.Fields(tc.args), tc.flags, func(flag byte, n int) {
				if n < 0 {
					seen = append(seen, string(flag))
				} else {
					seen = append(seen, fmt.Sprintf("%c%d", flag, n))
				}
			})
			if want, ok := strings.CutPrefix(tc.want, "error: "); ok {
				require.Error(t, err)
				assert.Contains(t, err.Error(), want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, strings.Join(seen, " "))
		})
	}
}
