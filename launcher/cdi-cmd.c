#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cdi-gen.h"
#include "fileio.h"
#include "launcher.h"
#include "macro.h"

/* `curate cdi generate`: CDI specs for engines (podman, CRI-O, containerd)
 * that bind curatefs's views, or hand over the GPUs curate discovers. */

#define CDI_DEFAULT_DIR "/var/run/cdi"
#define CDI_DEFAULT_VIEWS CDI_DEFAULT_DIR "/curate.yaml"
#define CDI_DEFAULT_NVIDIA CDI_DEFAULT_DIR "/curate-nvidia.yaml"
#define CDI_DEFAULT_AMD CDI_DEFAULT_DIR "/curate-amd.yaml"

enum { CDI_FAILED = 1, CDI_USAGE = 2 };

static void cdi_help(void) {
        printf("Usage: curate cdi generate [--output FILE] [--mountpoint DIR]\n"
               "       curate cdi generate --gpus[=nvidia|amd] [--output FILE]\n"
               "\n"
               "Write a Container Device Interface spec (cdiVersion " CDI_GEN_VERSION ") that engines with\n"
               "CDI (podman >= 4.1, containerd >= 1.7, CRI-O >= 1.23) and `curate run --device`\n"
               "read. Without --gpus: kind " CDI_GEN_VIEWS_KIND ", read-only binds of the curatefs\n"
               "serving the mount point over the real paths: device \"all\" (/proc/meminfo,\n"
               "cpuinfo, stat, uptime, loadavg, swaps, diskstats and /sys/devices/system/cpu)\n"
               "and one device per view (meminfo cpuinfo stat uptime loadavg swaps diskstats\n"
               "cpu-online cpu-tree). `podman run --device " CDI_GEN_VIEWS_KIND "=all IMAGE` then shows\n"
               "the container its own memory and CPUs. vmstat and pressure are left out: OCI\n"
               "runtimes refuse binds there. Fails, writing nothing, when no curatefs serves\n"
               "the mount point. `curate daemon start` rewrites the default file for the\n"
               "default mount point.\n"
               "\n"
               "With --gpus: nvidia.com/gpu (devices all, each index, each GPU-UUID, each MIG\n"
               "i:j) and amd.com/gpu (all, each index, each PCI bus id) with the nodes\n"
               "`curate run --gpu` gives (control nodes, nvidia-uvm, nvidia-uvm-tools, MIG\n"
               "caps, /dev/kfd), for the vendors found (or the one named).\n"
               "\n"
               "Options:\n"
               "  -o, --output FILE     where to write (*.yaml, *.yml or *.json; - for stdout);\n"
               "                        default " CDI_DEFAULT_VIEWS ", with --gpus\n"
               "                        " CDI_DEFAULT_NVIDIA " and " CDI_DEFAULT_AMD ".\n"
               "                        The file is replaced atomically\n"
               "  -m, --mountpoint DIR  the curatefs mount point (default %s)\n"
               "      --gpus[=VENDOR]   GPU specs instead (VENDOR: nvidia or amd; needed\n"
               "                        with --output when the host has both)\n"
               "  -h, --help            show this help and exit\n"
               "\n"
               "Environment:\n"
               "  CURATE_HOST_ROOT      read the host's /proc, /sys and /dev beneath this\n"
               "                        directory (a testing aid)\n"
               "\n"
               "Exit status: 0 written, 1 failed (nothing written), 2 usage.\n",
               CURATEFS_DEFAULT_MOUNTPOINT);
}

static int usage(const char *fmt, const char *arg) {
        fprintf(stderr, "curate: cdi: ");
        fprintf(stderr, fmt, arg);
        fprintf(stderr, " (try curate cdi --help)\n");
        return CDI_USAGE;
}

static bool ends_with(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && streq(s + a - b, suffix);
}

/* The format PATH asks for: 1 YAML, 0 JSON, -EINVAL neither. "-" is YAML. */
static int path_is_yaml(const char *path) {
        if (streq(path, "-") || ends_with(path, ".yaml") || ends_with(path, ".yml"))
                return 1;
        return ends_with(path, ".json") ? 0 : -EINVAL;
}

/* Replace PATH by TEXT atomically (write_file_replace), making the default
 * spec directory when it is missing: engines re-read spec dirs at any time
 * and must never see half a spec. */
static int write_atomic(const char *path, const char *text, char **ret_error) {
        if (streq(path, CDI_DEFAULT_VIEWS) || streq(path, CDI_DEFAULT_NVIDIA) || streq(path, CDI_DEFAULT_AMD))
                if (mkdir(CDI_DEFAULT_DIR, 0755) < 0 && errno != EEXIST)
                        return error_printf(ret_error, -errno, "%s: %s", CDI_DEFAULT_DIR, strerror(errno));
        return write_file_replace(path, text, ret_error);
}

static void json_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}

static int write_spec(json_object *spec, const char *path, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        int yaml = path_is_yaml(path), r;

        if (yaml < 0)
                return error_printf(ret_error, -EINVAL, "--output %s: want a name ending in .yaml, .yml or .json",
                                    path);
        if ((r = cdi_gen_format(spec, yaml, &text, ret_error)) < 0)
                return r;
        return write_atomic(path, text, ret_error);
}

int cdi_write_views(const char *mountpoint, const char *output, char **ret_error) {
        _cleanup_(json_putp) json_object *spec = NULL;
        char canonical[PATH_MAX];
        int r;

        if (!realpath(mountpoint, canonical) || !daemon_serving(canonical))
                return error_printf(ret_error, -ENOENT,
                                    "no curatefs serves %s (start one: curate daemon start%s%s); nothing written",
                                    mountpoint, streq(mountpoint, CURATEFS_DEFAULT_MOUNTPOINT) ? "" : " --mountpoint ",
                                    streq(mountpoint, CURATEFS_DEFAULT_MOUNTPOINT) ? "" : mountpoint);
        if ((r = cdi_gen_views_spec(canonical, &spec, ret_error)) < 0)
                return r;
        return write_spec(spec, output ? output : CDI_DEFAULT_VIEWS, ret_error);
}

void cdi_daemon_started(const char *canonical) {
        char def[PATH_MAX];
        _cleanup_free_ char *error = NULL;

        /* only the default daemon owns the default spec: a daemon on a
         * private mount point (tests, a second instance) leaves it alone */
        if (geteuid() != 0 || !realpath(CURATEFS_DEFAULT_MOUNTPOINT, def) || !streq(def, canonical))
                return;
        if (cdi_write_views(canonical, NULL, &error) < 0)
                fprintf(stderr, "curate: daemon: CDI spec not written: %s\n", error ? error : "out of memory");
        else
                printf("CDI spec %s written (" CDI_GEN_VIEWS_KIND "=all and one device per view)\n",
                       CDI_DEFAULT_VIEWS);
}

static void nvidia_host_donep(struct nvidia_host *h) { nvidia_host_done(h); }
static void amd_host_donep(struct amd_host *h) { amd_host_done(h); }

/* --gpus: each vendor found (or VENDOR), to OUTPUT or its default file */
static int write_gpus(const char *vendor, const char *output, char **ret_error) {
        _cleanup_(nvidia_host_donep) struct nvidia_host nv = { .n_gpus = 0 };
        _cleanup_(amd_host_donep) struct amd_host amd = { .n_gpus = 0 };
        _cleanup_(json_putp) json_object *nv_spec = NULL, *amd_spec = NULL;
        _cleanup_close_ int root_fd = host_root_open(ret_error);
        bool want_nv = !vendor || streq(vendor, "nvidia"), want_amd = !vendor || streq(vendor, "amd");
        int r;

        if (root_fd < 0)
                return root_fd;
        if (want_nv) {
                r = nvidia_discover(root_fd, &nv, ret_error);
                if (r < 0 && r != -ENODEV && r != -ENOENT)
                        return r;
                if (r == 0 && nv.n_gpus > 0 && (r = cdi_gen_nvidia_spec(&nv, &nv_spec, ret_error)) < 0)
                        return r;
        }
        if (want_amd) {
                r = amd_discover(root_fd, &amd, ret_error);
                if (r < 0 && r != -ENODEV)
                        return r;
                if (r == 0 && amd.n_gpus > 0 && (r = cdi_gen_amd_spec(&amd, &amd_spec, ret_error)) < 0)
                        return r;
        }
        if (!nv_spec && !amd_spec)
                return error_printf(ret_error, -ENODEV, "no %s GPU on this host; nothing written",
                                    vendor ? (streq(vendor, "amd") ? "AMD" : "NVIDIA") : "NVIDIA or AMD");
        if (output && nv_spec && amd_spec)
                return error_printf(ret_error, -EINVAL,
                                    "--output %s: the host has NVIDIA and AMD GPUs, one spec per file: "
                                    "give --gpus=nvidia or --gpus=amd", output);
        /* both checked before either is written: all or nothing */
        if ((output || nv_spec) && path_is_yaml(output ? output : CDI_DEFAULT_NVIDIA) < 0)
                return error_printf(ret_error, -EINVAL, "--output %s: want a name ending in .yaml, .yml or .json",
                                    output);
        if (nv_spec && (r = write_spec(nv_spec, output ? output : CDI_DEFAULT_NVIDIA, ret_error)) < 0)
                return r;
        if (amd_spec && (r = write_spec(amd_spec, output ? output : CDI_DEFAULT_AMD, ret_error)) < 0)
                return r;
        return 0;
}

int cdi_main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "output", required_argument, NULL, 'o' },
                { "mountpoint", required_argument, NULL, 'm' },
                { "gpus", optional_argument, NULL, 'g' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *output = NULL, *mountpoint = NULL, *vendor = NULL;
        _cleanup_free_ char *error = NULL;
        bool gpus = false;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "o:m:h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'o':
                        if (!*optarg)
                                return usage("--output: empty path%s", "");
                        output = optarg;
                        break;
                case 'm':
                        if (!*optarg)
                                return usage("--mountpoint: empty path%s", "");
                        mountpoint = optarg;
                        break;
                case 'g':
                        if (optarg && !streq(optarg, "nvidia") && !streq(optarg, "amd"))
                                return usage("--gpus=%s: want nvidia or amd", optarg);
                        gpus = true;
                        vendor = optarg;
                        break;
                case 'h':
                        cdi_help();
                        return 0;
                default:
                        return usage("unknown option or missing value '%s'", argv[optind - 1]);
                }
        }
        if (optind >= argc || !streq(argv[optind], "generate") || optind + 1 != argc)
                return usage("expected 'generate'%s", "");
        if (gpus && mountpoint)
                return usage("--mountpoint has no meaning with --gpus%s", "");
        if (output && path_is_yaml(output) < 0)
                return usage("--output %s: want a name ending in .yaml, .yml or .json, or -", output);
        r = gpus ? write_gpus(vendor, output, &error)
                 : cdi_write_views(mountpoint ? mountpoint : CURATEFS_DEFAULT_MOUNTPOINT, output, &error);
        if (r < 0) {
                fprintf(stderr, "curate: cdi: %s\n", error ? error : strerror(-r));
                return CDI_FAILED;
        }
        return 0;
}
