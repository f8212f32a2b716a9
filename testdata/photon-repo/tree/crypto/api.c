/* crypto/api.c */
int crypto_init(void)
{ return 0; }
