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
#include "cdi.h"
#include "nvidia.h"

/* `curate devices list [--json]`: what the host offers to pass through,
 * read beneath $CURATE_HOST_ROOT (default /) as every device source is. */

static void devices_help(void) {
        printf("Usage: curate devices list [--json]\n"
               "\n"
               "List the devices this host can hand to a container: NVIDIA GPUs (index in\n"
               "PCI bus order, the /dev/nvidiaN minor, UUID, bus id, model) and their MIG\n"
               "devices (i:j), read from /proc/driver/nvidia and /proc/devices; and the\n"
               "Container Device Interface devices (vendor/class=name) of the specs in\n"
               "/etc/cdi and /var/run/cdi (a spec that does not load is reported, skipped).\n"
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

static void print_json(const struct nvidia_host *h, bool driver, const struct cdi_registry *cdi) {
        json_object *root = json_object_new_object(), *gpus = json_object_new_array();

        json_object_object_add(root, "nvidia_driver", json_object_new_boolean(driver));
        for (size_t i = 0; i < h->n_gpus; i++)
                json_object_array_add(gpus, gpu_json(&h->gpus[i], i));
        json_object_object_add(root, "gpus", gpus);
        json_object_object_add(root, "cdi", cdi_json(cdi));
        json_object_object_add(root, "cdi_errors", cdi_errors_json(cdi));
        printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(root);
}

static int cmd_list(bool json) {
        _cleanup_free_ char *error = NULL;
        struct nvidia_host host = { .n_gpus = 0 };
        struct cdi_registry cdi = { .n_specs = 0 };
        bool driver = true;
        int root_fd, r;

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
                close(root_fd);
                return EXIT_CURATE;
        }
        r = cdi_registry_load(root_fd, cdi_default_dirs, &cdi, &error);
        close(root_fd);
        if (r < 0) {
                fprintf(stderr, "curate: devices: %s\n", error ? error : strerror(-r));
                if (driver)
                        nvidia_host_done(&host);
                return EXIT_CURATE;
        }
        if (json) {
                print_json(&host, driver, &cdi);
        } else {
                print_table(&host, driver);
                print_cdi_table(&cdi);
        }
        cdi_registry_done(&cdi);
        if (driver)
                nvidia_host_done(&host);
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
