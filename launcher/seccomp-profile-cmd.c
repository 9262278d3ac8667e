#include "config.h"
/* curate seccomp-profile: the command around seccomp-profile.c. A CDI spec
 * cannot set a container's seccomp profile, so the profile that sends
 * sysinfo(2) to curatefs is a file the engine is given:
 *   podman run --security-opt seccomp=FILE ...   */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "fileio.h"
#include "launcher.h"
#include "macro.h"
#include "seccomp-profile.h"

#define PROFILE_FAILED 1
#define PROFILE_USAGE 2

static void profile_help(void) {
        printf("Usage: curate seccomp-profile [--base FILE] [--output FILE] [--socket PATH]\n"
               "\n"
               "Write a seccomp profile for podman, CRI-O or runc that is FILE (default\n"
               "%s, the engine's default profile) with sysinfo(2)\n"
               "sent to curatefs (SCMP_ACT_NOTIFY, \"listenerPath\": PATH), so that busybox free\n"
               "and uptime, getloadavg() and JVMs see the container's memory, load and uptime:\n"
               "\n"
               "  curate seccomp-profile --output /etc/curate/seccomp.json\n"
               "  podman run --security-opt seccomp=/etc/curate/seccomp.json \\\n"
               "         --device curate.dev/views=all --memory 256m IMAGE free\n"
               "\n"
               "Options:\n"
               "  -b, --base FILE     the profile to start from (default %s)\n"
               "  -o, --output FILE   where to write it, atomically (default -: stdout)\n"
               "  -s, --socket PATH   curatefs's seccomp agent socket (default %s,\n"
               "                      where the daemon on the default mount point listens)\n"
               "  -h, --help          show this help and exit\n"
               "\n"
               "sysinfo is taken out of every rule of FILE that names it. The runtime connects\n"
               "to PATH when it starts each container process: with no curatefs listening\n"
               "there, a container with this profile does not start. `curate daemon start`\n"
               "writes the default one as %s.\n"
               "\n"
               "Exit status: 0 written, 1 failed (nothing written), 2 usage.\n",
               SECCOMP_PROFILE_BASE, SECCOMP_PROFILE_BASE, seccomp_profile_default_socket(), SECCOMP_PROFILE_DEFAULT);
}

static int usage(const char *fmt, const char *arg) {
        fprintf(stderr, "curate: seccomp-profile: ");
        fprintf(stderr, fmt, arg);
        fprintf(stderr, "\nTry 'curate seccomp-profile --help' for more information.\n");
        return PROFILE_USAGE;
}

int seccomp_profile_main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "base", required_argument, NULL, 'b' },
                { "output", required_argument, NULL, 'o' },
                { "socket", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *base = SECCOMP_PROFILE_BASE, *output = "-", *socket = seccomp_profile_default_socket();
        _cleanup_free_ char *error = NULL;
        struct stat st;
        int c, r;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "b:o:s:h", longopts, NULL)) >= 0) {
                switch (c) {
                case 'b':
                case 'o':
                        if (!*optarg)
                                return usage(c == 'b' ? "--base: empty path%s" : "--output: empty path%s", "");
                        *(c == 'b' ? &base : &output) = optarg;
                        break;
                case 's':
                        /* a runtime dials it from its own working directory */
                        if (optarg[0] != '/')
                                return usage("--socket %s: want an absolute path", optarg);
                        socket = optarg;
                        break;
                case 'h':
                        profile_help();
                        return 0;
                default:
                        return usage("unknown option or missing value '%s'", argv[optind - 1]);
                }
        }
        if (optind != argc)
                return usage("unexpected argument '%s'", argv[optind]);
        r = seccomp_profile_write(base, socket, output, &error);
        if (r < 0) {
                fprintf(stderr, "curate: seccomp-profile: %s\n", error ? error : strerror(-r));
                return PROFILE_FAILED;
        }
        if (stat(socket, &st) < 0 || !S_ISSOCK(st.st_mode))
                fprintf(stderr,
                        "curate: seccomp-profile: warning: no curatefs listens at %s yet; containers given this "
                        "profile fail to start until one does\n",
                        socket);
        return 0;
}

void seccomp_profile_daemon_started(const char *canonical) {
        char def[PATH_MAX];
        _cleanup_free_ char *error = NULL;

        /* the default daemon's socket, as the default CDI spec: only the
         * daemon on the default mount point listens there */
        if (geteuid() != 0 || !realpath(CURATEFS_DEFAULT_MOUNTPOINT, def) || !streq(def, canonical) ||
            access(SECCOMP_PROFILE_BASE, R_OK) < 0)
                return;
        if (seccomp_profile_write(SECCOMP_PROFILE_BASE, seccomp_profile_default_socket(), SECCOMP_PROFILE_DEFAULT,
                                  &error) < 0)
                fprintf(stderr, "curate: daemon: seccomp profile not written: %s\n", error ? error : "out of memory");
        else
                printf("seccomp profile %s written (sysinfo(2) answered by curatefs)\n", SECCOMP_PROFILE_DEFAULT);
}
