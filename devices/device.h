#pragma once
/* A device node a container is given: what its /dev shows and what its
 * device cgroup allows. Shared by the GPU, CDI and --device code. */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct device_node {
        char *path;      /* inside the container: "/dev/nvidia0" */
        char *host_path; /* on the host, beneath the host root: "/dev/nvidia0" */
        char type;       /* 'c' or 'b' */
        unsigned major, minor;
        char access[4];  /* a subset of "rwm", in that order */
        mode_t file_mode; /* 0: the host node's */
        uid_t uid;       /* (uid_t)-1: the host node's */
        gid_t gid;
};

struct device_list {
        struct device_node *nodes; /* malloc'd */
        size_t n;
};

/* Append a copy of NODE (path and host_path duplicated). A node whose path
 * is already listed is merged: equal type/numbers widen the access; different
 * ones are -EEXIST. 0 or -errno. */
int device_list_add(struct device_list *l, const struct device_node *node);
void device_list_done(struct device_list *l);
