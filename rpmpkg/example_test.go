// SPDX-License-Identifier: Apache-2.0

package rpmpkg_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"time"

	"github.com/klpkit/klpkit/kmod/kmodtest"
	"github.com/klpkit/klpkit/rpmpkg"
)

// Build a livepatch package the way auto_livepatch.sh --rpm does.
func ExampleBuild() {
	epoch, _ := rpmpkg.ParseSourceDateEpoch("1700000000") // the caller reads $SOURCE_DATE_EPOCH
	p := rpmpkg.Package{
		Name:    "livepatch-cve-2024-1234",
		Version: "1",
		Release: "1",
		Kernel:  "6.1.83-5.ph5", // the target `uname -r`; the module's vermagic must name it
		// The .ko build.Run wrote (ModulePath), here a stand-in: Build
		// refuses anything but a livepatch module for Kernel.
		Module: kmodtest.BuildModule(kmodtest.ModuleSpec{Name: "livepatch_cve_2024_1234",
			Vermagic: "6.1.83-5.ph5 SMP preempt mod_unload modversions ", Livepatch: true}),
		BuildTime: epoch,
	}
	var buf bytes.Buffer
	if err := rpmpkg.Build(&buf, p); err != nil {
		fmt.Println(err)
		return
	}
	name, _ := p.FileName()
	fmt.Println(name)
	info, _ := rpmpkg.Read(&buf)
	fmt.Println(info.Requires, info.Files[2].Name)
	// Output:
	// livepatch-cve-2024-1234-1-1.ph5.x86_64.rpm
	// [kpatch] /var/opt/kpatch/modules/livepatch-cve-2024-1234.ko
}

// Write a generic package: here a source RPM holding a spec and a patch.
func ExampleWrite() {
	s := rpmpkg.Spec{
		Name: "linux", Version: "6.1.83", Release: "5.ph5", Source: true,
		BuildTime: time.Unix(1700000000, 0),
		Files: []rpmpkg.File{
			{Name: "linux.spec", Mode: 0o644, Body: []byte("Name: linux\n")},
			{Name: "0001-fix.patch", Mode: 0o644, Body: []byte("--- a/x\n+++ b/x\n")},
		},
	}
	var buf bytes.Buffer
	if err := rpmpkg.Write(&buf, s); err != nil {
		fmt.Println(err)
		return
	}
	info, _ := rpmpkg.Inspect(context.Background(), &buf, nil)
	fmt.Println(s.FileName(), info.Source, info.Digests.PayloadVerified)
	// Output: linux-6.1.83-5.ph5.src.rpm true true
}

// Extract only vmlinux from a debuginfo package.
func ExampleExtract() {
	f, err := os.Open("../testdata/rpmpkg/fixture-xz-1.0-1.ph5.x86_64.rpm")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	dest, _ := os.MkdirTemp("", "debuginfo")
	defer os.RemoveAll(dest)

	res, err := rpmpkg.Extract(context.Background(), f, dest, &rpmpkg.ExtractOptions{
		Filter: func(name string) bool { return path.Base(name) == "vmlinux-6.1.83-5.ph5" },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, file := range res.Files {
		fmt.Println(file.Name, file.Size)
	}
	// Output: usr/lib/debug/lib/modules/6.1.83-5.ph5/vmlinux-6.1.83-5.ph5 18
}
