// A small stand-in for a function whose body moved between the kernel a
// patch was written for and the one it is applied to: the patched tree has
// a call (drop_cgroup) inside the hunk's trailing context.
#include "teardown.h"

static int teardown_count;

void teardown(struct task *t)
{
	release_files(t);
	release_fs(t);
	release_signals(t);
	drop_work(t);
	drop_thread(t);
	drop_cgroup(t);

	/*
	 * Counters go before the parent hears of the exit.
	 */
	flush_counters(t);
	teardown_count++;
}

int teardown_total(void)
{
	return teardown_count;
}
