/* i40e_main.c */
int i40e_probe(void)
{ return 0; }
