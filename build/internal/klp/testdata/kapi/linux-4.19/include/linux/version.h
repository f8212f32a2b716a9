/* Stand-in for tests: a 4.19.325 kernel (the patch level clamps to 255). */
#define LINUX_VERSION_CODE 267263
#define KERNEL_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + ((c) > 255 ? 255 : (c)))
