/* Test helper: sysinfo(2) called directly, the ways a test needs.
 *   sysinfo-probe fields           - every field, one "name=value" a line
 *   sysinfo-probe bad              - with unmapped and NULL pointers: the
 *                                    errno names, one a line
 *   sysinfo-probe compat           - through the i386 (int $0x80) and x32
 *                                    entries: "i386=RESULT x32=RESULT"
 *   sysinfo-probe loop SECONDS THREADS TOTAL
 *                                  - THREADS threads call it in a tight loop
 *                                    for SECONDS; prints "calls=N wrong=N
 *                                    errors=N max_ms=N": wrong counts the
 *                                    answers whose totalram*mem_unit is not
 *                                    TOTAL (bytes), max_ms the slowest call
 *   sysinfo-probe pending FILE PID - how many slots of curatefs's pending file
 *                                    (fs/sysinfo-notify.h) PID owns with a
 *                                    notification received and not answered */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <fcntl.h>
#include "sysinfo-notify.h"

static long raw_sysinfo(void *p) {
        return syscall(SYS_sysinfo, p);
}

static const char *errname(int e) {
        switch (e) {
        case 0: return "OK";
        case EFAULT: return "EFAULT";
        case ENOSYS: return "ENOSYS";
        case EIO: return "EIO";
        case EPERM: return "EPERM";
        default: return strerror(e);
        }
}

static int fields(void) {
        struct sysinfo si;
        if (raw_sysinfo(&si) < 0) {
                printf("error=%s\n", errname(errno));
                return 1;
        }
        printf("uptime=%ld\nload1=%lu\nload5=%lu\nload15=%lu\ntotalram=%lu\nfreeram=%lu\nsharedram=%lu\n"
               "bufferram=%lu\ntotalswap=%lu\nfreeswap=%lu\nprocs=%u\ntotalhigh=%lu\nfreehigh=%lu\nmem_unit=%u\n",
               si.uptime, si.loads[0], si.loads[1], si.loads[2], si.totalram, si.freeram, si.sharedram,
               si.bufferram, si.totalswap, si.freeswap, (unsigned)si.procs, si.totalhigh, si.freehigh, si.mem_unit);
        return 0;
}

static int bad(void) {
        void *unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        munmap(unmapped, 4096);
        printf("%s\n", errname(raw_sysinfo(unmapped) < 0 ? errno : 0));
        printf("%s\n", errname(raw_sysinfo(NULL) < 0 ? errno : 0));
        printf("%s\n", errname(raw_sysinfo((void *)-4096L) < 0 ? errno : 0));
        return 0;
}

static int compat(void) {
        long i386 = -ENOSYS, x32;
#if defined(__x86_64__)
        /* an i386 pointer must sit below 4 GiB */
        void *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (low != MAP_FAILED)
                __asm__ volatile("int $0x80" : "=a"(i386) : "a"(116), "b"((long)low) : "memory", "rcx", "r11");
        x32 = syscall(0x40000000 | 99, low);
        x32 = x32 < 0 ? -errno : x32;
#else
        x32 = -ENOSYS;
#endif
        printf("i386=%s x32=%s\n", errname(i386 < 0 ? (int)-i386 : 0), errname(x32 < 0 ? (int)-x32 : 0));
        return 0;
}

struct loop {
        double seconds;
        uint64_t total;
        atomic_long calls, wrong, errors, max_ns;
};

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void *loop_thread(void *arg) {
        struct loop *l = arg;
        uint64_t end = now_ns() + (uint64_t)(l->seconds * 1e9);

        for (uint64_t t0 = now_ns(); t0 < end; t0 = now_ns()) {
                struct sysinfo si;
                long r = raw_sysinfo(&si);
                long took = (long)(now_ns() - t0), m = atomic_load(&l->max_ns);
                while (took > m && !atomic_compare_exchange_weak(&l->max_ns, &m, took))
                        ;
                atomic_fetch_add(&l->calls, 1);
                if (r < 0)
                        atomic_fetch_add(&l->errors, 1);
                else if ((uint64_t)si.totalram * si.mem_unit != l->total)
                        atomic_fetch_add(&l->wrong, 1);
        }
        return NULL;
}

static int loop(double seconds, int threads, uint64_t total) {
        static struct loop l;
        pthread_t t[64];

        l.seconds = seconds;
        l.total = total;
        if (threads < 1 || threads > 64)
                return 2;
        for (int i = 0; i < threads; i++)
                pthread_create(&t[i], NULL, loop_thread, &l);
        for (int i = 0; i < threads; i++)
                pthread_join(t[i], NULL);
        printf("calls=%ld wrong=%ld errors=%ld max_ms=%ld\n", atomic_load(&l.calls), atomic_load(&l.wrong),
               atomic_load(&l.errors), atomic_load(&l.max_ns) / 1000000);
        return 0;
}

static int pending(const char *path, int pid) {
        struct sysinfo_pending p;
        int fd = open(path, O_RDONLY | O_CLOEXEC), n = 0;

        if (fd < 0 || pread(fd, &p, sizeof(p), 0) != (ssize_t)sizeof(p)) {
                perror(path);
                return 1;
        }
        close(fd);
        for (unsigned i = 0; i < SYSINFO_SLOTS; i++)
                n += atomic_load(&p.slot[i].owner) == pid && sysinfo_slot_pending(&p.slot[i]);
        printf("%d\n", n);
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 4 && strcmp(argv[1], "pending") == 0)
                return pending(argv[2], atoi(argv[3]));
        if (argc == 2 && strcmp(argv[1], "fields") == 0)
                return fields();
        if (argc == 2 && strcmp(argv[1], "bad") == 0)
                return bad();
        if (argc == 2 && strcmp(argv[1], "compat") == 0)
                return compat();
        if (argc == 5 && strcmp(argv[1], "loop") == 0)
                return loop(atof(argv[2]), atoi(argv[3]), strtoull(argv[4], NULL, 10));
        fprintf(stderr, "usage: sysinfo-probe fields|bad|compat|loop SECONDS THREADS TOTAL\n");
        return 2;
}
