/* move-isra-dropped the other way round: the patch lets GCC make an .isra clone. */
#ifdef PATCHED
#undef PATCHED
#else
#define PATCHED
#endif
#include "move-isra-dropped.c"
