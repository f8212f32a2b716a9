#include "kernel.h"

int use_static_call(int v)
{
	STATIC_CALL_SITE(__SCK__my_hook);
#ifdef PATCHED
	return v + 2;
#else
	return v + 1;
#endif
}

int use_tracepoint_call(int v)
{
	STATIC_CALL_SITE(__SCK__tp_func_my_event);
#ifdef PATCHED
	return v * 3;
#else
	return v * 2;
#endif
}
