#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "fileio.h"
#include "launcher.h"
#include "macro.h"
#include "amd.h"
#include "cdi.h"
#include "nvidia.h"

/* `curate devices list [--json]`: what the host offers to pass through,
 * read beneath $CURATE_HOST_ROOT (default /) as every device source is. */

static void devices_help(void) {
        printf("Usage: curate devices list [--json]\n"
               "\n"
               "List the devices this host can hand to a container: NVIDIA GPUs (index in\n"
               "PCI bus order, the /dev/nvidiaN minor, UUID, bus id, model) and their MIG\n"
               "devices (i:j), read from /proc/driver/nvidia and /proc/devices; AMD GPUs\n"
               "(index in PCI bus order, bus id, DRM card and render nodes with their\n"
               "major:minor) and whether /dev/kfd is there, read from /sys/class/drm and\n"
               "/sys/class/kfd; and the Container Device Interface devices\n"
               "(vendor/class=name) of the specs in /etc/cdi and /var/run/cdi (a spec that\n"
               "does not load is reported, skipped). `--gpu N` and `--gpu amd:N` take the\n"
               "NVIDIA and AMD indices shown here.\n"
               "\n"
               "Options:\n"
               "  --json       print one JSON object instead of a table\n"
               "  -h, --help   show this help and exit\n"
               "\n"
               "Environment:\n"
               "  CURATE_HOST_ROOT   read the host's /proc, /sys and /dev beneath this\n"
               "                     directory instead of / (a testing aid)\n");
}

static void print_table(const struct nvidia_host *h, bool driver) {
        if (!driver) {
                printf("No NVIDIA driver on this host (no nvidia major in /proc/devices).\n");
                return;
        }
        if (h->n_gpus == 0) {
                printf("No NVIDIA GPUs.\n");
                return;
        }
        printf("%-6s %-6s %-42s %-14s %s\n", "GPU", "MINOR", "UUID", "BUS ID", "MODEL");
        for (size_t i = 0; i < h->n_gpus; i++) {
                const struct nvidia_gpu *g = &h->gpus[i];
                printf("%-6zu %-6u %-42s %-14s %s\n", i, g->minor, g->uuid, g->bus_id ? g->bus_id : "-",
                       g->model ? g->model : "-");
                for (size_t m = 0; m < g->n_migs; m++)
                        printf("%-6s %-6s MIG %zu:%zu  (GPU instance %u, compute instance %u)\n", "", "", i, m,
                               g->migs[m].gi, g->migs[m].ci);
        }
}

/* "card1 (226:1)", or "-" without that node */
static const char *node_text(char *buf, size_t size, bool has, const char *name, unsigned major, unsigned minor) {
        if (!has)
                return "-";
        snprintf(buf, size, "%s (%u:%u)", name, major, minor);
        return buf;
}

static void print_amd_table(const struct amd_host *h) {
        char card[64], render[64];

        printf("\n");
        if (h->n_gpus == 0) {
                printf("No AMD GPUs.\n");
                return;
        }
        printf("%-8s %-13s %-18s %s\n", "AMD GPU", "BUS ID", "CARD", "RENDER");
        for (size_t i = 0; i < h->n_gpus; i++) {
                const struct amd_gpu *g = &h->gpus[i];
                printf("%-8zu %-13s %-18s %s\n", i, g->bus_id,
                       node_text(card, sizeof(card), g->has_card, g->card_name, g->card_major, g->card_minor),
                       node_text(render, sizeof(render), g->has_render, g->render_name, g->render_major,
                                 g->render_minor));
        }
        if (h->has_kfd)
                printf("/dev/kfd (%u:%u) is present.\n", h->kfd_major, h->kfd_minor);
        else
                printf("No /dev/kfd (amdkfd not loaded): --gpu amd gives the DRI nodes only, no ROCm compute.\n");
}

static void print_cdi_table(const struct cdi_registry *r) {
        printf("\n");
        if (r->n_devices == 0)
                printf("No CDI devices.\n");
        else
                printf("%-40s %s\n", "CDI DEVICE", "SPEC");
        for (size_t i = 0; i < r->n_devices; i++)
                printf("%-40s %s\n", r->devices[i].qualified, r->specs[r->devices[i].spec].path);
        for (size_t i = 0; i < r->n_errors; i++)
                printf("skipped %s: %s\n", r->errors[i].path, r->errors[i].message);
}

static json_object *cdi_json(const struct cdi_registry *r) {
        json_object *list = json_object_new_array();

        for (size_t i = 0; i < r->n_devices; i++) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "name", json_object_new_string(r->devices[i].qualified));
                json_object_object_add(o, "spec", json_object_new_string(r->specs[r->devices[i].spec].path));
                json_object_array_add(list, o);
        }
        return list;
}

static json_object *cdi_errors_json(const struct cdi_registry *r) {
        json_object *list = json_object_new_array();

        for (size_t i = 0; i < r->n_errors; i++) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "spec", json_object_new_string(r->errors[i].path));
                json_object_object_add(o, "error", json_object_new_string(r->errors[i].message));
                json_object_array_add(list, o);
        }
        return list;
}

static json_object *gpu_json(const struct nvidia_gpu *g, size_t index) {
        json_object *o = json_object_new_object(), *migs = json_object_new_array();

        json_object_object_add(o, "index", json_object_new_int64(index));
        json_object_object_add(o, "minor", json_object_new_int64(g->minor));
        json_object_object_add(o, "uuid", json_object_new_string(g->uuid));
        json_object_object_add(o, "bus_id", g->bus_id ? json_object_new_string(g->bus_id) : NULL);
        json_object_object_add(o, "model", g->model ? json_object_new_string(g->model) : NULL);
        for (size_t m = 0; m < g->n_migs; m++) {
                json_object *mo = json_object_new_object();
                char id[48];
                snprintf(id, sizeof(id), "%zu:%zu", index, m);
                json_object_object_add(mo, "id", json_object_new_string(id));
                json_object_object_add(mo, "gi", json_object_new_int64(g->migs[m].gi));
                json_object_object_add(mo, "ci", json_object_new_int64(g->migs[m].ci));
                json_object_array_add(migs, mo);
        }
        json_object_object_add(o, "mig", migs);
        return o;
}

/* "226:1", or NULL (JSON null) without the node */
static json_object *dev_json(bool has, unsigned major, unsigned minor) {
        char buf[32];

        if (!has)
                return NULL;
        snprintf(buf, sizeof(buf), "%u:%u", major, minor);
        return json_object_new_string(buf);
}

static json_object *amd_json(const struct amd_host *h) {
        json_object *o = json_object_new_object(), *gpus = json_object_new_array();

        for (size_t i = 0; i < h->n_gpus; i++) {
                const struct amd_gpu *g = &h->gpus[i];
                json_object *go = json_object_new_object();
                json_object_object_add(go, "index", json_object_new_int64(i));
                json_object_object_add(go, "bus_id", json_object_new_string(g->bus_id));
                json_object_object_add(go, "card", g->has_card ? json_object_new_string(g->card_name) : NULL);
                json_object_object_add(go, "card_dev", dev_json(g->has_card, g->card_major, g->card_minor));
                json_object_object_add(go, "render",
                                       g->has_render ? json_object_new_string(g->render_name) : NULL);
                json_object_object_add(go, "render_dev", dev_json(g->has_render, g->render_major, g->render_minor));
                json_object_array_add(gpus, go);
        }
        json_object_object_add(o, "gpus", gpus);
        json_object_object_add(o, "kfd", dev_json(h->has_kfd, h->kfd_major, h->kfd_minor));
        return o;
}

static void print_json(const struct nvidia_host *h, bool driver, const struct amd_host *amd,
                       const struct cdi_registry *cdi) {
        json_object *root = json_object_new_object(), *gpus = json_object_new_array();

        json_object_object_add(root, "nvidia_driver", json_object_new_boolean(driver));
        for (size_t i = 0; i < h->n_gpus; i++)
                json_object_array_add(gpus, gpu_json(&h->gpus[i], i));
        json_object_object_add(root, "gpus", gpus);
        json_object_object_add(root, "amd", amd_json(amd));
        json_object_object_add(root, "cdi", cdi_json(cdi));
        json_object_object_add(root, "cdi_errors", cdi_errors_json(cdi));
        printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(root);
}

static void nvidia_host_donep(struct nvidia_host *h) { nvidia_host_done(h); }
static void amd_host_donep(struct amd_host *h) { amd_host_done(h); }
static void cdi_registry_donep(struct cdi_registry *r) { cdi_registry_done(r); }

/* 0 with *RET filled (empty when the host has no AMD GPU, which is no error
 * for a listing), or -errno after reporting why. */
static int amd_load(int root_fd, struct amd_host *ret) {
        _cleanup_free_ char *error = NULL;
        int r = amd_discover(root_fd, ret, &error);

        if (r == -ENODEV) {
                *ret = (struct amd_host){ .gpus = NULL };
                return 0;
        }
        if (r < 0)
                fprintf(stderr, "curate: devices: %s\n", error ? error : strerror(-r));
        return r;
}

static int cmd_list(bool json) {
        _cleanup_free_ char *error = NULL;
        _cleanup_close_ int root_fd = -EBADF;
        _cleanup_(nvidia_host_donep) struct nvidia_host host = { .n_gpus = 0 };
        _cleanup_(amd_host_donep) struct amd_host amd = { .n_gpus = 0 };
        _cleanup_(cdi_registry_donep) struct cdi_registry cdi = { .n_specs = 0 };
        bool driver = true;
        int r;

        root_fd = host_root_open(&error);
        if (root_fd < 0) {
                fprintf(stderr, "curate: devices: %s\n", error);
                return EXIT_CURATE;
        }
        r = nvidia_discover(root_fd, &host, &error);
        /* no NVIDIA major in /proc/devices, or (a fake tree) no /proc/devices */
        if (r == -ENODEV || r == -ENOENT) {
                driver = false;
                host = (struct nvidia_host){ .n_gpus = 0 };
        } else if (r < 0) {
                fprintf(stderr, "curate: devices: %s\n", error ? error : strerror(-r));
                return EXIT_CURATE;
        }
        if (amd_load(root_fd, &amd) < 0)
                return EXIT_CURATE;
        /* a fresh message: the NVIDIA probe may have left one behind */
        free(TAKE_PTR(error));
        r = cdi_registry_load(root_fd, cdi_default_dirs, &cdi, &error);
        if (r < 0) {
                fprintf(stderr, "curate: devices: %s\n", error ? error : strerror(-r));
                return EXIT_CURATE;
        }
        if (json) {
                print_json(&host, driver, &amd, &cdi);
        } else {
                print_table(&host, driver);
                print_amd_table(&amd);
                print_cdi_table(&cdi);
        }
        return 0;
}

int devices_main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool json = false;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'j':
                        json = true;
                        break;
                case 'h':
                        devices_help();
                        return 0;
                default:
                        fprintf(stderr, "curate: devices: unknown option '%s' (try curate devices --help)\n",
                                argv[optind - 1]);
                        return EXIT_CURATE;
                }
        }
        if (optind >= argc || !streq(argv[optind], "list") || optind + 1 != argc) {
                fprintf(stderr, "curate: devices: expected 'list' (curate devices list [--json])\n");
                return EXIT_CURATE;
        }
        return cmd_list(json);
}
