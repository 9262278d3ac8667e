/* Device numbers the host shows (devices/nvidia.c, devices/amd.c):
 * /proc/devices (the drivers' character majors), sysfs "dev" files
 * ("MAJOR:MINOR") and PCI "vendor" files. The first byte picks which. */
#include "config.h"
#include <stdlib.h>
#include "amd.h"
#include "fuzz.h"
#include "nvidia.h"

static const char *const names[] = { "nvidia-frontend", "nvidia", "nvidia-uvm", "nvidia-caps", "drm", "mem" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        unsigned which = fuzz_pick(&data, &size, 3);
        char *text = fuzz_str(data, size);
        unsigned major, minor, vendor;

        switch (which) {
        case 0:
                for (size_t i = 0; i < ELEMENTSOF(names); i++)
                        if (parse_proc_devices(text, names[i], &major) == 0 && major > 4095)
                                abort();
                break;
        case 1:
                if (amd_parse_dev(text, &major, &minor) == 0 && (major >= 1u << 12 || minor >= 1u << 20))
                        abort();
                break;
        case 2:
                (void)amd_parse_vendor(text, &vendor);
                break;
        }
        free(text);
        return 0;
}
