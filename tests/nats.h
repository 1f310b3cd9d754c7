/* NATS JetStream for the tests and the replica benchmark (tests/nats.c). */
#ifndef ANNALS_TEST_NATS_H
#define ANNALS_TEST_NATS_H

#include <sys/types.h>

#include <stdint.h>

#include <msgpack.h>

struct th_daemon;

/* One nats-server -js, in dir, on port (and cport in a cluster). */
struct nsrv {
	pid_t	pid;
	int	port;
	int	cport;		/* cluster port, or 0 */
	char	dir[128];
	char	name[16];
	char	routes[256];
};

/* Skip the test without libnats or nats-server. */
void	 need_nats(void);
/* Start argv (searched in PATH) with stdout and stderr to log. */
pid_t	 spawn(const char *, const char *const *);
/* A server named name in the test's directory, on a free port. */
void	 nats_one(struct nsrv *, const char *);
void	 nats_start(struct nsrv *);
/* Send sig, wait up to 15 s, then SIGKILL; *pid becomes 0. */
void	 proc_stop(pid_t *, int);
/* Run annals-nats args to its end, output to log; its exit status. */
int	 annals_nats(const char *, const char *const *);
/* annals-nats publish of stream at url from the primary at sock. */
pid_t	 publisher_start(const char *, const char *, const char *);
/* annals-nats init, retried while a cluster elects its leader. */
void	 stream_init(const char *, const char *, const char *,
	     const char *);
/* annalsd --follow in the test's directory name (with --http http). */
void	 replica_start_http(struct th_daemon *, const char *, const char *,
	     const char *, const char *);
void	 replica_start(struct th_daemon *, const char *, const char *,
	     const char *);
/* The raw stats of the daemon at sock, unpacked into u from *buf. */
int	 stats_of(const char *, msgpack_unpacked *, void **);
/* A uint of a map, UINT64_MAX when absent. */
uint64_t stat_u64(const msgpack_object *, const char *);
uint64_t last_seq_of(const char *);
/* Wait up to seconds for the replica to have applied up to seq. */
void	 wait_applied(const struct th_daemon *, uint64_t, int);

#endif
