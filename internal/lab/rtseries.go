// SPDX-License-Identifier: Apache-2.0

package lab

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/klpkit/klpkit/build/toolchain"
	"github.com/klpkit/klpkit/internal/atomicfile"
)

// ErrRTTree: the rt series cannot be made into the rt kernel's tree, or
// the tree it made is not the rt kernel's (a check failed).
var ErrRTTree = errors.New("lab: not the rt kernel's source tree")

// rtSeriesFile records, beside the rt tree, what it was made from.
const rtSeriesFile = "rt-series.json"

// RTSeries says what the rt lab's source tree was made from.
type RTSeries struct {
	// Debian is the version of the linux source upload whose
	// debian/patches-rt was applied (not the kernel's own when the archive
	// no longer serves that).
	Debian string `json:"debian"`
	// RT is the tree's localversion-rt ("-rt64"), the rt version the
	// kernel's changelog last updated to.
	RT string `json:"rt"`
	// Applied counts the series' patches applied.
	Applied int `json:"applied"`
	// Skipped are the patches left out, with why and the files they touch.
	Skipped []RTSkipped `json:"skipped,omitempty"`
	// Headers counts the files of the rt headers package found equal.
	Headers int `json:"headers"`
}

// RTSkipped is a patch of the series the tree leaves out.
type RTSkipped struct {
	Patch string   `json:"patch"`
	Why   string   `json:"why"`
	Files []string `json:"files"`
}

// Inexact returns the files where the tree may differ from the rt
// kernel's: those of patches the kernel's series refreshed and the tree
// left out (dropped patches are upstream in the tree already).
func (s *RTSeries) Inexact() []string {
	var out []string
	for _, k := range s.Skipped {
		if strings.HasPrefix(k.Why, "refreshed") {
			out = append(out, k.Files...)
		}
	}
	return out
}

// RTSeries reads what an rt lab's tree was made from.
func (l *Lab) RTSeries() (*RTSeries, error) {
	data, err := os.ReadFile(filepath.Join(l.Dir, l.KernelRelease, rtSeriesFile))
	if err != nil {
		return nil, fmt.Errorf("lab %s: %w (prepare the rt lab's source again: klplab prepare --generation 6.1-rt): %w", l.Dir, err, ErrNotPrepared)
	}
	var s RTSeries
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("lab %s: %s: %w", l.Dir, rtSeriesFile, err)
	}
	return &s, nil
}

// changelogEntry is one upload in a Debian changelog: its version and its
// [rt] items (each a bullet with its continuation lines joined).
type changelogEntry struct {
	version string
	rt      []string
}

var changelogHead = regexp.MustCompile(`^linux \(([^)\s]+)\) `)

// parseChangelog reads the linux source package's changelog, newest
// upload first.
func parseChangelog(r io.Reader) ([]changelogEntry, error) {
	var out []changelogEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	item := -1 // index in the last entry's rt of the item being continued
	for sc.Scan() {
		line := sc.Text()
		if m := changelogHead.FindStringSubmatch(line); m != nil {
			out = append(out, changelogEntry{version: m[1]})
			item = -1
			continue
		}
		if len(out) == 0 {
			if strings.TrimSpace(line) != "" {
				return nil, fmt.Errorf("changelog: %q before the first upload", truncateLine(line))
			}
			continue
		}
		e := &out[len(out)-1]
		switch {
		case strings.HasPrefix(line, "  * [rt] "):
			e.rt = append(e.rt, strings.TrimPrefix(line, "  * [rt] "))
			item = len(e.rt) - 1
		case item >= 0 && strings.HasPrefix(line, "    ") && !strings.HasPrefix(strings.TrimSpace(line), "- "):
			e.rt[item] += " " + strings.TrimSpace(line)
		default:
			item = -1
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("changelog: no upload")
	}
	return out, nil
}

func truncateLine(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

var (
	rtUpdate  = regexp.MustCompile(`^Update to (\S+?-rt\d+):?$`)
	rtQuoted  = regexp.MustCompile(`^(Drop|Refresh) "(.+)"`)
	rtVersion = regexp.MustCompile(`-rt\d+$`)
)

// rtVersionOf returns the rt version ("-rt64") the changelog's newest
// "[rt] Update to X-rtN" names.
func rtVersionOf(entries []changelogEntry) (string, error) {
	for _, e := range entries {
		for _, it := range e.rt {
			if m := rtUpdate.FindStringSubmatch(it); m != nil {
				return rtVersion.FindString(m[1]), nil
			}
		}
	}
	return "", errors.New("changelog: no [rt] Update to <version>-rt<N>")
}

// seriesPatch is a patch of debian/patches-rt.
type seriesPatch struct {
	name    string
	subject string   // without its [PATCH n/m] prefix, blanks folded
	files   []string // the files it touches, without the a/ and b/ prefixes
}

var patchPrefix = regexp.MustCompile(`^\[PATCH[^\]]*\]\s*`)

// readSeriesPatch reads a patch's subject and the files it touches.
func readSeriesPatch(name string, data []byte) seriesPatch {
	p := seriesPatch{name: name}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if l == "" && p.subject != "" {
			break
		}
		if strings.HasPrefix(l, "Subject: ") {
			s := strings.TrimPrefix(l, "Subject: ")
			for j := i + 1; j < len(lines) && (strings.HasPrefix(lines[j], " ") || strings.HasPrefix(lines[j], "\t")); j++ {
				s += " " + strings.TrimSpace(lines[j])
			}
			p.subject = strings.Join(strings.Fields(patchPrefix.ReplaceAllString(s, "")), " ")
		}
	}
	seen := map[string]bool{}
	for _, l := range lines {
		for _, pre := range []string{"--- a/", "+++ b/"} {
			if f, ok := strings.CutPrefix(l, pre); ok {
				f, _, _ = strings.Cut(f, "\t")
				if !seen[f] {
					seen[f] = true
					p.files = append(p.files, f)
				}
			}
		}
	}
	return p
}

// planRTSeries decides which of series' patches the kernel's tree has,
// from the changelog's [rt] items of the uploads newer than the series'
// upload (newer: the entries before it). A dropped patch is left out; a
// refreshed one is left out only when every file it touches is another
// architecture's (the lab is amd64); any other change fails.
func planRTSeries(series []seriesPatch, newer []changelogEntry) (skip []RTSkipped, err error) {
	bySubject := map[string]int{}
	for i, p := range series {
		bySubject[p.subject] = i
	}
	for _, e := range newer {
		for _, it := range e.rt {
			m := rtQuoted.FindStringSubmatch(it)
			if m == nil {
				return nil, fmt.Errorf("%w: the kernel's upload %s changed its rt series in a way the lab cannot follow: [rt] %s", ErrRTTree, e.version, it)
			}
			subject := strings.Join(strings.Fields(m[2]), " ")
			i, ok := bySubject[subject]
			if !ok {
				return nil, fmt.Errorf("%w: upload %s: [rt] %s names no patch of the series", ErrRTTree, e.version, it)
			}
			p := series[i]
			switch m[1] {
			case "Drop":
				skip = append(skip, RTSkipped{Patch: p.name, Why: "dropped in " + e.version, Files: p.files})
			case "Refresh":
				for _, f := range p.files {
					if !strings.HasPrefix(f, "arch/") || strings.HasPrefix(f, "arch/x86/") {
						return nil, fmt.Errorf("%w: upload %s refreshed %s, which touches %s (an amd64 tree's file): the series of the kernel's own upload is needed", ErrRTTree, e.version, p.name, f)
					}
				}
				skip = append(skip, RTSkipped{Patch: p.name, Why: "refreshed in " + e.version + ", another architecture's files only", Files: p.files})
			}
			delete(bySubject, subject)
		}
	}
	return skip, nil
}

// rtSuites are where the linux source uploads are looked for.
var rtSuites = toolchain.Bookworm

// rtSeriesTarball finds the newest upload the changelog lists whose
// linux_<v>.debian.tar.xz the archive still serves, through the signed
// InRelease and Sources chain, and downloads it (kept in the lab's
// directory, checked against the index on reuse). It returns the file and
// the upload's position in entries.
func (p *preparer) rtSeriesTarball(ctx context.Context, entries []changelogEntry) (string, int, error) {
	keys, err := os.ReadFile(toolchain.DebianKeyring)
	if err != nil {
		return "", 0, fmt.Errorf("archive keys (debian-archive-keyring): %w", err)
	}
	ring, err := toolchain.ReadKeyring(keys)
	if err != nil {
		return "", 0, fmt.Errorf("archive keys %s: %w", toolchain.DebianKeyring, err)
	}
	d := &toolchain.Debian{Suites: rtSuites(), Keyring: ring, IndexCache: filepath.Join(p.cfg.Dir, "toolchain", "index")}
	listed, err := d.SourceFiles(ctx, "linux")
	if err != nil {
		return "", 0, fmt.Errorf("linux's source files: %w", err)
	}
	var tried []string
	for i, e := range entries {
		name := "linux_" + e.version + ".debian.tar.xz"
		ent, ok := listed[name]
		if !ok {
			tried = append(tried, e.version)
			if len(tried) == 30 {
				break // older uploads are too far from the kernel
			}
			continue
		}
		file := filepath.Join(p.cfg.Dir, "rt-series", name)
		if !sameSHA256(file, ent.SHA256) {
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				return "", 0, err
			}
			p.log.Info("fetching Debian's rt patch series", "url", ent.URL, "MB", fmt.Sprintf("%.1f", float64(ent.Size)/1e6))
			err := toolchain.Download(ctx, nil, ent, file)
			// The security archive's index can list an upload whose
			// files its pool no longer holds.
			var status *toolchain.HTTPStatusError
			if errors.As(err, &status) && status.Status == http.StatusNotFound {
				tried = append(tried, e.version+" (listed, 404)")
				continue
			}
			if err != nil {
				return "", 0, fmt.Errorf("%s: %w", name, err)
			}
		}
		if len(tried) > 0 {
			p.log.Info("the archive no longer serves the newer uploads' debian tarballs", "tried", strings.Join(tried, " "), "using", e.version)
		}
		return file, i, nil
	}
	return "", 0, fmt.Errorf("%w: no upload of linux the changelog lists has its debian tarball in %v (tried %s)", ErrRTTree, rtSuites(), strings.Join(tried, " "))
}

func sameSHA256(file, want string) bool {
	data, err := os.ReadFile(file)
	if err != nil {
		return false
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]) == want
}

// rtTree turns an unpacked linux-source tree into the rt kernel's tree
// and proves it (see rt.go), recording what it was made from.
func (p *preparer) rtTree(ctx context.Context, tree string) error {
	cl, err := os.Open(p.k.rtChangelog(p.cfg.Root))
	if err != nil {
		return fmt.Errorf("rt changelog: %w", err)
	}
	defer cl.Close()
	gz, err := gzip.NewReader(cl)
	if err != nil {
		return fmt.Errorf("rt changelog %s: %w", cl.Name(), err)
	}
	entries, err := parseChangelog(gz)
	if err != nil {
		return fmt.Errorf("%s: %w", cl.Name(), err)
	}
	if entries[0].version != p.k.Version {
		return fmt.Errorf("%w: %s is of linux %s, the kernel is %s", ErrRTTree, cl.Name(), entries[0].version, p.k.Version)
	}
	rt, err := rtVersionOf(entries)
	if err != nil {
		return fmt.Errorf("%s: %w", cl.Name(), err)
	}
	tarball, at, err := p.rtSeriesTarball(ctx, entries)
	if err != nil {
		return err
	}
	dir := filepath.Join(filepath.Dir(tree), "debian")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := p.run.run(ctx, filepath.Dir(tree), "tar", "-xJf", tarball, "--no-same-owner", "debian/patches-rt"); err != nil {
		return fmt.Errorf("%s: %w", tarball, err)
	}
	patches := filepath.Join(dir, "patches-rt")
	names, err := readSeries(filepath.Join(patches, "series"))
	if err != nil {
		return err
	}
	series := make([]seriesPatch, len(names))
	for i, n := range names {
		data, err := os.ReadFile(filepath.Join(patches, n))
		if err != nil {
			return fmt.Errorf("rt series: %w", err)
		}
		series[i] = readSeriesPatch(n, data)
	}
	skip, err := planRTSeries(series, entries[:at])
	if err != nil {
		return err
	}
	skipped := map[string]bool{}
	for _, s := range skip {
		skipped[s.Patch] = true
		p.log.Info("leaving out an rt patch", "patch", s.Patch, "why", s.Why)
	}
	rec := RTSeries{Debian: entries[at].version, Skipped: skip}
	p.log.Info("applying Debian's rt series", "upload", rec.Debian, "patches", len(names)-len(skip), "kernel", p.k.Version)
	for _, n := range names {
		if skipped[n] {
			continue
		}
		// As quilt push --fuzz=0 applies them.
		if err := p.run.run(ctx, tree, "patch", "-p1", "--fuzz=0", "--forward", "--batch", "--quiet", "--no-backup-if-mismatch", "-i", filepath.Join(patches, n)); err != nil {
			return fmt.Errorf("%w: rt patch %s of linux %s does not apply with no fuzz to linux-source %s: %w", ErrRTTree, n, rec.Debian, p.k.Version, err)
		}
		rec.Applied++
	}
	lv, err := os.ReadFile(filepath.Join(tree, "localversion-rt"))
	if err != nil {
		return fmt.Errorf("%w: the series made no localversion-rt: %w", ErrRTTree, err)
	}
	rec.RT = strings.TrimSpace(string(lv))
	if rec.RT != rt {
		return fmt.Errorf("%w: the series of linux %s is rt %s, the kernel's changelog last updated to %s", ErrRTTree, rec.Debian, rec.RT, rt)
	}
	headers := p.k.rtCommonHeaders(p.cfg.Root)
	if rec.Headers, err = compareRTHeaders(headers, tree); err != nil {
		return fmt.Errorf("rt headers: %w", err)
	}
	p.log.Info("the rt tree matches the rt headers", "files", rec.Headers, "rt", rec.RT)
	data, err := json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(p.kdir, rtSeriesFile), append(data, '\n'), 0o644)
}

// readSeries reads a quilt series file: one patch a line, # comments.
func readSeries(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rt series: %w", err)
	}
	var names []string
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) > 1 || strings.Contains(f[0], "/") || strings.HasPrefix(f[0], ".") {
			return nil, fmt.Errorf("rt series %s: unexpected line %q (the lab applies plain -p1 patches of the directory)", path, truncateLine(l))
		}
		names = append(names, f[0])
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("rt series %s: no patches", path)
	}
	return names, nil
}
