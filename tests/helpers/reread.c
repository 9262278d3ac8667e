/* Test helper: reads FILE the ways real clients do.
 *   reread seek FILE N   - open once, N times lseek(0)+read, print each read
 *   reread chunk FILE K [US] - read to EOF in K-byte reads US microseconds
 *                          apart (default 1000), print the whole text
 *   reread write FILE    - try to open for writing, print the errno name
 *   reread shared FILE N - 4 threads pread(offset 0) one shared fd N times
 *                          each; prints "good BAD" counts of complete reads */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct shared {
        int fd;
        long n, good, bad;
        pthread_mutex_t lock;
};

static void *shared_reader(void *arg) {
        struct shared *sh = arg;
        char buf[65536];
        long good = 0, bad = 0;
        for (long i = 0; i < sh->n; i++) {
                ssize_t r = pread(sh->fd, buf, sizeof(buf) - 1, 0);
                buf[r > 0 ? r : 0] = 0;
                /* a complete meminfo starts with MemTotal and ends in a newline */
                if (r > 0 && strncmp(buf, "MemTotal:", 9) == 0 && buf[r - 1] == '\n' && strstr(buf, "\nMemFree:"))
                        good++;
                else
                        bad++;
        }
        pthread_mutex_lock(&sh->lock);
        sh->good += good;
        sh->bad += bad;
        pthread_mutex_unlock(&sh->lock);
        return NULL;
}

int main(int argc, char **argv) {
        if (argc < 3)
                return 2;
        if (strcmp(argv[1], "write") == 0) {
                int fd = open(argv[2], O_WRONLY | O_CLOEXEC);
                printf("%s\n", fd < 0 ? strerrorname_np(errno) : "OPENED");
                return 0;
        }
        int fd = open(argv[2], O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                printf("open: %s\n", strerrorname_np(errno));
                return 1;
        }
        long n = argc > 3 ? atol(argv[3]) : 1;
        char buf[65536];
        if (strcmp(argv[1], "shared") == 0) {
                struct shared sh = { .fd = fd, .n = n, .lock = PTHREAD_MUTEX_INITIALIZER };
                pthread_t t[4];
                for (int i = 0; i < 4; i++)
                        pthread_create(&t[i], NULL, shared_reader, &sh);
                for (int i = 0; i < 4; i++)
                        pthread_join(t[i], NULL);
                printf("%ld %ld\n", sh.good, sh.bad);
                return 0;
        }
        if (strcmp(argv[1], "seek") == 0) {
                for (long i = 0; i < n; i++) {
                        if (lseek(fd, 0, SEEK_SET) != 0)
                                return 1;
                        ssize_t r = read(fd, buf, sizeof(buf) - 1);
                        if (r < 0) {
                                printf("read: %s\n", strerrorname_np(errno));
                                return 1;
                        }
                        fwrite(buf, 1, r, stdout);
                        printf("--\n");
                        fflush(stdout);
                        if (i + 1 < n)
                                usleep(200000);
                }
                return 0;
        }
        for (;;) {
                size_t k = n > 0 && n < (long)sizeof(buf) ? (size_t)n : sizeof(buf);
                ssize_t r = read(fd, buf, k);
                if (r < 0) {
                        printf("read: %s\n", strerrorname_np(errno));
                        return 1;
                }
                if (r == 0)
                        break;
                fwrite(buf, 1, r, stdout);
                usleep(argc > 4 ? atoi(argv[4]) : 1000);
        }
        return 0;
}
