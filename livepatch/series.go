// SPDX-License-Identifier: Apache-2.0

package livepatch

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ParseSeries reads a quilt series file (dir/series: one patch per line,
// optionally followed by -pN; '#' starts a comment) and parses its patches
// in order. A -pN on a line overrides opts.Strip for that patch.
func ParseSeries(dir string, opts *ParseOptions) ([]*Patch, error) {
	if opts == nil {
		opts = &ParseOptions{}
	}
	seriesPath := filepath.Join(dir, "series")
	data, err := os.ReadFile(seriesPath)
	if err != nil {
		return nil, fmt.Errorf("read quilt series: %w", err)
	}
	var all []*Patch
	// Split, not bufio.Scanner: its 64 KiB line limit made a long line an
	// error that named no line and matched no sentinel.
	for n, text := range strings.Split(string(data), "\n") {
		n++
		line, _, _ := strings.Cut(strings.TrimSuffix(text, "\r"), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		if !filepath.IsLocal(fields[0]) {
			return nil, &ParseError{Source: seriesPath, Line: n, Msg: fmt.Sprintf("patch name %q leaves the series directory", fields[0]), Err: ErrUnsafePath}
		}
		o := *opts
		for _, f := range fields[1:] {
			lvl, ok := strings.CutPrefix(f, "-p")
			p, err := strconv.Atoi(lvl)
			if !ok || err != nil || p < 0 || p > 16 {
				return nil, &ParseError{Source: seriesPath, Line: n, Msg: fmt.Sprintf("unsupported option %q (only -pN)", f), Err: ErrMalformedPatch}
			}
			o.Strip = StripP(p)
		}
		ps, err := ParseFiles([]string{filepath.Join(dir, fields[0])}, &o)
		if err != nil {
			return nil, err
		}
		all = append(all, ps...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("quilt series %s: %w", seriesPath, ErrNoPatches)
	}
	return all, nil
}
