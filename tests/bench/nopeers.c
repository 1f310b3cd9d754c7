/* `make bench` measures annalsd alone: no peers are linked in. */
#include <stddef.h>

#include "bench.h"

const struct bench_sys	*bench_peers[] = { NULL };
