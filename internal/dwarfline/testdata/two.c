/* Two functions, each in its own section: rows must say which. */
extern int work(int v);

int first(int x)
{
	int y = work(x);
	return y * 3;
}

static inline int helper(int v)
{
	return work(v + 11);
}

int second(int x)
{
	return helper(x) + 1;
}
