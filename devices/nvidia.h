#pragma once
/* What the NVIDIA kernel driver shows of the host's GPUs, read from procfs
 * beneath a host-root fd ("/" or $CURATE_HOST_ROOT), without NVML:
 *   proc/driver/nvidia/gpus/<bus id>/information   one directory per GPU
 *   proc/devices                                    the driver's char majors
 *   proc/driver/nvidia/capabilities/...             MIG access capabilities
 * GPUs are indexed in PCI bus id order, nvidia-smi's default
 * (CUDA_DEVICE_ORDER=PCI_BUS_ID); the /dev/nvidiaN number is the driver's
 * "Device Minor", which need not equal the index. A GPU marked
 * "GPU Excluded: Yes" (NVreg_ExcludedGpus) is left out, as NVML leaves it out. */
#include <stdbool.h>
#include <stddef.h>

/* The frontend's fixed minors (nvidia-modprobe, libnvidia-container). */
#define NVIDIA_CTL_MINOR 255
#define NVIDIA_MODESET_MINOR 254

/* One MIG device: compute instance CI of GPU instance GI. Its
 * /dev/nvidia-caps nodes are nvidia-cap<gi_cap_minor> and
 * nvidia-cap<ci_cap_minor> ("DeviceFileMinor" of the access files). */
struct nvidia_mig {
        unsigned gi, ci;
        unsigned gi_cap_minor, ci_cap_minor;
        char *uuid; /* "MIG-..." when known; procfs does not show it: NULL */
};

struct nvidia_gpu {
        char *model;  /* "Model:", may be NULL */
        char *uuid;   /* "GPU UUID:", "GPU-..." */
        char *bus_id; /* the proc/driver/nvidia/gpus entry, "0000:3b:00.0" */
        unsigned minor; /* "Device Minor:": /dev/nvidia<minor> */
        struct nvidia_mig *migs; /* ordered by (gi, ci) */
        size_t n_migs;
};

struct nvidia_host {
        struct nvidia_gpu *gpus; /* ordered by PCI bus id: the index */
        size_t n_gpus;
        unsigned major;          /* "nvidia-frontend" (or "nvidia"): nvidiaN, ctl, modeset */
        bool has_uvm;
        unsigned uvm_major;      /* "nvidia-uvm": nvidia-uvm (0), nvidia-uvm-tools (1) */
        bool has_caps;
        unsigned caps_major;     /* "nvidia-caps": /dev/nvidia-caps/nvidia-capN */
        bool has_modeset;        /* dev/nvidia-modeset exists beneath the root */
        bool has_mig_config, has_mig_monitor;
        unsigned mig_config_minor, mig_monitor_minor; /* capabilities/mig/{config,monitor} */
};

/* Parse one proc/driver/nvidia/gpus/<id>/information text ("Key: \t value"
 * lines). Fills model, uuid, minor and bus_id (from "Bus Location:", NULL if
 * absent) and no MIG. 0; -EINVAL when "GPU UUID" or "Device Minor" is missing
 * or malformed; -ENOMEM. RET is written only on success. */
int nvidia_parse_information(const char *text, struct nvidia_gpu *ret);

/* The major of character device NAME in a /proc/devices text (only the
 * "Character devices:" section counts). 0; -ENOENT if absent; -EINVAL. */
int parse_proc_devices(const char *text, const char *name, unsigned *ret_major);

/* Parse a capabilities access file ("DeviceFileMinor: N" line). 0; -EINVAL. */
int nvidia_parse_cap_minor(const char *text, unsigned *ret_minor);

/* Read the host beneath ROOT_FD. 0; -ENODEV when proc/devices shows no NVIDIA
 * driver; other -errno with *RET_ERROR naming the file and what was wrong.
 * RET is written only on success; release it with nvidia_host_done(). */
int nvidia_discover(int root_fd, struct nvidia_host *ret, char **ret_error);

void nvidia_gpu_done(struct nvidia_gpu *g);
void nvidia_host_done(struct nvidia_host *h);
