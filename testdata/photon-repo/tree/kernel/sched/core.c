/* kernel/sched/core.c */
void schedule(void)
{ }
