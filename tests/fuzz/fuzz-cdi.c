/* CDI specs (devices/cdi.c): JSON (json-c) or YAML (libyaml) files that
 * GPU vendors' tools drop into /etc/cdi and /var/run/cdi. Built twice:
 * fuzz-cdi-json and fuzz-cdi-yaml (CDI_SUFFIX), so each keeps its own
 * corpus. The input is parsed the way cdi_registry_load reads a file: its
 * bytes and length, NUL-terminated. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "cdi.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1), *error = NULL;
        struct cdi_spec s;

        if (!text)
                abort();
        memcpy(text, data, size);
        text[size] = 0;
        if (cdi_spec_parse("/etc/cdi/fuzz" CDI_SUFFIX, text, size, &s, &error) == 0)
                cdi_spec_done(&s);
        free(error);
        free(text);
        return 0;
}
