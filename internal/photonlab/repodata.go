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
	"os"
	"path/filepath"
	"time"
)

// repoPackage is one package file of a repository directory.
type repoPackage struct {
	Name, Arch, Version, Release string
	Href                         string // path relative to the repository directory
}

// writeRepodata writes repoDir/repodata/repomd.xml and a gzip primary list
// describing pkgs (their files must exist below repoDir), as createrepo
// does, with the checksums and sizes dnf/tdnf and package kernelsrc check.
func writeRepodata(repoDir string, pkgs []repoPackage, now time.Time) error {
	var primary bytes.Buffer
	primary.WriteString(xml.Header)
	fmt.Fprintf(&primary, "<metadata xmlns=\"http://linux.duke.edu/metadata/common\" xmlns:rpm=\"http://linux.duke.edu/metadata/rpm\" packages=\"%d\">\n", len(pkgs))
	for _, p := range pkgs {
		sum, size, err := fileDigest(filepath.Join(repoDir, filepath.FromSlash(p.Href)))
		if err != nil {
			return err
		}
		fmt.Fprintf(&primary, "<package type=\"rpm\">\n  <name>%s</name>\n  <arch>%s</arch>\n"+
			"  <version epoch=\"0\" ver=\"%s\" rel=\"%s\"/>\n  <checksum type=\"sha256\" pkgid=\"YES\">%s</checksum>\n"+
			"  <summary>Kernel</summary>\n  <size package=\"%d\" installed=\"0\" archive=\"0\"/>\n"+
			"  <location href=\"%s\"/>\n  <format><rpm:license>GPLv2</rpm:license></format>\n</package>\n",
			xmlText(p.Name), xmlText(p.Arch), xmlText(p.Version), xmlText(p.Release), sum, size, xmlText(p.Href))
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
