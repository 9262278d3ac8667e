/* Policy files (policies/policy-load.c, libinih): the text a user or a
 * distribution ships in /etc/curate/policies, applied over the default
 * policy the way `curate run --policy FILE` applies it. */
#include "config.h"
#include <stdlib.h>
#include "fuzz.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = fuzz_str(data, size), *error = NULL;
        struct policy p;

        if (policy_init_default(&p) < 0)
                abort();
        /* a failed load leaves P as it was: policy_done must still work */
        (void)policy_load_string(&p, "fuzz.conf", text, &error);
        policy_done(&p);
        free(error);
        free(text);
        return 0;
}
