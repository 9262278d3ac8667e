#pragma once
#include <stdint.h>

/* How long before NOW (now_monotonic_ns) THEN was: 0 when THEN is later.
 * Threads read the clock before taking a lock and stamp what they touch
 * under it, so a stamp may be later than another thread's NOW: a plain
 * NOW - THEN wraps to an age of centuries (an entry in use taken for idle,
 * a snapshot just reported for stale). */
static inline uint64_t ns_age(uint64_t now, uint64_t then) {
        return now > then ? now - then : 0;
}
