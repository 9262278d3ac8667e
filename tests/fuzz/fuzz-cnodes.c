/* The c/ nodes' reader check (fs/cnodes.c): a reader's /proc/PID/cgroup
 * text against a container id (cnodes_reader_in) and against a node's
 * serial (cnodes_reader_find, which names the id from the text alone).
 * NUL-separated: the cgroup text, then an id. */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "cnodes.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *segs[2], found[REG_ID_MAX + 1];
        size_t idx;
        uint64_t serial, s2;

        fuzz_split(data, size, segs, ELEMENTSOF(segs));
        const char *text = segs[0] ? segs[0] : "", *id = segs[1] ? segs[1] : "a";
        bool in = cnodes_reader_in(text, id);
        if (in && !reg_id_valid(id))
                abort();
        if (reg_id_valid(id)) {
                serial = cnodes_serial(id);
                if (serial == 0 || serial >= (1ULL << CNODE_SERIAL_BITS))
                        abort();
                if (!cnodes_ino_split(cnodes_ino(serial, 7), &s2, &idx) || s2 != serial || idx != 7)
                        abort();
                /* a reader in ID is found for ID's serial; what is found is
                 * an id the reader is in, with that serial */
                bool got = cnodes_reader_find(text, serial, found);
                if (in && !got)
                        abort();
                if (got && (cnodes_serial(found) != serial || !cnodes_reader_in(text, found)))
                        abort();
        }
        fuzz_segs_free(segs, ELEMENTSOF(segs));
        return 0;
}
