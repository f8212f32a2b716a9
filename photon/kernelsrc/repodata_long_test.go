// SPDX-License-Identifier: Apache-2.0

package kernelsrc

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A long description (2 MiB, over the old 1 MiB token bound) is no reason
// to refuse a list; one over the bound is refused naming the package and
// the element.
func TestParsePrimaryLongDescription(t *testing.T) {
	pkg := func(name, desc string) string {
		return `<package type="rpm"><name>` + name + `</name><arch>src</arch><version epoch="0" ver="1" rel="1"/>` +
			`<checksum type="sha256" pkgid="YES">` + strings.Repeat("ab", 32) + `</checksum>` +
			`<description>` + desc + `</description><size package="9"/><location href="` + name + `.rpm"/></package>`
	}
	long := `<metadata>` + pkg("a", strings.Repeat("changes &amp; more\n", (2<<20)/18)) + pkg("b", "short") + `</metadata>`
	pkgs, err := ParsePrimary(strings.NewReader(long), nil)
	require.NoError(t, err)
	require.Len(t, pkgs, 2)
	assert.Equal(t, "b", pkgs[1].Name)

	huge := `<metadata>` + pkg("big", strings.Repeat("x", maxPrimaryToken+64<<10)) + `</metadata>`
	_, err = ParsePrimary(strings.NewReader(huge), nil)
	require.ErrorIs(t, err, ErrBadRepodata)
	assert.Contains(t, err.Error(), `package "big": <description>`)
	assert.Contains(t, err.Error(), "longer than 16 MiB")
}
