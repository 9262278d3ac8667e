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
/* Add the character device PATH (the same path on the host), MAJOR:MINOR,
 * access "rwm", FILE_MODE (0: the host node's), the host node's owner. */
int device_list_add_char(struct device_list *l, const char *path, unsigned major, unsigned minor,
                         mode_t file_mode);
void device_list_done(struct device_list *l);

/* The container registration ID (lib/registration.h) written from L, or read
 * into *RET: every path under /dev, access kept, mode 0666 where L leaves it
 * to the host. 0 or -errno with *ret_error naming the file; reading one
 * that does not exist is -ENOENT. */
int device_list_register(const char *id, const struct device_list *l, char **ret_error);
int device_list_registered(const char *id, struct device_list *ret, char **ret_error);
