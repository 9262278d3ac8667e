/* Device registrations (lib/registration.c): the per-container file curate
 * writes and curatefs reads. A registration directory is writable by root
 * alone, but the daemon must survive whatever lies there. Whatever parses is
 * also written back and read again, which must give the same entries. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "registration.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
        /* reg_write / reg_read work in $CURATE_DEVICES_DIR */
        setenv("CURATE_DEVICES_DIR", fuzz_dir_path(), 1);
        return 0;
}

static bool same(const struct reg_entry *a, const struct reg_entry *b, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(a[i].path, b[i].path) != 0 || a[i].mode != b[i].mode || a[i].rdev != b[i].rdev ||
                    strcmp(a[i].access, b[i].access) != 0)
                        return false;
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = fuzz_str(data, size), *error = NULL;
        struct reg_entry *e = NULL, *back = NULL;
        unsigned line = 0;

        int n = reg_parse(text, &e, &line);
        free(text);
        if (n < 0)
                return 0;
        if (reg_write("fuzz", e, n, &error) < 0)
                abort();
        int m = reg_read("fuzz", &back, &error);
        if (m != n || !same(e, back, n))
                abort(); /* what the writer wrote, the reader must read back */
        reg_entries_free(e, n);
        reg_entries_free(back, m);
        free(error);
        return 0;
}
