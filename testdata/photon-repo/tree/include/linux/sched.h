/* include/linux/sched.h */
struct task_struct;
#define TASK_RUNNING 0
