#pragma once
/* What the amdgpu and amdkfd drivers show of the host's AMD GPUs, read from
 * sysfs beneath a host-root fd ("/" or $CURATE_HOST_ROOT):
 *   sys/class/drm/card<N>, renderD<N>   DRM nodes; each links to its device
 *                                       directory, whose "device" link names
 *                                       the PCI device ("0000:03:00.0")
 *   sys/class/drm/<node>/device/vendor  "0x1002" for AMD
 *   sys/class/drm/<node>/dev            "226:128": the node's numbers
 *   sys/class/kfd/kfd/dev               /dev/kfd's numbers (amdkfd)
 * A container gets what ROCm's container docs and the AMD container toolkit
 * give it: /dev/kfd, the one compute interface for every GPU, and per GPU its
 * /dev/dri/card<N> and /dev/dri/renderD<N>. GPUs are indexed in PCI bus id
 * order, which does not change with driver probe order, never by card
 * number: card1 may well be GPU 0. */
#include <stdbool.h>
#include <stddef.h>
#include "device.h"

#define AMD_PCI_VENDOR 0x1002

/* One PCI device with a DRM card node, a render node or both. The major of
 * each node is read from its own "dev" file (DRM_MAJOR, 226, everywhere
 * today, but read, not assumed). */
struct amd_gpu {
        char *bus_id;      /* the PCI device, "0000:03:00.0" */
        bool has_card, has_render;
        char *card_name;   /* "card1"; NULL without a card node */
        char *render_name; /* "renderD129"; NULL without a render node */
        unsigned card_major, card_minor;
        unsigned render_major, render_minor;
};

struct amd_host {
        struct amd_gpu *gpus; /* ordered by PCI bus id: the index */
        size_t n_gpus;
        /* No sys/class/kfd/kfd (amdkfd not built or not loaded, or a kernel
         * too old): not an error. ROCm compute needs /dev/kfd, but a
         * graphics-only (Mesa/Vulkan) container works with the DRI nodes
         * alone, so selection then gives those only. */
        bool has_kfd;
        unsigned kfd_major, kfd_minor;
};

/* Parse a sysfs "dev" file ("MAJOR:MINOR", decimal, a trailing newline).
 * 0; -EINVAL when malformed or out of range (12-bit major, 20-bit minor).
 * Outputs are written only on success. */
int amd_parse_dev(const char *text, unsigned *ret_major, unsigned *ret_minor);

/* Parse a PCI "vendor" file ("0x1002"). 0; -EINVAL. */
int amd_parse_vendor(const char *text, unsigned *ret_vendor);

/* Read the host beneath ROOT_FD. 0; -ENODEV when no DRM node belongs to an
 * AMD PCI device (nodes of other vendors, connectors such as card0-DP-1,
 * controlD<N> and DRM nodes of no PCI device are ignored); -EINVAL for a
 * malformed vendor or dev file, an AMD node whose "device" link names no
 * PCI device, or two card (render) nodes on one device; other -errno. *RET_ERROR names the file (relative to the root) and what was
 * wrong. RET is written only on success; release it with amd_host_done(). */
int amd_discover(int root_fd, struct amd_host *ret, char **ret_error);
void amd_host_done(struct amd_host *h);

/* The device nodes SPEC gives on HOST. SPEC is what follows "amd:" in
 * --gpu: "all" (case-insensitive), or a comma list of entries, each a GPU
 * index ("0,1") or a PCI bus id ("0000:83:00.0", case-insensitive, full
 * form); entries may be surrounded by blanks. Strict like gpu_select_parse(),
 * since a policy typo must not silently grant or drop a GPU: an empty spec,
 * an empty entry, a duplicate entry, "all" combined with other entries or an
 * entry of neither form is -EINVAL. An index and a bus id naming one GPU give
 * it once. RET gets, access "rwm", type 'c', path == host_path, owner left to
 * the host node's ((uid_t)-1): /dev/kfd first (when the host has it, mode
 * 0666), then per selected GPU in index order (whatever the order written)
 * /dev/dri/card<N> (0660) and /dev/dri/renderD<N> (0666), where it has them;
 * the modes are systemd's udev defaults (50-udev-default.rules). 0, or
 * -EINVAL, -ENOENT (an unknown index or bus id: *RET_ERROR names it and lists
 * the host's AMD GPUs), -ENODEV ("all" on a host without AMD GPU), -ENOMEM.
 * RET is written only on success; release it with device_list_done(). */
int amd_select_resolve(const char *spec, const struct amd_host *host, struct device_list *ret,
                       char **ret_error);
