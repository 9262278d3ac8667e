/* The CDI registry (devices/cdi.c): several spec files at once, as
 * `curate run --device vendor/class=name` loads /etc/cdi and /var/run/cdi,
 * then every device found resolved (its spec's edits merged with its own,
 * nodes checked against the host tree) and all of them merged into one set,
 * as the launcher merges several --device. Input, NUL-separated:
 * etc/cdi/a.json, etc/cdi/b.yaml, var/run/cdi/a.json (same name: the later
 * directory's spec takes precedence), in a private directory. The host
 * root is "/", so nodes resolve against this host's real /dev (only
 * lstat'ed: /dev/null, /dev/zero ... complete; a missing or non-device path
 * fails). */
#include "config.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include "cdi.h"
#include "fuzz.h"

static const char *const files[] = { "etc/cdi/a.json", "etc/cdi/b.yaml", "var/run/cdi/a.json" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static bool ready;
        int root = fuzz_dir();
        char *segs[ELEMENTSOF(files)], *error = NULL;
        struct cdi_registry r;
        struct cdi_edits all = { 0 };

        static char dirs_buf[2][128];
        static const char *dirs[3];
        static int host_fd = -EBADF;

        if (!ready) {
                fuzz_mkdirs(root, "etc/cdi");
                fuzz_mkdirs(root, "var/run/cdi");
                /* the spec dirs relative to the host root "/" */
                snprintf(dirs_buf[0], sizeof(dirs_buf[0]), "%s/etc/cdi", fuzz_dir_path() + 1);
                snprintf(dirs_buf[1], sizeof(dirs_buf[1]), "%s/var/run/cdi", fuzz_dir_path() + 1);
                dirs[0] = dirs_buf[0];
                dirs[1] = dirs_buf[1];
                host_fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (host_fd < 0)
                        abort();
                ready = true;
        }
        fuzz_split(data, size, segs, ELEMENTSOF(segs));
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                fuzz_put(root, files[i], segs[i]);
        if (cdi_registry_load(host_fd, dirs, &r, &error) == 0) {
                for (size_t i = 0; i < r.n_devices; i++) {
                        struct cdi_edits e;
                        char *err = NULL;
                        if (cdi_resolve(&r, r.devices[i].qualified, &e, &err) == 0) {
                                (void)cdi_edits_merge(&all, &e, &err);
                                cdi_edits_done(&e);
                        }
                        free(err);
                }
                /* a name no spec has: the message lists what there is */
                struct cdi_edits e;
                char *err = NULL;
                if (cdi_resolve(&r, "fuzz.example/none=x", &e, &err) == 0)
                        abort();
                free(err);
                cdi_registry_done(&r);
        }
        cdi_edits_done(&all);
        free(error);
        fuzz_segs_free(segs, ELEMENTSOF(segs));
        return 0;
}
