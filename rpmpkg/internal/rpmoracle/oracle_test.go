// SPDX-License-Identifier: Apache-2.0

package rpmoracle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/cavaliergopher/rpm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/klpkit/klpkit/rpmpkg"
)

// TestMain is the oracle when DumpEnv is set: rpmpkg's tests run this
// binary on each package they compare.
func TestMain(m *testing.M) {
	if os.Getenv(DumpEnv) == "1" {
		raw, err := io.ReadAll(os.Stdin)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := json.NewEncoder(os.Stdout).Encode(dump(raw)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// dump reads raw with the oracle; a panic in it counts as an error (it
// trusts counts and indexes parallel tags unchecked).
func dump(raw []byte) (d Dump) {
	defer func() {
		if v := recover(); v != nil {
			d = Dump{Error: fmt.Sprintf("panic: %v", v)}
		}
	}()
	p, err := rpm.Read(bytes.NewReader(raw))
	if err != nil {
		return Dump{Error: err.Error()}
	}
	d = Dump{Signature: tags(p.Signature.Tags), Header: tags(p.Header.Tags)}
	info, err := json.Marshal(oracleInfo(p))
	if err != nil {
		return Dump{Error: err.Error()}
	}
	d.Info = info
	return d
}

func tags(in map[int]*rpm.Tag) map[int]Tag {
	out := make(map[int]Tag, len(in))
	for id, t := range in {
		v := Tag{Type: int(t.Type)}
		switch x := t.Value.(type) {
		case []byte:
			v.Bytes = x
		case []int64:
			v.Ints = x
		case []string:
			v.Strings = x
		}
		out[id] = v
	}
	return out
}

// oracleInfo fills rpmpkg.Info from the oracle's accessors, as rpmpkg did
// before it had its own decoder. Multi-language I18N strings are the one
// intended difference: the oracle joins every language, rpmpkg keeps the
// first (the C locale, what rpm -qi shows); test packages hold one.
func oracleInfo(p *rpm.Package) *rpmpkg.Info {
	hdr, sig := &p.Header, &p.Signature
	info := &rpmpkg.Info{
		Name: p.Name(), Version: p.Version(), Release: p.Release(), Epoch: p.Epoch(),
		Arch: p.Architecture(), OS: p.OperatingSystem(),
		Source: hdr.GetTag(1044) == nil, SourceRPM: p.SourceRPM(),
		Summary: p.Summary(), Description: p.Description(),
		License: p.License(), Vendor: p.Vendor(), URL: p.URL(), Packager: p.Packager(),
		Distribution: p.Distribution(), BuildHost: p.BuildHost(),
		PayloadFormat: p.PayloadFormat(), PayloadCompressor: p.PayloadCompression(),
		Scripts: rpmpkg.Scriptlets{
			PreTrans: hdr.GetTag(1151).String(), Pre: p.PreInstallScript(),
			Post: p.PostInstallScript(), PreUn: p.PreUninstallScript(),
			PostUn: p.PostUninstallScript(), PostTrans: hdr.GetTag(1152).String(),
		},
		// RSA and DSA header signatures, PGP and GPG header+payload ones.
		Signed:   sig.GetTag(268) != nil || sig.GetTag(267) != nil || sig.GetTag(1002) != nil || sig.GetTag(1005) != nil,
		Requires: deps(p.Requires()), Provides: deps(p.Provides()),
		Conflicts: deps(p.Conflicts()), Obsoletes: deps(p.Obsoletes()),
	}
	if g := p.Groups(); len(g) > 0 {
		info.Group = g[0]
	}
	if bt := hdr.GetTag(1006); bt != nil {
		info.BuildTime = time.Unix(bt.Int64(), 0).UTC()
	}
	for _, f := range p.Files() {
		info.Files = append(info.Files, rpmpkg.FileInfo{
			Name: f.Name(), Mode: f.Mode(), Size: f.Size(), Owner: f.Owner(), Group: f.Group(),
			MTime: f.ModTime().UTC(), Digest: f.Digest(), LinkTarget: f.Linkname(), Flags: rpmpkg.FileFlag(f.Flags()),
		})
	}
	sort.Slice(info.Files, func(i, j int) bool { return info.Files[i].Name < info.Files[j].Name })
	return info
}

func deps(list []rpm.Dependency) []string {
	var out []string
	for _, d := range list {
		s := d.Name()
		var op string
		switch d.Flags() & (rpm.DepFlagLesser | rpm.DepFlagGreater | rpm.DepFlagEqual) {
		case rpm.DepFlagLesser:
			op = "<"
		case rpm.DepFlagLesserOrEqual:
			op = "<="
		case rpm.DepFlagEqual:
			op = "="
		case rpm.DepFlagGreaterOrEqual:
			op = ">="
		case rpm.DepFlagGreater:
			op = ">"
		}
		if op != "" {
			v := d.Version()
			if d.Epoch() > 0 {
				v = fmt.Sprintf("%d:%s", d.Epoch(), v)
			}
			if d.Release() != "" {
				v += "-" + d.Release()
			}
			s += " " + op + " " + v
		}
		out = append(out, s)
	}
	return out
}

// TestDumpFixture checks the oracle side on an rpmbuild fixture, so that
// a broken oracle cannot make rpmpkg's comparisons pass vacuously.
func TestDumpFixture(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "rpmpkg", "fixture-gzip-1.0-1.ph5.x86_64.rpm"))
	require.NoError(t, err)
	d := dump(raw)
	require.Empty(t, d.Error)
	assert.Equal(t, []string{"fixture-gzip"}, d.Header[1000].Strings)
	assert.Equal(t, 6, d.Header[1000].Type)
	assert.NotEmpty(t, d.Signature[273].Strings, "header SHA256")
	var info rpmpkg.Info
	require.NoError(t, json.Unmarshal(d.Info, &info))
	assert.Equal(t, "x86_64", info.Arch)
	assert.NotEmpty(t, info.Files)
	assert.NotEmpty(t, dump([]byte("not an rpm")).Error)
}
