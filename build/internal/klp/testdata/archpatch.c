/*
 * Alternative and paravirt sites laid out as x86_64 kernels before 5.8 lay
 * them out (4.19: a 13-byte alt_instr with padlen; a 16-byte
 * paravirt_patch_site), for klp's CheckArchPatching tests. Compile with
 * gcc -c -O2 -ffunction-sections -fno-pic; tests rename hidden_helper and
 * hidden_ops to .klp.sym symbols, as the pipeline does for symbols that
 * only the livepatch core resolves. exported_helper stays a normal
 * reference.
 */
extern void exported_helper(void);
extern void hidden_helper(void);
extern void *hidden_ops[];

#define ALT_ENTRY(feature)						\
	".pushsection .altinstructions,\"a\"\n"				\
	" .long 661b - .\n"						\
	" .long 6641f - .\n"						\
	" .word " #feature "\n"						\
	" .byte 662b - 661b\n"						\
	" .byte 6642f - 6641f\n"					\
	" .byte 0\n"							\
	".popsection\n"

/* The replacement code calls what only the livepatch core resolves. */
void replacement_calls_hidden(void)
{
	asm volatile("661:\n\tcall exported_helper\n662:\n"
		     ALT_ENTRY(0x75)
		     ".pushsection .altinstr_replacement,\"ax\"\n"
		     "6641:\n\tcall hidden_helper\n6642:\n"
		     ".popsection\n" ::: "memory");
}

/* The site itself calls it: the replacement is copied over that call. */
void site_calls_hidden(void)
{
	asm volatile("661:\n\tcall hidden_helper\n662:\n"
		     ALT_ENTRY(0x76)
		     ".pushsection .altinstr_replacement,\"ax\"\n"
		     "6641:\n\tcall exported_helper\n6642:\n"
		     ".popsection\n" ::: "memory");
}

/* A paravirt site through a table only the livepatch core resolves. */
void paravirt_uses_hidden(void)
{
	asm volatile("771:\n\tcall *hidden_ops+8(%%rip)\n772:\n"
		     ".pushsection .parainstructions,\"a\"\n"
		     " .balign 8\n"
		     " .quad 771b\n"
		     " .byte 3\n"
		     " .byte 772b - 771b\n"
		     " .short 0\n"
		     ".popsection\n" ::: "memory");
}

/* Alternatives and a paravirt site with only exported references. */
void only_exported(void)
{
	asm volatile("661:\n\tcall exported_helper\n662:\n"
		     ALT_ENTRY(0x77)
		     ".pushsection .altinstr_replacement,\"ax\"\n"
		     "6641:\n\tcall exported_helper\n6642:\n"
		     ".popsection\n" ::: "memory");
	/* hidden_helper referenced outside any site: no problem. */
	hidden_helper();
}
