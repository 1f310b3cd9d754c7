/*
 * The benchmark runner: `bench` measures annalsd and the echo floor,
 * `bench --peers` also Redis and SQLite, in one run on the same records.
 *
 * For each system in turn: start it on a fresh directory and load the
 * records in feed order (days ascending, as a feed or an import sends
 * them), the first half with one client and the second half with four
 * (pipelined batches acknowledged after commit), note its size and stop
 * it; then start it on another directory, load the same records in
 * random order the same way, note its size, run each timed workload for
 * BENCH_SECS seconds with 1 or 8 client processes, and stop it.  A
 * system with a way of its own for it (annals compact) compacts each
 * store before it stops, and its size is noted beside the load's: the
 * size targets are the load's.  Clients are forked, connect, wait at a
 * barrier and run until a shared deadline; their latencies go to shared
 * memory and are merged here.  Only one system runs at a time.
 *
 * Environment:
 *	BENCH_N		records (default 1000000)
 *	BENCH_SECS	seconds per timed workload (default 3)
 *	BENCH_BATCH	records per put (default 1000)
 *	BENCH_DIR	where the temporary directory goes (default: the
 *			build directory); tmpfs is refused
 *	BENCH_DATA	the GDELT samples (default ../shared/data, and
 *			without it the cuts of them in tests/data)
 *	BENCH_GDELT_N	records of the GDELT run (default 100000, 0: none)
 *	BENCH_WORK	only these timed workloads ("range-1c,get-1c");
 *			the loads always run
 *	BENCH_ORDER	"feed": no random-order load; the workloads run on
 *			the store loaded in feed order (a 10M random-order
 *			load takes hours)
 *	BENCH_TSV	the raw figures (default BUILD/bench-*.tsv)
 *	BENCH_KEEP	keep the temporary directory
 *	BENCH_PERF	a directory: perf records annalsd and its first client
 *			during the workloads of BENCH_PERF_WORK (default
 *			"ingest-1c,range-1c,range-8c"), with call graphs of
 *			BENCH_PERF_CG (default "dwarf,16384")
 */
/* nftw() is XSI. */
#define _XOPEN_SOURCE 700

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define BENCH_LAT_CAP	(1u << 21)	/* samples kept per client */
#define BENCH_MAXCL	8
#define BENCH_TMPFS	0x01021994	/* TMPFS_MAGIC */

/* One timed workload of the table. */
struct bench_work {
	const char	*name;
	int		 kind;
	int		 clients;
	uint32_t	 depth;
};

static const struct bench_work bench_works[] = {
	{ "range-1c",		W_RANGE,	1, 0 },
	{ "range-8c",		W_RANGE,	8, 0 },
	{ "range-fields-1c",	W_RANGE_FIELDS,	1, 0 },
	{ "actor-1c",		W_ACTOR,	1, 0 },
	{ "actor-8c",		W_ACTOR,	8, 0 },
	{ "prefix-1c",		W_PREFIX,	1, 0 },
	{ "prefix-8c",		W_PREFIX,	8, 0 },
	{ "get-1c",		W_GET,		1, 0 },
	{ "get-8c",		W_GET,		8, 0 },
	{ "ping-1c",		W_PING,		1, 0 },
	{ "ping-8c",		W_PING,		8, 0 },
	{ "ping-raw-1c",	W_PING_RAW,	1, 0 },
	{ "ping-pipe-1c",	W_PING_PIPE,	1, 64 },
	{ "histogram-1c",	W_HISTOGRAM,	1, 0 },
	{ "histogram-ovl-1c", W_HIST_OVERLAP, 1, 0 },
	{ "histogram-type-1c", W_HIST_TYPE,	1, 0 },
	{ "mixed-8c",		W_MIXED,	8, 0 },
};

static const struct bench_work bench_gdelt_works[] = {
	{ "range-1c",		W_RANGE,	1, 0 },
	{ "range-fields-1c",	W_RANGE_FIELDS,	1, 0 },
	{ "actor-1c",		W_ACTOR,	1, 0 },
	{ "get-1c",		W_GET,		1, 0 },
};

/* One row of the table and of the TSV. */
struct bench_res {
	char		 dataset[8];
	char		 sys[24];
	char		 work[24];
	uint64_t	 events;	/* records in the store */
	int		 clients;
	int		 ok;
	double		 ops_s;		/* ingest: records/s */
	double		 p50, p99, p999;	/* microseconds */
	double		 rows;		/* records per request */
	double		 ops2_s;	/* mixed: puts/s */
	double		 q50, q99, q999;	/* mixed: put latencies */
	double		 wb_ev;		/* ingest: write_bytes per record */
	double		 wc_ev;		/* ingest: bytes of write calls */
	uint64_t	 rss;		/* in-process systems: a client's */
	double		 srv_us;	/* server CPU per request (record) */
	double		 cli_us;	/* clients' CPU per request (record) */
	double		 srv_flt;	/* server page faults per request */
	char		 note[256];
};

/* One system's footprint after a dataset was loaded. */
struct bench_size {
	char		 dataset[8];
	char		 sys[24];
	const char	*order;		/* "feed" or "random" */
	int		 compacted;	/* by the system, once stopped */
	uint64_t	 events;
	uint64_t	 db;
	char		 db_note[160];
	uint64_t	 rss;
	char		 rss_note[160];
};

static struct bench_res		*bench_res;
static size_t			 bench_nres;
static struct bench_size	 bench_sizes[32];
static size_t			 bench_nsizes;

static const struct bench_sys	*bench_running;
static char			 bench_dir[PATH_MAX];
static char			 bench_bin[PATH_MAX];
static double			 bench_secs = 3;
static uint32_t			 bench_batch = 1000;
static const char		*bench_only;
static int			 bench_feed_only;	/* BENCH_ORDER=feed */
static const char		*bench_perf;
static const char		*bench_perf_work =
				    "ingest-1c,range-1c,range-8c";

uint64_t
bench_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

/* Latencies are kept in units of 100 ns: 0.1 us to 429 s. */
void
bench_lat_add(struct bench_lat *l, uint64_t ns)
{
	if (l == NULL || l->n == l->cap)
		return;
	ns /= 100;
	l->v[l->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* The record to load at place i of an ingest. */
uint64_t
bench_rec(const struct bench_task *t, uint64_t i)
{
	return (t->order != NULL ? t->order[i] : i);
}

/* Count one finished request since t0: a mixed workload's put, or not. */
void
bench_op_done(struct bench_out *out, struct bench_lat *lat,
    struct bench_lat *lat2, int put, uint64_t t0)
{
	if (put) {
		out->ops2++;
		bench_lat_add(lat2, bench_now() - t0);
	} else {
		out->ops++;
		bench_lat_add(lat, bench_now() - t0);
	}
}

void
bench_fail(struct bench_out *out, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(out->err, sizeof out->err, fmt, ap);
	va_end(ap);
}

const char *
bench_bindir(void)
{
	return (bench_bin);
}

/* Start argv[0] with stdout and stderr to log. */
pid_t
bench_spawn(const char *const *argv, const char *log)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) == -1)
		return (-1);
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd != -1) {
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return (pid);
}

int
bench_unix_connect(const char *path)
{
	struct sockaddr_un	sun;
	int			fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		close(fd);
		return (-1);
	}
	return (fd);
}

/* Wait until path accepts connections while pid lives. */
int
bench_wait_socket(const char *path, pid_t pid, int ms)
{
	struct timespec	ts = { 0, 20 * 1000000 };
	int		fd, status, waited;

	for (waited = 0; waited < ms; waited += 20) {
		if ((fd = bench_unix_connect(path)) != -1) {
			close(fd);
			return (0);
		}
		if (waitpid(pid, &status, WNOHANG) == pid) {
			fprintf(stderr, "bench: %s: server exited (status "
			    "%d)\n", path, status);
			return (-1);
		}
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "bench: %s: not ready after %d ms\n", path, ms);
	return (-1);
}

/* SIGTERM, then SIGKILL after 60 s; *pid becomes 0. */
void
bench_kill(pid_t *pid)
{
	struct timespec	ts = { 0, 10 * 1000000 };
	int		status, waited;

	if (*pid <= 0)
		return;
	kill(*pid, SIGTERM);
	for (waited = 0; waited < 60000; waited += 10) {
		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			*pid = 0;
			return;
		}
		nanosleep(&ts, NULL);
	}
	kill(*pid, SIGKILL);
	waitpid(*pid, &status, 0);
	*pid = 0;
}

/* A field of /proc/PID/io (0 for self). */
uint64_t
bench_proc_io(pid_t pid, const char *field)
{
	char			path[64], line[256];
	FILE			*f;
	unsigned long long	v = 0;
	size_t			len = strlen(field);

	if (pid == 0)
		snprintf(path, sizeof path, "/proc/self/io");
	else
		snprintf(path, sizeof path, "/proc/%ld/io", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, field, len) == 0 && line[len] == ':') {
			v = strtoull(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return (v);
}

/* Fields 10 (minor faults) and 14, 15 (user, system time) of stat. */
static int
bench_proc_stat(pid_t pid, unsigned long long *minflt,
    unsigned long long *ticks)
{
	char			 path[64], buf[1024], *p;
	unsigned long long	 v[6];
	FILE			*f;
	size_t			 n;
	int			 field;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command may hold spaces: count fields after its ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return (-1);
	for (field = 2; *p != '\0' && field < 10; p++) {
		if (*p == ' ')
			field++;
	}
	/* minflt cminflt majflt cmajflt utime stime */
	if (sscanf(p, "%llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
	    &v[3], &v[4], &v[5]) != 6)
		return (-1);
	*minflt = v[0];
	*ticks = v[4] + v[5];
	return (0);
}

/* User and system CPU time of pid so far, in nanoseconds. */
uint64_t
bench_proc_cpu(pid_t pid)
{
	unsigned long long	minflt, ticks;

	if (bench_proc_stat(pid, &minflt, &ticks) != 0)
		return (0);
	return (ticks * (1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK)));
}

/* Minor page faults of pid so far: first touches of the mapped data. */
uint64_t
bench_proc_faults(pid_t pid)
{
	unsigned long long	minflt, ticks;

	if (bench_proc_stat(pid, &minflt, &ticks) != 0)
		return (0);
	return (minflt);
}

static uint64_t
bench_self_cpu(void)
{
	struct rusage	ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
	    1000000000u + (uint64_t)(ru.ru_utime.tv_usec +
	    ru.ru_stime.tv_usec) * 1000u);
}

/*
 * Resident bytes of pid (0 for self) from smaps, less the mappings whose
 * path ends in skip (the data file), whose resident bytes go to *skipped.
 */
uint64_t
bench_proc_rss(pid_t pid, const char *skip, uint64_t *skipped)
{
	char			path[64], line[4096], *p;
	FILE			*f;
	unsigned long long	kb, total = 0, off = 0;
	int			in_skip = 0;
	size_t			slen = skip ? strlen(skip) : 0, len;

	if (skipped != NULL)
		*skipped = 0;
	if (pid == 0)
		snprintf(path, sizeof path, "/proc/self/smaps");
	else
		snprintf(path, sizeof path, "/proc/%ld/smaps", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (0);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "Rss:", 4) == 0) {
			kb = strtoull(line + 4, NULL, 10);
			total += kb;
			if (in_skip)
				off += kb;
			continue;
		}
		/* A mapping: "start-end perms offset dev inode path" */
		p = line;
		while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
			p++;
		if (*p != '-' || p == line)
			continue;
		len = strlen(line);
		in_skip = slen > 0 && len >= slen &&
		    strcmp(line + len - slen, skip) == 0;
	}
	fclose(f);
	if (skipped != NULL)
		*skipped = off * 1024;
	return ((total - off) * 1024);
}

/* Bytes a file takes on disk. */
uint64_t
bench_file_bytes(const char *path)
{
	struct stat	sb;

	if (stat(path, &sb) == -1)
		return (0);
	return ((uint64_t)sb.st_blocks * 512);
}

static uint64_t	bench_du;

static int
bench_du_cb(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_F)
		bench_du += (uint64_t)sb->st_blocks * 512;
	return (0);
}

/* Bytes the files under dir take on disk. */
uint64_t
bench_dir_bytes(const char *dir)
{
	bench_du = 0;
	nftw(dir, bench_du_cb, 16, FTW_PHYS);
	return (bench_du);
}

static int
bench_rm_cb(const char *path, const struct stat *sb, int flag,
    struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return (0);
}

/* The ping request [0, 1, "ping", []] as one frame. */
static const unsigned char bench_ping_frame[14] = {
	0xce, 0, 0, 0, 9, 0x94, 0, 1, 0xa4, 'p', 'i', 'n', 'g', 0x90
};

/*
 * Send depth ping frames in one write and read as many 14-byte answers
 * ("pong", or the frames themselves from the echo server).
 */
int
bench_raw_ping(int fd, uint32_t depth)
{
	unsigned char	buf[14 * 256];
	size_t		want, got = 0, off = 0;
	ssize_t		n;
	uint32_t	i;

	if (depth == 0 || depth > 256)
		return (-1);
	for (i = 0; i < depth; i++)
		memcpy(buf + 14 * i, bench_ping_frame, 14);
	want = 14 * (size_t)depth;
	while (off < want) {
		n = write(fd, buf + off, want - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		off += (size_t)n;
	}
	while (got < want) {
		n = read(fd, buf + got, want - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		got += (size_t)n;
	}
	return (buf[0] == 0xce ? 0 : -1);
}

static int
bench_cmp_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

/* The p-quantile of sorted v, in microseconds. */
static double
bench_quantile(const uint32_t *v, size_t n, double p)
{
	size_t	i;

	if (n == 0)
		return (0);
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return (v[i] / 10.0);
}

/* Merge and sort the latency logs of n clients. */
static void
bench_lat_merge(uint32_t *base, const struct bench_out *outs, int n, int two,
    double *p50, double *p99, double *p999)
{
	uint32_t	*all;
	size_t		 total = 0, k, cnt;
	int		 c;

	for (c = 0; c < n; c++)
		total += two ? outs[c].nlat2 : outs[c].nlat;
	*p50 = *p99 = *p999 = 0;
	if (total == 0 || (all = malloc(total * sizeof *all)) == NULL)
		return;
	for (k = 0, c = 0; c < n; c++) {
		cnt = two ? outs[c].nlat2 : outs[c].nlat;
		memcpy(all + k, base + ((size_t)(2 * c + two) * BENCH_LAT_CAP),
		    cnt * sizeof *all);
		k += cnt;
	}
	qsort(all, total, sizeof *all, bench_cmp_u32);
	*p50 = bench_quantile(all, total, 0.50);
	*p99 = bench_quantile(all, total, 0.99);
	*p999 = bench_quantile(all, total, 0.999);
	free(all);
}

static int
bench_listed(const char *list, const char *name)
{
	const char	*p = list;
	size_t		 len = strlen(name);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, len) == 0 &&
		    (p[len] == ',' || p[len] == '\0'))
			return (1);
		if ((p = strchr(p, ',')) != NULL)
			p++;
	}
	return (0);
}

/* Start perf on pid into DIR/perf-WORK[-suffix].data. */
static pid_t
bench_perf_one(pid_t target, const char *work, const char *suffix)
{
	char		 out[PATH_MAX + 64], pidstr[32], log[PATH_MAX + 64];
	const char	*cg = getenv("BENCH_PERF_CG");
	const char	*argv[16];
	int		 i = 0;

	snprintf(out, sizeof out, "%s/perf-%s%s.data", bench_perf, work,
	    suffix);
	snprintf(log, sizeof log, "%s/perf-%s%s.log", bench_perf, work,
	    suffix);
	snprintf(pidstr, sizeof pidstr, "%ld", (long)target);
	argv[i++] = "perf";
	argv[i++] = "record";
	argv[i++] = "-F";
	argv[i++] = "997";
	argv[i++] = "--call-graph";
	argv[i++] = cg != NULL ? cg : "dwarf,16384";
	argv[i++] = "-p";
	argv[i++] = pidstr;
	argv[i++] = "-o";
	argv[i++] = out;
	argv[i] = NULL;
	return (bench_spawn(argv, log));
}

/*
 * With BENCH_PERF, record annalsd and the first client while one of the
 * workloads of BENCH_PERF_WORK runs.
 */
static void
bench_perf_start(const struct bench_sys *sys, const char *dataset,
    const char *work, pid_t client, pid_t perf[2])
{
	struct timespec	ts = { 0, 300 * 1000000 };

	perf[0] = perf[1] = 0;
	if (bench_perf == NULL || sys->pid == NULL || sys->pid() <= 0 ||
	    strcmp(sys->name, "annals") != 0 ||
	    strcmp(dataset, "synth") != 0 || !bench_listed(bench_perf_work,
	    work))
		return;
	mkdir(bench_perf, 0755);
	perf[0] = bench_perf_one(sys->pid(), work, "");
	perf[1] = bench_perf_one(client, work, "-client");
	nanosleep(&ts, NULL);	/* let them attach */
}

static void
bench_perf_stop(pid_t perf[2])
{
	int	status, i;

	for (i = 0; i < 2; i++) {
		if (perf[i] <= 0)
			continue;
		kill(perf[i], SIGINT);
		waitpid(perf[i], &status, 0);
	}
}

/*
 * Run one workload on sys with nclients forked clients.  Timed workloads
 * stop at a shared deadline; ingest when every client loaded its slice
 * of [t->first, t->first + t->count).  Fills res; returns 0 when every
 * client succeeded.
 */
static int
bench_run(const struct bench_sys *sys, const char *dataset, const char *work,
    struct bench_task *t, int nclients, struct bench_res *res)
{
	struct bench_out	*outs;
	uint32_t		*lat;
	uint64_t		*shared_deadline, t0, tend = 0, ops = 0;
	uint64_t		 ops2 = 0;
	uint64_t		 items = 0, wio0 = 0, wb = 0, wcs0 = 0, wc = 0;
	uint64_t		 scpu0 = 0, scpu = 0, ccpu = 0, flt0 = 0;
	uint64_t		 flt = 0;
	size_t			 outsz, latsz;
	pid_t			 pids[BENCH_MAXCL], perf[2];
	int			 ready[2], go[2], c, status, failed = 0;
	char			 b;

	memset(res, 0, sizeof *res);
	snprintf(res->dataset, sizeof res->dataset, "%s", dataset);
	snprintf(res->sys, sizeof res->sys, "%s", sys->name);
	snprintf(res->work, sizeof res->work, "%s", work);
	res->clients = nclients;
	res->events = t->nevents;

	outsz = 4096 + (size_t)nclients * sizeof *outs;
	latsz = (size_t)nclients * 2 * BENCH_LAT_CAP * sizeof *lat;
	outs = mmap(NULL, outsz, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	lat = mmap(NULL, latsz, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (outs == MAP_FAILED || lat == MAP_FAILED) {
		snprintf(res->note, sizeof res->note, "mmap: %s",
		    strerror(errno));
		return (-1);
	}
	shared_deadline = (uint64_t *)(void *)((char *)outs + outsz - 64);
	memset(outs, 0, outsz);
	/* Close-on-exec: perf, started meanwhile, must not hold them. */
	if (pipe(ready) == -1 || pipe(go) == -1 ||
	    fcntl(ready[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(ready[1], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(go[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(go[1], F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(res->note, sizeof res->note, "pipe: %s",
		    strerror(errno));
		munmap(lat, latsz);
		munmap(outs, outsz);
		return (-1);
	}
	fflush(NULL);
	for (c = 0; c < nclients; c++) {
		if ((pids[c] = fork()) == -1) {
			perror("bench: fork");
			exit(1);
		}
		if (pids[c] == 0) {
			struct bench_task	 my = *t;
			struct bench_out	*out = &outs[c];
			struct bench_lat	 l1, l2;
			void			*conn;
			uint64_t		 w0, wc0, c0;

			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			close(ready[0]);
			close(go[1]);
			my.client = c;
			my.nclients = nclients;
			my.seed = gen_hash(t->seed ^ ((uint64_t)c << 40));
			l1.v = lat + (size_t)(2 * c) * BENCH_LAT_CAP;
			l2.v = lat + (size_t)(2 * c + 1) * BENCH_LAT_CAP;
			l1.n = l2.n = 0;
			l1.cap = l2.cap = BENCH_LAT_CAP;
			conn = sys->connect(out->err, sizeof out->err);
			w0 = bench_proc_io(0, "write_bytes");
			wc0 = bench_proc_io(0, "wchar");
			c0 = bench_self_cpu();
			if (write(ready[1], "r", 1) != 1 ||
			    read(go[0], &b, 1) != 0)
				_exit(1);
			if (conn == NULL) {
				out->errors = 1;
				_exit(1);
			}
			my.deadline = *shared_deadline;
			if (sys->run(conn, &my, out, &l1, &l2) != 0)
				out->errors++;
			out->end_ns = bench_now();
			out->cpu_ns = bench_self_cpu() - c0;
			out->nlat = l1.n;
			out->nlat2 = l2.n;
			out->wbytes = bench_proc_io(0, "write_bytes") - w0;
			out->wchar = bench_proc_io(0, "wchar") - wc0;
			if (sys->pid == NULL || sys->pid() <= 0)
				out->rss = bench_proc_rss(0, sys->map_suffix,
				    NULL);
			sys->disconnect(conn);
			_exit(out->errors ? 1 : 0);
		}
	}
	close(ready[1]);
	close(go[0]);
	for (c = 0; c < nclients; c++) {
		if (read(ready[0], &b, 1) != 1)
			break;
	}
	close(ready[0]);
	bench_perf_start(sys, dataset, work, pids[0], perf);
	if (sys->pid != NULL && sys->pid() > 0) {
		wio0 = bench_proc_io(sys->pid(), "write_bytes");
		wcs0 = bench_proc_io(sys->pid(), "wchar");
		scpu0 = bench_proc_cpu(sys->pid());
		flt0 = bench_proc_faults(sys->pid());
	}
	t0 = bench_now();
	*shared_deadline = t0 + (uint64_t)(bench_secs * 1e9);
	close(go[1]);		/* the barrier: every client starts now */
	for (c = 0; c < nclients; c++) {
		if (waitpid(pids[c], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed = 1;
	}
	bench_perf_stop(perf);
	for (c = 0; c < nclients; c++) {
		ops += outs[c].ops;
		ops2 += outs[c].ops2;
		items += outs[c].items;
		wb += outs[c].wbytes;
		wc += outs[c].wchar;
		ccpu += outs[c].cpu_ns;
		if (outs[c].end_ns > tend)
			tend = outs[c].end_ns;
		if (outs[c].err[0] != '\0' && res->note[0] == '\0')
			snprintf(res->note, sizeof res->note, "%s",
			    outs[c].err);
	}
	if (sys->pid != NULL && sys->pid() > 0) {
		wb = bench_proc_io(sys->pid(), "write_bytes") - wio0;
		wc = bench_proc_io(sys->pid(), "wchar") - wcs0;
		scpu = bench_proc_cpu(sys->pid()) - scpu0;
		flt = bench_proc_faults(sys->pid()) - flt0;
	}
	if (tend <= t0)
		tend = bench_now();
	res->ops_s = (t->kind == W_INGEST ? items : ops) /
	    ((double)(tend - t0) / 1e9);
	res->ops2_s = ops2 / ((double)(tend - t0) / 1e9);
	res->rows = ops > 0 ? (double)items / (double)ops : 0;
	/* CPU per request, or per record for ingest: robust to a busy box. */
	if (t->kind == W_INGEST ? items > 0 : ops > 0) {
		res->srv_us = scpu / 1e3 / (double)(t->kind == W_INGEST ?
		    items : ops + ops2);
		res->cli_us = ccpu / 1e3 / (double)(t->kind == W_INGEST ?
		    items : ops + ops2);
		res->srv_flt = flt / (double)(t->kind == W_INGEST ?
		    items : ops + ops2);
	}
	if (t->kind == W_INGEST && items > 0) {
		res->wb_ev = (double)wb / (double)items;
		res->wc_ev = (double)wc / (double)items;
	}
	bench_lat_merge(lat, outs, nclients, 0, &res->p50, &res->p99,
	    &res->p999);
	bench_lat_merge(lat, outs, nclients, 1, &res->q50, &res->q99,
	    &res->q999);
	res->ok = !failed && ops > 0;
	if (res->ok && res->note[0] == '\0' && t->kind == W_INGEST &&
	    items != t->count)
		snprintf(res->note, sizeof res->note, "loaded %llu of %llu",
		    (unsigned long long)items, (unsigned long long)t->count);
	if (failed && res->note[0] == '\0')
		snprintf(res->note, sizeof res->note, "a client failed");
	res->rss = outs[0].rss;
	munmap(lat, latsz);
	munmap(outs, outsz);
	return (failed ? -1 : 0);
}

static struct bench_res *
bench_add(void)
{
	bench_res = realloc(bench_res, (bench_nres + 1) * sizeof *bench_res);
	if (bench_res == NULL) {
		perror("bench");
		exit(1);
	}
	return (&bench_res[bench_nres++]);
}

static void
bench_row(const struct bench_res *r)
{
	if (!r->ok) {
		printf("%-6s %-14s %-16s %2d  %s\n", r->dataset, r->sys,
		    r->work, r->clients, r->note[0] ? r->note : "failed");
		fflush(stdout);
		return;
	}
	printf("%-6s %-14s %-16s %2d %10.0f %8.1f %8.1f %9.1f %6.1f %7.1f "
	    "%7.1f", r->dataset, r->sys, r->work, r->clients, r->ops_s,
	    r->p50, r->p99, r->p999, r->rows, r->srv_us, r->cli_us);
	if (strncmp(r->work, "ingest", 6) == 0)
		printf("  written/event: %.0f B write_bytes, %.0f B wchar",
		    r->wb_ev, r->wc_ev);
	if (strncmp(r->work, "mixed", 5) == 0)
		printf("  puts %.0f/s p50 %.1f p99 %.1f p99.9 %.1f", r->ops2_s,
		    r->q50, r->q99, r->q999);
	if (r->note[0] != '\0')
		printf("  (%s)", r->note);
	printf("\n");
	fflush(stdout);
}

static void
bench_header(void)
{
	printf("%-6s %-14s %-16s %2s %10s %8s %8s %9s %6s %7s %7s\n", "data",
	    "system", "workload", "cl", "ops/s", "p50 us", "p99 us",
	    "p99.9 us", "rows", "srv us", "cli us");
}

/* A new row of sizes, or NULL when they are all taken. */
static struct bench_size *
bench_size_new(const struct bench_sys *sys, const char *dataset,
    const char *order, uint64_t events)
{
	struct bench_size	*s;

	if (bench_nsizes == sizeof bench_sizes / sizeof *bench_sizes)
		return (NULL);
	s = &bench_sizes[bench_nsizes++];
	memset(s, 0, sizeof *s);
	snprintf(s->dataset, sizeof s->dataset, "%s", dataset);
	snprintf(s->sys, sizeof s->sys, "%s", sys->name);
	s->order = order;
	s->events = events;
	return (s);
}

/* What a row is of: the load, and whether compacted since ("load"). */
static const char *
bench_size_load(const struct bench_size *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", s->order, s->compacted ? "-compacted" :
	    "");
	return (buf);
}

/* Note sys's bytes on disk for n records, just after they were loaded. */
static struct bench_size *
bench_footprint(const struct bench_sys *sys, const char *dataset,
    const char *order, uint64_t events)
{
	struct bench_size	*s;

	if (sys->db_bytes == NULL ||
	    (s = bench_size_new(sys, dataset, order, events)) == NULL)
		return (NULL);
	s->db = sys->db_bytes(s->db_note, sizeof s->db_note);
	return (s);
}

/*
 * Note sys's bytes on disk once it compacted its data, still running,
 * beside those of the load (order is the load's).
 */
static void
bench_compacted(const struct bench_sys *sys, const char *dataset,
    const char *order, uint64_t events)
{
	struct bench_size	*s;

	if (sys->compacted == NULL ||
	    (s = bench_size_new(sys, dataset, order, events)) == NULL)
		return;
	s->compacted = 1;
	s->db = sys->compacted(s->db_note, sizeof s->db_note);
	snprintf(s->rss_note, sizeof s->rss_note, "not measured");
}

/* Note sys's memory after the workloads ran. */
static void
bench_memory(const struct bench_sys *sys, struct bench_size *s,
    uint64_t rss_inproc)
{
	if (s == NULL)
		return;
	if (sys->rss != NULL)
		s->rss = sys->rss(s->rss_note, sizeof s->rss_note);
	if (s->rss == 0 && rss_inproc > 0) {
		s->rss = rss_inproc;
		snprintf(s->rss_note, sizeof s->rss_note, "a query client "
		    "process, less the mapped database");
	}
}

/* A row saying sys could not start on dir. */
static void
bench_start_failed(const struct bench_sys *sys, const char *dataset,
    uint64_t n, const char *dir)
{
	struct bench_res	*r;

	r = bench_add();
	memset(r, 0, sizeof *r);
	snprintf(r->dataset, sizeof r->dataset, "%s", dataset);
	snprintf(r->sys, sizeof r->sys, "%s", sys->name);
	snprintf(r->work, sizeof r->work, "start");
	r->events = n;
	if (snprintf(r->note, sizeof r->note, "could not start; see %s",
	    dir) >= (int)sizeof r->note)
		snprintf(r->note, sizeof r->note, "could not start");
	bench_row(r);
}

/*
 * Load n records into the running sys, the first half with one client
 * and the second half with four, in feed order when order is not NULL;
 * returns the footprint noted after.
 */
static struct bench_size *
bench_load(const struct bench_sys *sys, const char *dataset, uint64_t n,
    const uint32_t *order)
{
	struct bench_task	 t;
	struct bench_res	*r;
	uint64_t		 half = n / 2;

	memset(&t, 0, sizeof t);
	t.kind = W_INGEST;
	t.nevents = n;
	t.batch = bench_batch;
	t.depth = 4;
	t.limit = 100;
	t.seed = gen_hash(0x1e57);
	t.order = order;
	t.first = 0;
	t.count = half;
	r = bench_add();
	bench_run(sys, dataset, order ? "ingest-feed-1c" : "ingest-1c", &t, 1,
	    r);
	bench_row(r);
	t.first = half;
	t.count = n - half;
	r = bench_add();
	bench_run(sys, dataset, order ? "ingest-feed-4c" : "ingest-4c", &t, 4,
	    r);
	bench_row(r);
	return (bench_footprint(sys, dataset, order ? "feed" : "random", n));
}

static int
bench_day_cmp(const void *a, const void *b)
{
	const uint64_t	x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/*
 * The records 0..n-1 in feed order: by start day, and in generated order
 * within a day, as a feed sends a day's events together.
 */
static uint32_t *
bench_feed_order(uint64_t n)
{
	uint64_t	*keys;
	uint32_t	*order;
	uint64_t	 i;

	if (n > UINT32_MAX || (keys = calloc(n, sizeof *keys)) == NULL ||
	    (order = calloc(n, sizeof *order)) == NULL) {
		fprintf(stderr, "bench: feed order of %llu records: out of "
		    "memory\n", (unsigned long long)n);
		exit(1);
	}
	/* Days since 1970 fit 31 bits with the sign flipped to sort. */
	for (i = 0; i < n; i++)
		keys[i] = (uint64_t)((uint32_t)gen_record_day(i) ^
		    UINT32_C(0x80000000)) << 32 | i;
	qsort(keys, n, sizeof *keys, bench_day_cmp);
	for (i = 0; i < n; i++)
		order[i] = (uint32_t)keys[i];
	free(keys);
	return (order);
}

/*
 * Load n records into sys in feed order and note its size; then load
 * them in random order on a fresh directory and run the timed workloads.
 */
static void
bench_system(const struct bench_sys *sys, const char *dataset, uint64_t n,
    const struct bench_work *works, size_t nworks)
{
	struct bench_task	 t;
	struct bench_res	*r;
	struct bench_size	*size = NULL;
	uint32_t		*order;
	uint64_t		 rss_inproc = 0;
	size_t			 i;
	char			 dir[PATH_MAX + 64];

	if (sys->supports(W_INGEST)) {
		snprintf(dir, sizeof dir, "%s/%s-%s-feed", bench_dir, dataset,
		    sys->name);
		if (mkdir(dir, 0755) == -1 || sys->start(dir) != 0) {
			bench_start_failed(sys, dataset, n, dir);
			return;
		}
		bench_running = sys;
		order = bench_feed_order(n);
		if ((size = bench_load(sys, dataset, n, order)) != NULL)
			snprintf(size->rss_note, sizeof size->rss_note,
			    "not measured after a load alone");
		free(order);
	}
	if (bench_feed_only && sys->supports(W_INGEST)) {
		/* The workloads run on the store as the feed left it. */
		if (size != NULL)
			snprintf(size->rss_note, sizeof size->rss_note,
			    "after the workloads");
	} else {
		if (sys->supports(W_INGEST)) {
			if (size != NULL)
				bench_compacted(sys, dataset, "feed", n);
			sys->stop();
			bench_running = NULL;
			/* Room on the disk for the next load. */
			if (getenv("BENCH_KEEP") == NULL)
				nftw(dir, bench_rm_cb, 16,
				    FTW_DEPTH | FTW_PHYS);
		}
		snprintf(dir, sizeof dir, "%s/%s-%s", bench_dir, dataset,
		    sys->name);
		if (mkdir(dir, 0755) == -1 || sys->start(dir) != 0) {
			bench_start_failed(sys, dataset, n, dir);
			return;
		}
		bench_running = sys;
		if (sys->supports(W_INGEST))
			size = bench_load(sys, dataset, n, NULL);
	}

	for (i = 0; i < nworks; i++) {
		if (bench_only != NULL && !bench_listed(bench_only,
		    works[i].name))
			continue;
		if (!sys->supports(works[i].kind)) {
			if ((works[i].kind != W_HISTOGRAM &&
			    works[i].kind != W_HIST_OVERLAP &&
			    works[i].kind != W_HIST_TYPE) ||
			    strcmp(sys->name, "annals") != 0)
				continue;
			r = bench_add();
			memset(r, 0, sizeof *r);
			snprintf(r->dataset, sizeof r->dataset, "%s", dataset);
			snprintf(r->sys, sizeof r->sys, "%s", sys->name);
			snprintf(r->work, sizeof r->work, "%s", works[i].name);
			r->clients = works[i].clients;
			r->events = n;
			snprintf(r->note, sizeof r->note, "not yet available: "
			    "no histogram in proto.h PROTO_METHODS");
			bench_row(r);
			continue;
		}
		r = bench_add();
		memset(&t, 0, sizeof t);
		t.kind = works[i].kind;
		t.nevents = n;
		t.limit = 100;
		t.depth = works[i].depth;
		t.seed = gen_hash((uint64_t)works[i].kind * 7919 + 17);
		/* Puts of the mixed workload add records after the n. */
		t.put_base = n;
		bench_run(sys, dataset, works[i].name, &t, works[i].clients, r);
		if (strcmp(works[i].name, "range-1c") == 0 && r->ok)
			rss_inproc = r->rss;
		bench_row(r);
	}
	bench_memory(sys, size, rss_inproc);
	if (size != NULL && !bench_feed_only)
		bench_compacted(sys, dataset, "random", n);
	sys->stop();
	bench_running = NULL;
}

static const struct bench_res *
bench_find(const char *dataset, const char *sys, const char *work)
{
	size_t	i;

	for (i = 0; i < bench_nres; i++) {
		if (strcmp(bench_res[i].dataset, dataset) == 0 &&
		    strcmp(bench_res[i].sys, sys) == 0 &&
		    strcmp(bench_res[i].work, work) == 0 && bench_res[i].ok)
			return (&bench_res[i]);
	}
	return (NULL);
}

static void
bench_ratio(const char *dataset, const char *work, const char *peer,
    const char *peer_work, const char *label)
{
	const struct bench_res	*a, *p;
	char			 name[64];

	a = bench_find(dataset, "annals", work);
	p = bench_find(dataset, peer, peer_work);
	if (a == NULL || p == NULL || p->ops_s <= 0)
		return;
	snprintf(name, sizeof name, "%s%s", strcmp(dataset, "synth") == 0 ?
	    "" : "gdelt-", work);
	/* Mixed: reads and puts together. */
	printf("RATIO %s annals/%s %.2f\n", name, label,
	    (a->ops_s + a->ops2_s) / (p->ops_s + p->ops2_s));
}

static void
bench_ratios(int peers)
{
	static const char *works[] = {
		"ingest-feed-1c", "ingest-feed-4c", "ingest-1c", "ingest-4c",
		"range-1c", "range-8c", "actor-1c", "actor-8c", "prefix-1c",
		"prefix-8c", "get-1c", "get-8c", "ping-1c", "ping-8c",
		"ping-raw-1c", "ping-pipe-1c", "histogram-1c",
		"histogram-type-1c", "mixed-8c",
	};
	static const char *gworks[] = {
		"ingest-feed-1c", "ingest-feed-4c", "ingest-1c", "ingest-4c",
		"range-1c", "actor-1c", "get-1c",
	};
	const struct bench_size	*a, *p;
	size_t			 i, j;

	printf("\n");
	/* The floor: annalsd's pings against a bare libevent echo. */
	bench_ratio("synth", "ping-1c", "echo", "ping-raw-1c", "echo");
	bench_ratio("synth", "ping-raw-1c", "echo", "ping-raw-1c", "echo");
	bench_ratio("synth", "ping-8c", "echo", "ping-8c", "echo");
	bench_ratio("synth", "ping-pipe-1c", "echo", "ping-pipe-1c", "echo");
	if (!peers)
		return;
	for (i = 0; i < sizeof works / sizeof *works; i++) {
		bench_ratio("synth", works[i], "redis", works[i], "redis");
		if (strncmp(works[i], "ingest", 6) == 0)
			bench_ratio("synth", works[i], "redis-everysec",
			    works[i], "redis-everysec");
		bench_ratio("synth", works[i], "sqlite", works[i], "sqlite");
	}
	/*
	 * A list's keys from annalsd against the peers' whole records: the
	 * peers have no projection, and that is what it is for.
	 */
	bench_ratio("synth", "range-fields-1c", "redis", "range-1c", "redis");
	bench_ratio("synth", "range-fields-1c", "sqlite", "range-1c",
	    "sqlite");
	/* annalsd serving 8 clients against SQLite's single thread. */
	bench_ratio("synth", "range-8c", "sqlite", "range-1c", "sqlite-1c");
	bench_ratio("synth", "actor-8c", "sqlite", "actor-1c", "sqlite-1c");
	bench_ratio("synth", "prefix-8c", "sqlite", "prefix-1c", "sqlite-1c");
	for (i = 0; i < sizeof gworks / sizeof *gworks; i++) {
		bench_ratio("gdelt", gworks[i], "redis", gworks[i], "redis");
		bench_ratio("gdelt", gworks[i], "sqlite", gworks[i], "sqlite");
	}
	bench_ratio("gdelt", "range-fields-1c", "redis", "range-1c", "redis");
	bench_ratio("gdelt", "range-fields-1c", "sqlite", "range-1c",
	    "sqlite");
	/* Footprint: the peer's bytes over annalsd's. */
	for (i = 0; i < bench_nsizes; i++) {
		a = &bench_sizes[i];
		if (strcmp(a->sys, "annals") != 0 || a->db == 0)
			continue;
		for (j = 0; j < bench_nsizes; j++) {
			p = &bench_sizes[j];
			/* A compacted store against the peer's same load. */
			if (strcmp(p->dataset, a->dataset) != 0 ||
			    strcmp(p->order, a->order) != 0 || p->compacted ||
			    strcmp(p->sys, "annals") == 0 ||
			    strcmp(p->sys, "echo") == 0 || p->db == 0)
				continue;
			printf("RATIO %sdb-bytes%s%s annals/%s %.2f\n",
			    strcmp(a->dataset, "synth") == 0 ? "" : "gdelt-",
			    strcmp(a->order, "feed") == 0 ? "-feed" : "",
			    a->compacted ? "-compacted" : "",
			    p->sys, (double)p->db / (double)a->db);
		}
	}
}

static void
bench_print_sizes(void)
{
	const struct bench_size	*s;
	char			 load[32];
	size_t			 i;

	printf("\n%-6s %-15s %-16s %10s %14s %9s %12s  %s\n", "data",
	    "system", "load", "events", "db bytes", "B/event", "rss MiB",
	    "what is counted");
	for (i = 0; i < bench_nsizes; i++) {
		s = &bench_sizes[i];
		printf("%-6s %-15s %-16s %10llu %14llu %9.0f %12.1f  %s; rss: "
		    "%s\n", s->dataset, s->sys,
		    bench_size_load(s, load, sizeof load),
		    (unsigned long long)s->events,
		    (unsigned long long)s->db,
		    s->events ? (double)s->db / (double)s->events : 0,
		    s->rss / 1048576.0, s->db_note, s->rss_note);
	}
}

static void
bench_write_tsv(const char *path, const char *stamp)
{
	const struct bench_res	*r;
	const struct bench_size	*s;
	FILE			*f;
	size_t			 i;

	if ((f = fopen(path, "w")) == NULL) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		return;
	}
	fprintf(f, "run\tn\tdataset\tsystem\tworkload\tclients\tmetric\t"
	    "value\n");
#define TSV(w, c, m, v)	fprintf(f, "%s\t%llu\t%s\t%s\t%s\t%d\t%s\t%.3f\n", \
	stamp, (unsigned long long)r_n, r_ds, r_sys, w, c, m, (double)(v))
	for (i = 0; i < bench_nres; i++) {
		const char	*r_ds, *r_sys;
		uint64_t	 r_n;

		r = &bench_res[i];
		r_ds = r->dataset;
		r_sys = r->sys;
		r_n = r->events;
		if (!r->ok) {
			fprintf(f, "%s\t%llu\t%s\t%s\t%s\t%d\tunavailable\t"
			    "%s\n", stamp, (unsigned long long)r_n, r->dataset,
			    r->sys, r->work, r->clients, r->note);
			continue;
		}
		TSV(r->work, r->clients, "ops_s", r->ops_s);
		TSV(r->work, r->clients, "p50_us", r->p50);
		TSV(r->work, r->clients, "p99_us", r->p99);
		TSV(r->work, r->clients, "p999_us", r->p999);
		TSV(r->work, r->clients, "rows_per_op", r->rows);
		TSV(r->work, r->clients, "server_cpu_us_per_op", r->srv_us);
		TSV(r->work, r->clients, "client_cpu_us_per_op", r->cli_us);
		TSV(r->work, r->clients, "server_faults_per_op", r->srv_flt);
		if (strncmp(r->work, "ingest", 6) == 0) {
			TSV(r->work, r->clients, "write_bytes_per_event",
			    r->wb_ev);
			TSV(r->work, r->clients, "wchar_per_event", r->wc_ev);
		}
		if (strncmp(r->work, "mixed", 5) == 0) {
			TSV(r->work, r->clients, "puts_s", r->ops2_s);
			TSV(r->work, r->clients, "put_p50_us", r->q50);
			TSV(r->work, r->clients, "put_p99_us", r->q99);
			TSV(r->work, r->clients, "put_p999_us", r->q999);
		}
	}
	for (i = 0; i < bench_nsizes; i++) {
		const char	*r_ds, *r_sys;
		char		 w[48];
		uint64_t	 r_n;

		s = &bench_sizes[i];
		r_ds = s->dataset;
		r_sys = s->sys;
		r_n = s->events;
		/* footprint, footprint-feed, and -compacted after either. */
		snprintf(w, sizeof w, "footprint%s%s",
		    strcmp(s->order, "feed") == 0 ? "-feed" : "",
		    s->compacted ? "-compacted" : "");
		TSV(w, 0, "db_bytes", s->db);
		TSV(w, 0, "db_bytes_per_event",
		    s->events ? (double)s->db / (double)s->events : 0);
		if (s->rss > 0)
			TSV(w, 0, "rss_bytes", s->rss);
	}
#undef TSV
	fclose(f);
	printf("\nraw figures: %s\n", path);
}

static void
bench_cleanup(void)
{
	if (bench_running != NULL) {
		bench_running->stop();
		bench_running = NULL;
	}
}

static void
bench_signal(int sig)
{
	(void)sig;
	bench_cleanup();
	_exit(130);
}

/* Others' work on a shared machine disturbs the figures: show it. */
static void
bench_loadavg(const char *what)
{
	char	 buf[128];
	FILE	*f;

	if ((f = fopen("/proc/loadavg", "r")) == NULL)
		return;
	if (fgets(buf, sizeof buf, f) != NULL)
		printf("%s: %s", what, buf);
	fclose(f);
}

static uint64_t
bench_env_u64(const char *name, uint64_t dflt)
{
	const char	*s = getenv(name);
	char		*end;
	unsigned long long v;

	if (s == NULL || *s == '\0')
		return (dflt);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0') {
		fprintf(stderr, "bench: %s: %s is not a number\n", name, s);
		exit(2);
	}
	return (v);
}

int
main(int argc, char **argv)
{
	const struct bench_sys	*const *peer;
	struct statfs		 sfs;
	struct utsname		 un;
	const char		*base, *data, *tsv, *secs, *ord;
	char			 tsvbuf[PATH_MAX + 64], stamp[32], *p, *end;
	char			 tmp[PATH_MAX], databuf[PATH_MAX + 16];
	uint64_t		 n, gn;
	time_t			 now = time(NULL);
	int			 peers, cuts = 0;

	peers = argc > 1 && strcmp(argv[1], "--peers") == 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, bench_signal);
	signal(SIGTERM, bench_signal);
	atexit(bench_cleanup);

	snprintf(bench_bin, sizeof bench_bin, "%s", argv[0]);
	if ((p = strrchr(bench_bin, '/')) != NULL)
		*p = '\0';
	else
		snprintf(bench_bin, sizeof bench_bin, ".");
	n = bench_env_u64("BENCH_N", 1000000);
	bench_batch = (uint32_t)bench_env_u64("BENCH_BATCH", 1000);
	if (bench_batch == 0 || bench_batch > 10000) {
		fprintf(stderr, "bench: BENCH_BATCH: %u is not 1 to 10000\n",
		    bench_batch);
		return (2);
	}
	gn = bench_env_u64("BENCH_GDELT_N", 100000);
	if ((secs = getenv("BENCH_SECS")) != NULL && *secs != '\0') {
		bench_secs = strtod(secs, &end);
		if (*end != '\0' || bench_secs <= 0 || bench_secs > 600) {
			fprintf(stderr, "bench: BENCH_SECS: %s is not a "
			    "duration in seconds\n", secs);
			return (2);
		}
	}
	if (n < 1000) {
		fprintf(stderr, "bench: BENCH_N: %llu is too small\n",
		    (unsigned long long)n);
		return (2);
	}
	bench_perf = getenv("BENCH_PERF");
	if ((ord = getenv("BENCH_ORDER")) != NULL && *ord != '\0') {
		if (strcmp(ord, "feed") != 0) {
			fprintf(stderr, "bench: BENCH_ORDER is \"feed\" or "
			    "unset, not \"%s\"\n", ord);
			return (1);
		}
		bench_feed_only = 1;
	}
	if ((bench_only = getenv("BENCH_WORK")) != NULL && *bench_only == '\0')
		bench_only = NULL;
	if (getenv("BENCH_PERF_WORK") != NULL)
		bench_perf_work = getenv("BENCH_PERF_WORK");
	if ((base = getenv("BENCH_DIR")) == NULL || *base == '\0')
		base = bench_bin;
	if ((data = getenv("BENCH_DATA")) == NULL || *data == '\0') {
		/* A clone has no ../shared, but always its own cuts. */
		data = "../shared/data";
		if (access("../shared/data/gdelt1-events-sample.tsv", R_OK) !=
		    0) {
			snprintf(databuf, sizeof databuf, "%s/../tests/data",
			    bench_bin);
			data = databuf;
			cuts = 1;
		}
	}
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", localtime(&now));
	if ((tsv = getenv("BENCH_TSV")) == NULL || *tsv == '\0') {
		if (snprintf(tsvbuf, sizeof tsvbuf, "%s/bench-%s%llu-%s.tsv",
		    bench_bin, peers ? "peers-" : "", (unsigned long long)n,
		    stamp) >= (int)sizeof tsvbuf) {
			fprintf(stderr, "bench: %s: path too long\n",
			    bench_bin);
			return (1);
		}
		tsv = tsvbuf;
	}

	/* Socket paths below it must fit sun_path. */
	if (snprintf(bench_dir, sizeof bench_dir, "%s/bench.XXXXXX", base) >=
	    (int)sizeof bench_dir || strlen(bench_dir) > 60) {
		fprintf(stderr, "bench: %s: path too long for sockets below "
		    "it; set BENCH_DIR\n", base);
		return (1);
	}
	if (mkdtemp(bench_dir) == NULL) {
		fprintf(stderr, "bench: mkdtemp %s: %s\n", bench_dir,
		    strerror(errno));
		return (1);
	}
	/* Absolute: redis-server resolves its socket after chdir --dir. */
	if (realpath(bench_dir, tmp) == NULL || strlen(tmp) > 60) {
		fprintf(stderr, "bench: %s: path too long for sockets below "
		    "it; set BENCH_DIR\n", bench_dir);
		rmdir(bench_dir);
		return (1);
	}
	snprintf(bench_dir, sizeof bench_dir, "%s", tmp);
	if (statfs(bench_dir, &sfs) == 0 && sfs.f_type == BENCH_TMPFS) {
		fprintf(stderr, "bench: %s is on tmpfs, where fsync costs "
		    "nothing; set BENCH_DIR to a directory on disk\n",
		    bench_dir);
		rmdir(bench_dir);
		return (1);
	}
	uname(&un);
	printf("annals bench: %llu records, %.1f s per timed workload, %ld "
	    "cores, %s %s\n", (unsigned long long)n, bench_secs,
	    sysconf(_SC_NPROCESSORS_ONLN), un.sysname, un.release);
	printf("data directory: %s (filesystem type 0x%lx, not tmpfs)\n",
	    bench_dir, (unsigned long)sfs.f_type);
	printf("ingest: pipelined batches of %u, 4 in flight, acknowledged "
	    "after commit; first half 1 client, second half 4 clients; %s\n",
	    bench_batch, bench_feed_only ? "ingest-feed loads days ascending "
	    "into the store the queries run on (BENCH_ORDER=feed: no "
	    "random-order load)" : "ingest-feed loads days ascending into a "
	    "store of its own, ingest in random order into the store the "
	    "queries run on");
	printf("queries: limit 100, whole records; range = random 30-day "
	    "windows, actor = Zipf-drawn actor newest first, prefix = "
	    "%s* newest first\n", gen_prefix());
	printf("columns: ops/s (ingest: records/s); latency of a request "
	    "(ingest: of a batch); rows per request; CPU microseconds of "
	    "the server and of the clients per request (ingest: per "
	    "record), which a busy machine disturbs least\n");
	printf("written/event: write_bytes of /proc/PID/io (kernels that "
	    "keep files in large folios charge a whole folio per page "
	    "dirtied, which overstates it) and wchar (bytes handed to write "
	    "calls, socket replies included)\n");
	bench_loadavg("load average at start");
	if (peers) {
		for (peer = bench_peers; *peer != NULL; peer++) {
			if ((*peer)->range_note != NULL)
				printf("note: %s: %s\n", (*peer)->name,
				    (*peer)->range_note);
		}
	}
	printf("\n");
	bench_header();

	gen_init(GEN_SYNTH, NULL);
	bench_system(&bench_annals, "synth", n, bench_works,
	    sizeof bench_works / sizeof *bench_works);
	bench_system(&bench_echo, "synth", 0, bench_works,
	    sizeof bench_works / sizeof *bench_works);
	if (peers) {
		for (peer = bench_peers; *peer != NULL; peer++)
			bench_system(*peer, "synth", n, bench_works,
			    sizeof bench_works / sizeof *bench_works);
	}

	if (gn > 0 && gen_init(GEN_GDELT, data) == 0) {
		printf("\nGDELT: %zu rows of %s replicated to %llu records%s\n",
		    gen_nrows(), data, (unsigned long long)gn, cuts ?
		    " (no ../shared/data: the cuts of the samples)" : "");
		bench_system(&bench_annals, "gdelt", gn, bench_gdelt_works,
		    sizeof bench_gdelt_works / sizeof *bench_gdelt_works);
		if (peers) {
			for (peer = bench_peers; *peer != NULL; peer++)
				bench_system(*peer, "gdelt", gn,
				    bench_gdelt_works, sizeof
				    bench_gdelt_works / sizeof
				    *bench_gdelt_works);
		}
	} else if (gn > 0)
		printf("\nGDELT: samples not found in %s; skipped\n", data);

	bench_loadavg("\nload average at end");
	bench_print_sizes();
	bench_write_tsv(tsv, stamp);
	bench_ratios(peers);
	if (getenv("BENCH_KEEP") == NULL)
		nftw(bench_dir, bench_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	else
		printf("kept %s\n", bench_dir);
	return (0);
}
