#pragma once
/* Which NVIDIA GPUs a container gets, with the semantics users know from
 * NVIDIA_VISIBLE_DEVICES (NVIDIA Container Toolkit, "Specialized
 * Configurations with Docker"; libnvidia-container src/cli/common.c):
 *   all        every GPU and every MIG device, plus the control nodes
 *   none       no GPU, but the control nodes (nvidiactl, nvidia-uvm,
 *              nvidia-uvm-tools, nvidia-modeset): "driver capabilities enabled"
 *   void       nothing at all (as if the runtime had no GPU support)
 *   0,1        GPU indices, in PCI bus id order (nvidia-smi's default)
 *   GPU-<uuid> a GPU by its full UUID, case-insensitive (no prefix match: the
 *              toolkit compares whole UUIDs, and a policy must not widen when
 *              a new GPU with the same prefix appears)
 *   MIG-<uuid> a MIG device by UUID; procfs does not show the driver's
 *              MIG UUIDs, so only the legacy form MIG-GPU-<uuid>/<gi>/<ci> (or
 *              a UUID filled into struct nvidia_mig by the caller) resolves
 *   i:j        MIG device j of GPU i, MIG devices ordered by (gi, ci)
 * Stricter than the toolkit, since a policy typo must not silently grant or
 * drop a GPU: an empty spec, an empty entry ("0,,1"), a duplicate entry and a
 * keyword combined with other entries are errors. Entries may be surrounded
 * by blanks; keywords are case-insensitive (the toolkit's "all" is). */
#include <stdbool.h>
#include <stddef.h>
#include "device.h"
#include "nvidia.h"

enum gpu_select_mode {
        GPU_SELECT_LIST,
        GPU_SELECT_ALL,
        GPU_SELECT_NONE,
        GPU_SELECT_VOID,
};

enum gpu_token_kind {
        GPU_TOKEN_INDEX,     /* "1" */
        GPU_TOKEN_UUID,      /* "GPU-..." */
        GPU_TOKEN_MIG_INDEX, /* "1:0" */
        GPU_TOKEN_MIG_UUID,  /* "MIG-..." */
};

struct gpu_token {
        enum gpu_token_kind kind;
        unsigned index;     /* INDEX, MIG_INDEX: the GPU's index */
        unsigned mig_index; /* MIG_INDEX: the MIG device's index on that GPU */
        char *uuid;         /* UUID, MIG_UUID: as written, with its prefix */
};

struct gpu_selection {
        enum gpu_select_mode mode;
        struct gpu_token *tokens; /* LIST only, in the order written */
        size_t n_tokens;
        /* NVIDIA_MIG_CONFIG_DEVICES=all / NVIDIA_MIG_MONITOR_DEVICES=all: the
         * MIG management caps; never set by gpu_select_parse(), the caller
         * opts in (the toolkit also requires a privileged container). */
        bool mig_config, mig_monitor;
};

/* Parse SPEC. 0, or -EINVAL with *RET_ERROR saying which entry is wrong and
 * why; -ENOMEM. RET is written only on success; release with
 * gpu_selection_done(). */
int gpu_select_parse(const char *spec, struct gpu_selection *ret, char **ret_error);
void gpu_selection_done(struct gpu_selection *sel);

/* The device nodes SEL gives on HOST (see nvidia_discover()), access "rwm",
 * the host node's mode and owner, control nodes first then the GPUs in index
 * order: /dev/nvidiactl (major:255), /dev/nvidia-uvm and /dev/nvidia-uvm-tools
 * (uvm major:0 and :1, when the uvm driver is loaded), /dev/nvidia-modeset
 * (major:254, when the host has the node), /dev/nvidia<Device Minor> per GPU,
 * and per MIG device its parent GPU's node plus
 * /dev/nvidia-caps/nvidia-cap<gi minor> and nvidia-cap<ci minor>; with
 * mig_config/mig_monitor the capabilities/mig/{config,monitor} caps.
 * A GPU reached twice ("0,GPU-<uuid of 0>") is given once.
 * *RET_PROC_GPUS (when not NULL) gets the NULL-terminated list of the selected
 * GPUs' bus ids, the entries to show under /proc/driver/nvidia/gpus (a MIG
 * device shows its parent's). 0, or -ENOENT (an unknown GPU or MIG device:
 * *RET_ERROR names it and lists what the host has), -ENODEV (MIG without the
 * nvidia-caps driver), -EINVAL, -ENOMEM. Outputs are written only on success. */
int gpu_select_resolve(const struct gpu_selection *sel, const struct nvidia_host *host,
                       struct device_list *ret, char ***ret_proc_gpus, char **ret_error);

void gpu_select_strv_free(char **v);
