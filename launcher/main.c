#include "config.h"
int main(void) { return 125; }
