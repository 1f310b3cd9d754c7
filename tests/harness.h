/*
 * Starting the real annalsd for integration tests, and talking to it
 * byte by byte for the tests of malformed input.
 */
#ifndef ANNALS_HARNESS_H
#define ANNALS_HARNESS_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

struct th_daemon {
	pid_t	pid;
	char	dir[64];	/* the test's directory */
	char	data[96];	/* dir/data */
	char	sock[108];	/* dir/annalsd.sock: fits sun_path */
	char	log[96];	/* dir/annalsd.log */
};

/* Start annalsd on dir/ (the test's t_dir()); wait for READY=1. */
int	 th_daemon_start(struct th_daemon *, const char **);
/* The same in dir, which exists: several daemons in one test. */
int	 th_daemon_start_in(struct th_daemon *, const char *, const char **);
/*
 * th_daemon_start_in with the write gate preloaded (tests/preload/
 * gate-write.c): writes to files under a "/gated/" path wait at gate,
 * a directory, until gate/open exists.
 */
int	 th_daemon_start_gated(struct th_daemon *, const char *,
	     const char *, const char **);
/* SIGTERM, wait, return the exit status (0 when it stopped cleanly). */
int	 th_daemon_stop(struct th_daemon *);
/* SIGKILL, for crash tests. */
void	 th_daemon_kill(struct th_daemon *);
/* Print the daemon's log to stderr (shown when the test fails). */
void	 th_daemon_dump_log(const struct th_daemon *);

/* What one run of annals printed, and how it ended. */
struct th_run {
	int		 status;	/* exit status, or 128 + signal */
	char		*out;
	char		*err;
	/* import's summary line, when it printed one */
	uint64_t	 added, updated, unchanged, rejected, rows;
};

/*
 * Run argv (NULL-terminated; argv[0] a path, or looked up on PATH) with
 * stdin from in (NULL: /dev/null) and its output in the files out and
 * err (with merge, stderr goes to out and err stays empty), so that a
 * large output cannot block it.  Returns its exit status, or 128 + the
 * signal that ended it.
 */
int	 th_spawn(const char *const *, const char *, const char *,
	     const char *, int);
/* Run annals -s SOCK ARGS... with stdin from in (or /dev/null). */
void	 th_annals(struct th_run *, const char *, const char *,
	     const char **);
void	 th_run_free(struct th_run *);
/* th_annals() with ARGS in the call, which must exit with want. */
#define TH_ANNALS(r, sock, in, want, ...) do {				\
	const char *th_args_[] = { __VA_ARGS__, NULL };			\
	th_annals((r), (sock), (in), th_args_);				\
	T_ASSERTF((r)->status == (want), "exit %d, wanted %d; "		\
	    "stderr: %s", (r)->status, (want), (r)->err);		\
} while (0)
/*
 * The events of source (NULL: all) as annals export prints them, a JSON
 * array of records; the caller json_decref()s it.
 */
struct json_t	*th_export(const char *, const char *);
/* The number of events the daemon holds, from its stats. */
uint64_t	 th_event_count(const char *);
/* A file's bytes, NUL-terminated; *lenp gets the length. */
char	*th_slurp(const char *, size_t *);
void	 th_write(const char *, const void *, size_t);

int	 th_raw_connect(const char *);
int	 th_free_port(void);
int	 th_tcp_connect(int);
int	 th_tcp_listen(int);
int	 th_send_all(int, const void *, size_t);
/* Read one frame within ms; returns its body length, -1 on close/timeout. */
ssize_t	 th_read_frame(int, unsigned char *, size_t, int);
/* Send a framed request [0, msgid, method, [params map bytes]]. */
int	 th_send_request(int, uint32_t, const char *, const void *, size_t);
/*
 * Send a request with params (a packed map, or NULL) and read its answer
 * into buf within ms; returns its error code (0: a result), with the
 * message in msg.
 */
int	 th_call(int, uint32_t, const char *, const void *, size_t,
	     unsigned char *, size_t, int, char *, size_t);
/* Whether the peer closed within ms. */
int	 th_wait_closed(int, int);
unsigned long th_process_ticks(pid_t);
/* A size of /proc/PID/status in KiB, such as "VmRSS" or "VmHWM". */
long	 th_status_kb(pid_t, const char *);
unsigned long th_thread_ticks(pid_t, const char *, int *);

#endif
