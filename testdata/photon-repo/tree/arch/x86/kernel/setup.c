/* arch/x86/kernel/setup.c */
void setup_arch(void)
{ }
