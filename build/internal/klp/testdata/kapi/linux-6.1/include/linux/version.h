/* Stand-in for tests: a 6.1.192 kernel. */
#define LINUX_VERSION_CODE 393664
#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))
