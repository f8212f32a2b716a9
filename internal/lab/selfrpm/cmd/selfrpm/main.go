// SPDX-License-Identifier: Apache-2.0

// Command selfrpm builds klpkit's commands for Photon OS and packages them
// as RPMs (make rpms):
//
//	go run ./internal/lab/selfrpm/cmd/selfrpm -o rpms [-key signing.asc] [-dists ph4,ph5]
//
// Run it in klpkit's checkout. The build time is SOURCE_DATE_EPOCH when set,
// else the commit's time, so two runs on one commit give the same bytes.
// The version is the tag (vX.Y.Z) on the commit, else 0 with a snapshot
// release naming the commit's time and hash (".dirty" with uncommitted
// changes).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/klpkit/klpkit/internal/lab/selfrpm"
	"github.com/klpkit/klpkit/rpmpkg"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "selfrpm:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("selfrpm", flag.ContinueOnError)
	out := fs.String("o", "rpms", "directory to write the packages to")
	key := fs.String("key", "", "OpenPGP private key (armored or binary) to sign with; empty = unsigned")
	passFile := fs.String("passphrase-file", "", "file whose first line is the key's passphrase (as gpg --passphrase-file)")
	dists := fs.String("dists", strings.Join(selfrpm.DefaultDists, ","), "Photon dist tags")
	if err := fs.Parse(args); err != nil {
		return err
	}
	buildTime, err := sourceDate()
	if err != nil {
		return err
	}
	version, release, err := versionOf(buildTime)
	if err != nil {
		return err
	}
	opts := selfrpm.Options{Version: version, Release: release, BuildTime: buildTime, Dists: strings.Split(*dists, ",")}
	if *key != "" {
		if opts.Signer, err = signer(*key, *passFile, buildTime); err != nil {
			return err
		}
	}
	tmp, err := os.MkdirTemp("", "klpkit-selfrpm-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var in selfrpm.Inputs
	for _, c := range []struct {
		pkg string
		dst *[]byte
	}{{"./examples/kpatch", &in.Kpatch}, {"./examples/kpatch-build", &in.KpatchBuild}, {"./examples/auto_livepatch", &in.AutoLivepatch}} {
		if *c.dst, err = build(c.pkg, tmp); err != nil {
			return err
		}
	}
	if in.Unit, err = os.ReadFile("examples/kpatch/kpatch.service"); err != nil {
		return err
	}
	if in.License, err = os.ReadFile("LICENSE"); err != nil {
		return err
	}
	files, err := selfrpm.WriteDir(*out, in, opts)
	for _, f := range files {
		fmt.Println(f)
	}
	return err
}

// build compiles a command as Photon runs it: static, linux/amd64, with
// no build paths (-trimpath) so the binary depends only on the commit, and
// the commit stamped in (-buildvcs=true over any GOFLAGS=-buildvcs=false),
// which --version prints.
func build(pkg, dir string) ([]byte, error) {
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=true", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build %s: %w", pkg, err)
	}
	return os.ReadFile(bin)
}

func git(args ...string) (string, error) {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out)), nil
}

func sourceDate() (time.Time, error) {
	if v := os.Getenv("SOURCE_DATE_EPOCH"); v != "" {
		return rpmpkg.ParseSourceDateEpoch(v)
	}
	ct, err := git("log", "-1", "--format=%ct")
	if err != nil {
		return time.Time{}, err
	}
	return rpmpkg.ParseSourceDateEpoch(ct)
}

// versionOf is X.Y.Z-1 on a tagged commit, else 0-0.<time>.git<hash>: a
// snapshot release that sorts by commit time, below any tagged release.
func versionOf(at time.Time) (version, release string, err error) {
	if tag, err := git("describe", "--tags", "--exact-match", "--match", "v[0-9]*"); err == nil {
		return strings.ReplaceAll(strings.TrimPrefix(tag, "v"), "-", "~"), "1", nil
	}
	hash, err := git("rev-parse", "--short=12", "HEAD")
	if err != nil {
		return "", "", err
	}
	release = "0." + at.UTC().Format("20060102150405") + ".git" + hash
	// Uncommitted changes are in the binaries (Go stamps vcs.modified):
	// say so in the name too.
	if err := exec.Command("git", "diff", "--quiet", "HEAD", "--").Run(); err != nil {
		release += ".dirty"
	}
	return "0", release, nil
}

func signer(keyFile, passFile string, at time.Time) (rpmpkg.Signer, error) {
	f, err := os.Open(keyFile)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	defer f.Close()
	opts := &rpmpkg.SignerOptions{Time: at}
	if passFile != "" {
		if opts.Passphrase, err = rpmpkg.ReadPassphraseFile(passFile); err != nil {
			return nil, err
		}
	}
	s, err := rpmpkg.NewOpenPGPSigner(f, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	return s, nil
}
