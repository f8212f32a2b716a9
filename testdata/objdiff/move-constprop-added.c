/* move-constprop-dropped the other way round: the patch makes every
 * factor constant, so GCC builds a .constprop clone. */
#ifdef PATCHED
#undef PATCHED
#else
#define PATCHED
#endif
#include "move-constprop-dropped.c"
