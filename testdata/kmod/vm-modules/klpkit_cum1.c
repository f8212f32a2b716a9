// SPDX-License-Identifier: GPL-2.0
#define KLPKIT_MARKER "klpkit-vm: cum1"
#define KLPKIT_REPLACE true
#include "klpkit_cmdline_patch.h"
