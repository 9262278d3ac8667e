#include <errno.h>
#include "config.h"
#include "launcher.h"
const char *curatefs_binary(void) { return "curatefs"; }
bool daemon_serving(const char *mountpoint) { return false; }
int daemon_ensure(const char *mountpoint, bool *ret_started, char **ret_error) { return -ENOSYS; }
int daemon_main(int argc, char **argv) { return 125; }
