// SPDX-License-Identifier: GPL-2.0
#define KLPKIT_MARKER "klpkit-vm: stack2"
#define KLPKIT_REPLACE false
#include "klpkit_cmdline_patch.h"
