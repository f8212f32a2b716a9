/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_DEMO_H
#define _LINUX_DEMO_H

#define DEMO_MAX_USERS 64

struct demo_req {
	int id;
	int flags;
};

/* Returns the number of users after taking a reference. */
int demo_get(int n);
void demo_put(void);

static inline bool demo_req_valid(const struct demo_req *req)
{
	return req->id >= 0;
}

#endif /* _LINUX_DEMO_H */
