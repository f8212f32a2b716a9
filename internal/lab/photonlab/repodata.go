// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/klpkit/klpkit/rpmpkg"
)

// writeRepodata indexes every package below repoDir, as createrepo does:
// repodata/repomd.xml and a gzip primary list with each package's
// identity, checksum and size (which dnf, tdnf and package kernelsrc
// check), and the relations and file names a resolver reads (tdnf install
// kpatch finds the package that provides kpatch, and what that requires).
// Everything comes from the packages' headers and bytes, so the same
// packages give the same repodata.
func writeRepodata(repoDir string, now time.Time) error {
	var hrefs []string
	err := filepath.WalkDir(repoDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "repodata" {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".rpm") {
			rel, err := filepath.Rel(repoDir, path)
			if err != nil {
				return err
			}
			hrefs = append(hrefs, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("repository %s: %w", repoDir, err)
	}
	slices.Sort(hrefs)
	var primary bytes.Buffer
	primary.WriteString(xml.Header)
	fmt.Fprintf(&primary, "<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"%d\">\n", len(hrefs))
	for _, href := range hrefs {
		if err := writePrimaryPackage(&primary, repoDir, href); err != nil {
			return err
		}
	}
	primary.WriteString("</metadata>\n")

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(primary.Bytes())
	if err := zw.Close(); err != nil {
		return err
	}
	gzSum := sha256.Sum256(gz.Bytes())
	openSum := sha256.Sum256(primary.Bytes())
	name := hex.EncodeToString(gzSum[:]) + "-primary.xml.gz"
	dir := filepath.Join(repoDir, "repodata")
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, name), gz.Bytes()); err != nil {
		return err
	}
	repomd := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>%[1]d</revision>
  <data type="primary">
    <checksum type="sha256">%[2]s</checksum>
    <open-checksum type="sha256">%[3]s</open-checksum>
    <location href="repodata/%[4]s"/>
    <timestamp>%[1]d</timestamp>
    <size>%[5]d</size>
    <open-size>%[6]d</open-size>
  </data>
</repomd>
`, now.Unix(), hex.EncodeToString(gzSum[:]), hex.EncodeToString(openSum[:]), name, gz.Len(), primary.Len())
	return writeFileAtomic(filepath.Join(dir, "repomd.xml"), []byte(repomd))
}

// writePrimaryPackage writes the <package> entry of the package at href.
func writePrimaryPackage(w *bytes.Buffer, repoDir, href string) error {
	file := filepath.Join(repoDir, filepath.FromSlash(href))
	sum, size, err := fileDigest(file)
	if err != nil {
		return err
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	info, err := rpmpkg.Read(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("repository package %s: %w", file, err)
	}
	arch := info.Arch
	if info.Source {
		arch = "src"
	}
	var installed int64
	for _, fi := range info.Files {
		installed += fi.Size
	}
	fmt.Fprintf(w, "<package type=\"rpm\">\n  <name>%s</name>\n  <arch>%s</arch>\n"+
		"  <version epoch=\"%d\" ver=\"%s\" rel=\"%s\"/>\n  <checksum type=\"sha256\" pkgid=\"YES\">%s</checksum>\n"+
		"  <summary>%s</summary>\n  <description>%s</description>\n  <packager>%s</packager>\n  <url>%s</url>\n"+
		"  <time file=\"%d\" build=\"%d\"/>\n  <size package=\"%d\" installed=\"%d\" archive=\"0\"/>\n"+
		"  <location href=\"%s\"/>\n  <format>\n    <rpm:license>%s</rpm:license>\n    <rpm:vendor>%s</rpm:vendor>\n"+
		"    <rpm:group>%s</rpm:group>\n    <rpm:buildhost>%s</rpm:buildhost>\n    <rpm:sourcerpm>%s</rpm:sourcerpm>\n",
		xmlText(info.Name), xmlText(arch), info.Epoch, xmlText(info.Version), xmlText(info.Release), sum,
		xmlText(info.Summary), xmlText(info.Description), xmlText(info.Packager), xmlText(info.URL),
		info.BuildTime.Unix(), info.BuildTime.Unix(), size, installed,
		xmlText(href), xmlText(info.License), xmlText(info.Vendor), xmlText(info.Group), xmlText(info.BuildHost), xmlText(info.SourceRPM))
	for _, rel := range []struct {
		tag  string
		list []string
	}{{"provides", info.Provides}, {"requires", info.Requires}, {"conflicts", info.Conflicts}, {"obsoletes", info.Obsoletes}} {
		if err := writeRelations(w, rel.tag, rel.list); err != nil {
			return fmt.Errorf("repository package %s: %w", file, err)
		}
	}
	for _, fi := range info.Files {
		if !primaryFile(fi.Name) {
			continue
		}
		if fi.Mode.IsDir() {
			fmt.Fprintf(w, "    <file type=\"dir\">%s</file>\n", xmlText(fi.Name))
		} else {
			fmt.Fprintf(w, "    <file>%s</file>\n", xmlText(fi.Name))
		}
	}
	w.WriteString("  </format>\n</package>\n")
	return nil
}

// primaryFile says whether createrepo lists a file in primary.xml (the
// rest go to filelists, which tdnf fetches only for paths not found
// here): programs and /etc, what `tdnf install /usr/sbin/kpatch` asks for.
func primaryFile(name string) bool {
	return strings.HasPrefix(name, "/etc/") || strings.Contains(name, "bin/")
}

// rpmFlags are primary.xml's names of rpm's comparison operators.
var rpmFlags = map[string]string{"=": "EQ", "<": "LT", ">": "GT", "<=": "LE", ">=": "GE"}

// writeRelations writes the rpm:entry list of one relation tag from
// rpmpkg's "name [OP [E:]V[-R]]" strings. rpm's own rpmlib() features are
// left out, as createrepo does: they are no package's to provide.
func writeRelations(w *bytes.Buffer, tag string, rels []string) error {
	var entries []string
	for _, rel := range rels {
		fields := strings.Fields(rel)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "rpmlib(") {
			continue
		}
		entry := fmt.Sprintf("<rpm:entry name=\"%s\"", xmlText(fields[0]))
		switch len(fields) {
		case 1:
		case 3:
			flags, ok := rpmFlags[fields[1]]
			if !ok {
				return fmt.Errorf("%s %q: unknown operator %q", tag, rel, fields[1])
			}
			epoch, evr := "0", fields[2]
			if e, rest, ok := strings.Cut(evr, ":"); ok {
				epoch, evr = e, rest
			}
			ver, release, hasRelease := strings.Cut(evr, "-")
			entry += fmt.Sprintf(" flags=\"%s\" epoch=\"%s\" ver=\"%s\"", flags, xmlText(epoch), xmlText(ver))
			if hasRelease {
				entry += fmt.Sprintf(" rel=\"%s\"", xmlText(release))
			}
		default:
			return fmt.Errorf("%s %q is not name [OP version]", tag, rel)
		}
		entries = append(entries, "      "+entry+"/>\n")
	}
	if len(entries) == 0 {
		return nil
	}
	fmt.Fprintf(w, "    <rpm:%s>\n%s    </rpm:%s>\n", tag, strings.Join(entries, ""), tag)
	return nil
}

func xmlText(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// fileDigest returns a file's SHA-256 (hex) and size.
func fileDigest(name string) (string, int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
