// SPDX-License-Identifier: Apache-2.0

package build

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// kconfig is a kernel .config: option name (with CONFIG_) to value; unset
// options are absent.
type kconfig map[string]string

func readKconfig(path string) (kconfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kernel config: %w", err)
	}
	return parseKconfig(data), nil
}

func parseKconfig(data []byte) kconfig {
	c := kconfig{}
	// Split, not bufio.Scanner: a scanner stops at an over-long line and
	// would hide every option after it from checkConfig.
	for _, raw := range bytes.Split(data, []byte("\n")) {
		line := strings.TrimSpace(string(raw))
		if !strings.HasPrefix(line, "CONFIG_") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if uq, err := strconv.Unquote(v); err == nil && strings.HasPrefix(v, `"`) {
			v = uq
		}
		c[k] = v
	}
	return c
}

// unsafeOptions make a livepatch built from source differ from the kernel
// or break the patching itself (kpatch-build refuses the same set).
var unsafeOptions = []struct{ option, why string }{
	{"CONFIG_GCC_PLUGIN_LATENT_ENTROPY", "the latent-entropy plugin makes every build's code different"},
	{"CONFIG_GCC_PLUGIN_RANDSTRUCT", "randomised structure layout cannot be reproduced"},
	{"CONFIG_RANDSTRUCT_FULL", "randomised structure layout cannot be reproduced"},
	{"CONFIG_RANDSTRUCT_PERFORMANCE", "randomised structure layout cannot be reproduced"},
	{"CONFIG_X86_KERNEL_IBT", "IBT's endbr sealing is not supported by the livepatch build"},
	{"CONFIG_DEBUG_INFO_SPLIT", "split debug info leaves objects without the data the diff needs"},
}

// checkConfig refuses kernels that cannot take a livepatch built here.
func checkConfig(c kconfig) error {
	if c["CONFIG_LIVEPATCH"] != "y" {
		return fmt.Errorf("CONFIG_LIVEPATCH is not set: %w", ErrNotLivepatchable)
	}
	for _, u := range unsafeOptions {
		if v := c[u.option]; v == "y" {
			return fmt.Errorf("%s=y: %s: %w", u.option, u.why, ErrNotLivepatchable)
		}
	}
	if c["CONFIG_MODULES"] != "y" {
		return fmt.Errorf("CONFIG_MODULES is not set: %w", ErrNotLivepatchable)
	}
	return nil
}
