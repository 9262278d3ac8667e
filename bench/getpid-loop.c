/* getpid-loop: what does a system call cost here, seccomp filter or not?
 *
 *   getpid-loop [N]
 *
 * Calls syscall(SYS_getpid) N times (default 100000) in each of 10 rounds,
 * timed with CLOCK_MONOTONIC, and prints two lines:
 *   getpid ns/call: X            (the best round's mean)
 *   seccomp: Seccomp:\t2         (this process's line of /proc/self/status)
 * Run it inside and outside `curate run` (and under --seccomp unconfined) to
 * see what the filter adds to a syscall it allows. Since Linux 5.11 the
 * kernel skips the filter for syscalls it always allows (its seccomp action
 * cache), getpid among them. A benchmark, not a test: it judges nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 10

static double now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* the "Seccomp:" line of /proc/self/status, without its newline */
static void seccomp_line(char *buf, size_t size) {
        FILE *f = fopen("/proc/self/status", "re");

        snprintf(buf, size, "unknown");
        if (!f)
                return;
        while (fgets(buf, (int)size, f))
                if (strncmp(buf, "Seccomp:", 8) == 0) {
                        buf[strcspn(buf, "\n")] = 0;
                        fclose(f);
                        return;
                }
        snprintf(buf, size, "unknown");
        fclose(f);
}

int main(int argc, char **argv) {
        long n = 100000;
        double best = -1;
        char line[128], *end = NULL;

        if (argc == 2)
                n = strtol(argv[1], &end, 10);
        if (argc > 2 || n <= 0 || (end && *end)) {
                fprintf(stderr, "usage: getpid-loop [N]   (N calls per round, %d rounds)\n", ROUNDS);
                return 2;
        }
        for (int r = 0; r < ROUNDS; r++) {
                double start = now_ns(), ns;
                for (long i = 0; i < n; i++)
                        syscall(SYS_getpid);
                ns = (now_ns() - start) / (double)n;
                if (best < 0 || ns < best)
                        best = ns;
        }
        seccomp_line(line, sizeof(line));
        printf("getpid ns/call: %.1f\n", best);
        printf("seccomp: %s\n", line);
        return 0;
}
