// SPDX-License-Identifier: Apache-2.0

package photonlab

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klpkit/klpkit/photon/kernelsrc"
)

// repo writes each flavor's spec, source, debuginfo and devel RPMs, and the
// repodata of their repository directories, in Photon's layout (devel RPMs
// in the updates repository, where Photon publishes its kernels after GA).
func (p *preparer) repo(ctx context.Context) error {
	start := time.Now()
	sum, err := fileSHA512(p.tarballPath())
	if err != nil {
		return err
	}
	if err := os.RemoveAll(p.l.RepoDir); err != nil {
		return err
	}
	dirs := map[string]bool{} // repository directories written
	var newest time.Time
	for _, fb := range p.flavors {
		var cert []byte
		certName := ""
		if fb.fk.SigningCert != "" {
			if cert, err = os.ReadFile(fb.fk.SigningCert); err != nil {
				return err
			}
			certName = TrustedCertSource
		}
		params, err := specParamsFor(fb.k, sum, p.patches, certName)
		if err != nil {
			return err
		}
		spec, err := renderSpec(filepath.Join(p.assets(), specTemplateName), params)
		if err != nil {
			return err
		}
		configName, err := fb.k.ConfigFile()
		if err != nil {
			return err
		}
		config, err := os.ReadFile(filepath.Join(p.l.Dir, "SOURCES", configName))
		if err != nil {
			return err
		}
		if err := writeFileAtomic(filepath.Join(p.l.Dir, "SOURCES", fb.k.Package()+".spec"), spec); err != nil {
			return err
		}
		// Package times follow the kernel build, so a rebuilt repository is identical.
		fi, err := os.Stat(fb.fk.Vmlinux)
		if err != nil {
			return err
		}
		buildTime := fi.ModTime().UTC().Truncate(time.Second)
		if buildTime.After(newest) {
			newest = buildTime
		}
		p.log.Info("writing source RPM", "file", filepath.Base(fb.fk.SourceRPM))
		if err := writeSourceRPM(fb.fk.SourceRPM, fb.k, sourceInputs{Spec: spec, Tarball: p.tarballPath(), Config: config, Patches: p.patches, TrustedCert: cert}, buildTime); err != nil {
			return err
		}
		p.log.Info("writing debuginfo RPM", "file", filepath.Base(fb.fk.DebuginfoRPM))
		if err := writeDebuginfoRPM(fb.fk.DebuginfoRPM, fb.k, fb.fk.Vmlinux, buildTime); err != nil {
			return err
		}
		p.log.Info("writing devel RPM", "file", filepath.Base(fb.fk.DevelRPM))
		if err := writeDevelRPM(fb.fk.DevelRPM, fb.k, fb.fk, p.l.Tree, buildTime); err != nil {
			return err
		}
		for _, kind := range []kernelsrc.PackageKind{kernelsrc.SourcePackage, kernelsrc.DebuginfoPackage, kernelsrc.DevelPackage} {
			dirs[kind.RepoPath(fb.k.Release())] = true
		}
	}
	for dir := range dirs {
		if err := writeRepodata(filepath.Join(p.l.RepoDir, dir), newest); err != nil {
			return err
		}
	}
	p.log.Info("repository ready", "dir", p.l.RepoDir, "took", time.Since(start).Round(time.Second))
	return nil
}

func fileSHA512(name string) (string, error) {
	f, err := os.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha512.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
