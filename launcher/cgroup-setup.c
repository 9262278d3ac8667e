#include <errno.h>
#include "config.h"
#include "launcher.h"
int run_cgroup_create(const struct cg_layout *l, const struct policy *p, const char *name, struct run_cgroup *ret, char **ret_error) { return -ENOSYS; }
int run_cgroup_join(const struct cg_layout *l, const char *path, struct run_cgroup *ret, char **ret_error) { return -ENOSYS; }
int run_cgroup_attach(const struct run_cgroup *cg, pid_t pid) { return -ENOSYS; }
void run_cgroup_destroy(struct run_cgroup *cg) {}
