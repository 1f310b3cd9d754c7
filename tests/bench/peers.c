/* `make bench-peers`: the systems a user would pick instead. */
#include <stddef.h>

#include "bench.h"

const struct bench_sys	*bench_peers[] = {
	&bench_redis, &bench_redis_everysec, &bench_sqlite, NULL
};
