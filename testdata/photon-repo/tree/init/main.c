/* init/main.c */
int start_kernel(void)
{ return 0; }
