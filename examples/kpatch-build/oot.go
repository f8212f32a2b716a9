// SPDX-License-Identifier: Apache-2.0

package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/klpkit/klpkit/build"
)

// checkOOT: --oot-module and --oot-module-src come together, as upstream
// kpatch-build requires: the .ko names the module and holds the symbols,
// the source is what the patches change.
func (o *options) checkOOT() error {
	switch {
	case o.ootModule != "" && o.ootModuleSrc == "":
		return fmt.Errorf("--oot-module %s needs --oot-module-src DIR, the module's source directory the patches apply to", o.ootModule)
	case o.ootModule == "" && o.ootModuleSrc != "":
		return fmt.Errorf("--oot-module-src %s needs --oot-module FILE, the module's built .ko (its symbols are what the livepatch resolves against)", o.ootModuleSrc)
	}
	return nil
}

// ootModule checks the files --oot-module and --oot-module-src name and
// turns them into build.Options.OOTModule (nil without them).
func (a *app) ootModule(o *options) (*build.OOTModule, error) {
	if o.ootModule == "" {
		return nil, nil
	}
	if err := regularFile(o.ootModule); err != nil {
		return nil, fmt.Errorf("--oot-module %s: %w", o.ootModule, err)
	}
	if fi, err := os.Stat(o.ootModuleSrc); err != nil || !fi.IsDir() {
		if err == nil {
			err = errors.New("not a directory")
		} else if errors.Is(err, os.ErrNotExist) {
			err = errors.New("not found")
		}
		return nil, fmt.Errorf("--oot-module-src %s: %w", o.ootModuleSrc, err)
	}
	fmt.Fprintf(a.status, "Using out-of-tree module %s, source %s\n", o.ootModule, o.ootModuleSrc)
	return &build.OOTModule{Module: o.ootModule, Source: o.ootModuleSrc}, nil
}
