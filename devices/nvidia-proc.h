#pragma once
/* What a container's /proc/driver/nvidia shows, the way libnvidia-container
 * builds it (src/nvc_mount.c, mount_procfs): a tmpfs holding a copy of
 * `params` that says "ModifyDeviceFiles: 0" (so the driver's user-space
 * tools inside do not try to mknod /dev/nvidia* themselves), copies of
 * `version` and `registry`, and only the given GPUs' gpus/<bus id>
 * directories. The view is derived from the container's final device set,
 * whatever gave it (--gpu, --device /dev/nvidia1, a CDI spec), so what
 * /proc shows always matches what /dev and the device cgroup allow. */
#include "device.h"
#include "nvidia.h"

/* TEXT (the host's params: "Key: value" lines) with the value of every
 * "ModifyDeviceFiles:" line set to 0, "ModifyDeviceFiles: 0\n" appended when
 * no line has that key. Every other byte is kept: the other lines, the
 * blanks around the value, CRLF line ends. 0 or -ENOMEM; *RET is malloc'd. */
int nvidia_params_rewrite(const char *text, char **ret);

/* The bus ids of the GPUs L gives on H, the entries to show under
 * /proc/driver/nvidia/gpus: a node of type 'c' with major H->major whose
 * minor is some GPU's Device Minor selects that GPU (nvidiactl 255 and
 * nvidia-modeset 254 select none; a MIG device brings its parent's node and
 * so its parent). NULL-terminated, in H's order (PCI bus id order), each
 * once; possibly empty. 0 or -ENOMEM; release with gpu_select_strv_free(). */
int nvidia_proc_gpus(const struct nvidia_host *h, const struct device_list *l, char ***ret_bus_ids);

/* The capability files L gives access to, relative to /proc/driver/nvidia:
 * for each /dev/nvidia-caps node of L (type 'c', major H->caps_major) the
 * access file whose DeviceFileMinor it is:
 *   capabilities/gpu<minor>/mig/gi<N>/access        a GPU instance
 *   capabilities/gpu<minor>/mig/gi<N>/ci<M>/access  a compute instance
 *   capabilities/mig/config, capabilities/mig/monitor  MIG management
 * NVML inside reads these to find which MIG devices it may open; showing
 * only the ones whose node the container has keeps the others out of its
 * view (as libnvidia-container mounts only the selected MIG devices' caps).
 * NULL-terminated, in H's order (GPU, then (gi, ci)), management last, each
 * once; empty without caps nodes. 0 or -ENOMEM; release with
 * gpu_select_strv_free(). */
int nvidia_proc_caps(const struct nvidia_host *h, const struct device_list *l, char ***ret_paths);
