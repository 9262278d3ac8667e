/* sysinfo-loop: what does a sysinfo(2) call cost, answered by the kernel or
 * through curate's seccomp user notification (curatefs, or the launcher)?
 *
 *   sysinfo-loop [N]
 *
 * Calls sysinfo(2) N times (default 100000) in each of 5 rounds, timed with
 * CLOCK_MONOTONIC, and prints one line:
 *   sysinfo ns/call: X totalram: BYTES
 * (X the best round's mean, BYTES what the calls said: the host's or the
 * container's). Run it on the host, in `curate run` and in `curate run
 * --no-sysinfo` (bench/run-sysinfo.sh). A benchmark: it judges nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 5

static double now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
        long n = argc > 1 ? atol(argv[1]) : 100000;
        double best = 0;
        struct sysinfo si = { 0 };

        if (n <= 0) {
                fprintf(stderr, "usage: sysinfo-loop [N]\n");
                return 2;
        }
        for (int round = 0; round < ROUNDS; round++) {
                double t0 = now_ns(), per;
                for (long i = 0; i < n; i++)
                        if (syscall(SYS_sysinfo, &si) < 0) {
                                perror("sysinfo");
                                return 1;
                        }
                per = (now_ns() - t0) / (double)n;
                if (round == 0 || per < best)
                        best = per;
        }
        printf("sysinfo ns/call: %.0f totalram: %llu\n", best, (unsigned long long)si.totalram * si.mem_unit);
        return 0;
}
