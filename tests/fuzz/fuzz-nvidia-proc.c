/* /proc/driver/nvidia (devices/nvidia.c, devices/nvidia-proc.c): what the
 * NVIDIA driver writes, read at discovery, and the params file curate
 * rewrites for a container's view (launcher/proc-nvidia.c copies it). The
 * first byte picks:
 *   0  discovery on a private host tree; NUL-separated: proc/devices, the
 *      information files of two GPUs, MIG access files (gi1, gi1/ci0 of the
 *      GPU of minor 0) and capabilities/mig/config; then the /proc view of
 *      every GPU and capability found
 *   1  params rewrite: a second rewrite must change nothing */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "gpu-select.h"
#include "nvidia-proc.h"

#define CAPS "proc/driver/nvidia/capabilities/"
static const char *const files[] = {
        "proc/devices",
        "proc/driver/nvidia/gpus/0000:07:00.0/information",
        "proc/driver/nvidia/gpus/0000:3b:00.0/information",
        CAPS "gpu0/mig/gi1/access",
        CAPS "gpu0/mig/gi1/ci0/access",
        CAPS "mig/config",
};

static void add(struct device_list *l, unsigned major, unsigned minor) {
        char path[64];
        snprintf(path, sizeof(path), "/dev/fuzz%u-%u", major, minor);
        (void)device_list_add_char(l, path, major, minor, 0666);
}

static void discover(char **segs) {
        static bool ready;
        int root = fuzz_dir();
        struct nvidia_host h;
        struct device_list l = { 0 };
        char **v = NULL, *error = NULL;

        if (!ready) {
                fuzz_mkdirs(root, "proc/driver/nvidia/gpus/0000:07:00.0");
                fuzz_mkdirs(root, "proc/driver/nvidia/gpus/0000:3b:00.0");
                fuzz_mkdirs(root, CAPS "gpu0/mig/gi1/ci0");
                fuzz_mkdirs(root, CAPS "mig");
                ready = true;
        }
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                fuzz_put(root, files[i], segs[i]);
        if (nvidia_discover(root, &h, &error) == 0) {
                for (size_t i = 0; i < h.n_gpus; i++) {
                        add(&l, h.major, h.gpus[i].minor);
                        for (size_t k = 0; k < h.gpus[i].n_migs; k++) {
                                add(&l, h.caps_major, h.gpus[i].migs[k].gi_cap_minor);
                                add(&l, h.caps_major, h.gpus[i].migs[k].ci_cap_minor);
                        }
                }
                if (h.has_mig_config)
                        add(&l, h.caps_major, h.mig_config_minor);
                if (nvidia_proc_gpus(&h, &l, &v) == 0)
                        gpu_select_strv_free(v);
                if (nvidia_proc_caps(&h, &l, &v) == 0)
                        gpu_select_strv_free(v);
                device_list_done(&l);
                nvidia_host_done(&h);
        }
        free(error);
}

static void params(const char *text) {
        char *once = NULL, *twice = NULL;
        if (nvidia_params_rewrite(text, &once) < 0 || nvidia_params_rewrite(once, &twice) < 0)
                abort();
        if (strcmp(once, twice) != 0)
                abort();
        free(once);
        free(twice);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *segs[ELEMENTSOF(files)];

        unsigned which = fuzz_pick(&data, &size, 2);
        fuzz_split(data, size, segs, ELEMENTSOF(segs));
        if (which == 0)
                discover(segs);
        else
                params(segs[0] ? segs[0] : "");
        fuzz_segs_free(segs, ELEMENTSOF(segs));
        return 0;
}
