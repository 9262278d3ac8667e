#pragma once
/* Writing CDI specs (`curate cdi generate`): curatefs's views for engines
 * (podman, CRI-O, containerd) as kind curate.dev/views, and the GPUs curate
 * discovers as nvidia.com/gpu and amd.com/gpu, so an engine gets the same
 * nodes `curate run --gpu` would give without nvidia-ctk.
 *
 * Specs are built as json-c trees and written as JSON or YAML (libyaml's
 * emitter). cdiVersion is CDI_GEN_VERSION: the newest version podman 4.3's
 * vendored CDI library (v0.5.x) accepts, and one devices/cdi.c reads. */
#include <stdbool.h>
#include <json-c/json.h>
#include "amd.h"
#include "nvidia.h"

#define CDI_GEN_VERSION "0.5.0"
#define CDI_GEN_VIEWS_KIND "curate.dev/views"
#define CDI_GEN_NVIDIA_KIND "nvidia.com/gpu"
#define CDI_GEN_AMD_KIND "amd.com/gpu"

/* One view an OCI runtime lets a container bind: runc and crun refuse bind
 * destinations under /proc outside the LXCFS set (cpuinfo, diskstats,
 * meminfo, stat, swaps, uptime, loadavg, slabinfo), so vmstat and pressure
 * are left out. Names are those of `curate run --views`. */
struct cdi_gen_view {
        const char *name;   /* device name: "meminfo" */
        const char *source; /* beneath the mount point: "proc/meminfo" */
        const char *target; /* in the container: "/proc/meminfo" */
        bool dir;           /* a directory tree: rbind */
        bool in_all;        /* part of device "all" */
};
extern const struct cdi_gen_view cdi_gen_views[];
extern const size_t cdi_gen_n_views;

/* The curate.dev/views spec for curatefs at MOUNTPOINT (absolute): device
 * "all" and one per view, each a read-only bind of MOUNTPOINT/SOURCE over
 * TARGET. 0, -EINVAL (MOUNTPOINT not absolute), -ENOMEM. */
int cdi_gen_views_spec(const char *mountpoint, json_object **ret, char **ret_error);

/* The nvidia.com/gpu spec for HOST: devices "all", each GPU by index and by
 * UUID, each MIG device "i:j", their nodes exactly as gpu_select_resolve()
 * gives them for that selector (control nodes included). -ENODEV: no GPU. */
int cdi_gen_nvidia_spec(const struct nvidia_host *host, json_object **ret, char **ret_error);

/* The amd.com/gpu spec for HOST: "all", each GPU by index and by bus id,
 * nodes as amd_select_resolve() gives them. -ENODEV: no GPU. */
int cdi_gen_amd_spec(const struct amd_host *host, json_object **ret, char **ret_error);

/* SPEC as text: YAML (block style, strings that could read as anything else
 * quoted) when YAML, else pretty JSON. Malloc'd, NUL-terminated. */
int cdi_gen_format(json_object *spec, bool yaml, char **ret_text, char **ret_error);
