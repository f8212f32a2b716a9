/* move-hot-to-cold the other way round: the whole function starts in
 * .text.unlikely and is split into hot and cold parts by the patch. */
#ifdef PATCHED
#undef PATCHED
#else
#define PATCHED
#endif
#include "move-hot-to-cold.c"
