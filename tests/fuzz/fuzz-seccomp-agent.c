/* The seccomp agent's message (fs/seccomp-agent-msg.c): the JSON an OCI
 * runtime sends with a container's listener fd to curatefs's socket, read
 * in the holder, the process that must never die. The first byte says how
 * many fds came with it; whatever parses must name an fd that came and
 * give a registration name curatefs accepts. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "registration.h"
#include "seccomp-agent-msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct agent_msg m;
        char name[REG_ID_MAX + 1];
        unsigned n_fds;

        if (size < 1)
                return 0;
        n_fds = data[0] % (AGENT_FDS_MAX + 2);
        if (agent_msg_parse((const char *)data + 1, size - 1, n_fds, &m) < 0)
                return 0;
        if (m.seccomp_index >= n_fds || m.pid <= 0)
                abort();
        agent_reg_name(&m, ~0UL, name, sizeof(name));
        if (!reg_id_valid(name) || strlen(m.id) > AGENT_ID_MAX)
                abort();
        return 0;
}
