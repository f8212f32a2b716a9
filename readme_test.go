// SPDX-License-Identifier: Apache-2.0

package klpkit_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/internal/lab/vmtest"
)

// readmeMarker, on the line before a ```sh fence, marks a README block that
// TestREADMELabCommands runs as written.
const readmeMarker = "<!-- ci: readme_test.go runs this block as written -->"

type readmeBlock struct {
	line int // line of the opening fence
	text string
}

// readmeBlocks returns the README's sh blocks and whether each is marked.
func readmeBlocks(t *testing.T) (marked, unmarked []readmeBlock) {
	t.Helper()
	f, err := os.Open("README.md")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	var (
		n, start     int
		in, isMark   bool
		prevNonBlank string
		body         strings.Builder
	)
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case !in && line == "```sh":
			in, start, isMark = true, n, prevNonBlank == readmeMarker
			body.Reset()
		case in && line == "```":
			in = false
			b := readmeBlock{line: start, text: body.String()}
			if isMark {
				marked = append(marked, b)
			} else {
				unmarked = append(unmarked, b)
			}
		case in:
			body.WriteString(line + "\n")
		}
		if strings.TrimSpace(line) != "" {
			prevNonBlank = strings.TrimSpace(line)
		}
	}
	require.NoError(t, sc.Err())
	require.False(t, in, "README.md ends inside a code block")
	return marked, unmarked
}

// labRelease is a literal Debian lab release: it goes stale when the lab
// follows Debian's next ABI.
var labRelease = regexp.MustCompile(`\b\d+\.\d+\.\d+-\d+-amd64\b`)

// TestREADMELabBlocksMarked: every README shell block that uses the lab is
// marked to run, except make deps and make test (CI's own steps), and none
// names the lab's release literally.
func TestREADMELabBlocksMarked(t *testing.T) {
	marked, unmarked := readmeBlocks(t)
	require.GreaterOrEqual(t, len(marked), 2, "the quick start and the kpatch-build example")
	for _, b := range marked {
		assert.NotRegexp(t, labRelease, b.text, "README.md:%d names the lab's release literally; use klplab info", b.line)
	}
	for _, b := range unmarked {
		usesLab := strings.Contains(b.text, "klpkit/lab") || strings.Contains(b.text, "klplab") ||
			regexp.MustCompile(`\bmake\b.*\b(lab|demo)\b`).MatchString(b.text) || labRelease.MatchString(b.text)
		assert.False(t, usesLab, "README.md:%d uses the lab but is not marked to run in CI:\n%s", b.line, b.text)
	}
}

// TestREADMELabCommands runs the README's marked blocks with bash, from the
// checkout, as a user would after `make lab`; the CLIs the README installs
// with go install are built from this checkout and put first on PATH.
func TestREADMELabCommands(t *testing.T) {
	vmtest.RequireLab(t)
	marked, _ := readmeBlocks(t)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()

	bin := t.TempDir()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/kpatch-build", "./examples/kpatch", "./examples/auto_livepatch")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	if _, err := os.Stat("out"); errors.Is(err, os.ErrNotExist) {
		t.Cleanup(func() { os.RemoveAll("out") }) // the example's -o out
	}

	for _, b := range marked {
		t.Run(strings.Fields(b.text)[0]+"@README.md:"+strconv.Itoa(b.line), func(t *testing.T) {
			start := time.Now()
			cmd := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", b.text)
			cmd.Env = append(os.Environ(), "PATH="+bin+string(filepath.ListSeparator)+os.Getenv("PATH"))
			out, err := cmd.CombinedOutput()
			t.Logf("README.md:%d took %s", b.line, time.Since(start).Round(time.Second))
			require.NoError(t, err, "README.md:%d:\n%s\noutput:\n%s", b.line, b.text, tail(string(out), 60))
		})
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
