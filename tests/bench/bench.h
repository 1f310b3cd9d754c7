/*
 * The benchmarks of `make bench` and `make bench-peers`: one workload
 * generator, one driver per system (annalsd through libannals, Redis
 * through hiredis, SQLite in-process) and a runner that forks the
 * clients, gathers their latencies and prints the figures.
 *
 * Every system answers the same questions on the same records; where a
 * peer's natural schema answers an easier question (a start-day index
 * finds events that start in a window, not every event that overlaps
 * it), the peer gets the easier question and the report says so.
 */
#ifndef ANNALS_BENCH_H
#define ANNALS_BENCH_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

/* One generated record, as plain strings every driver can use. */
#define GEN_MAX_ACTORS	4
struct gen_rec {
	char		 start[48];	/* EDTF: "2015-01-26" or "A/B" */
	int32_t		 sday;		/* days since 1970-01-01 */
	int32_t		 eday;		/* last day covered */
	const char	*actors[GEN_MAX_ACTORS];
	size_t		 nactors;
	char		 type[8];
	char		 title[256];
	const unsigned char *attrs;	/* a packed msgpack map, or NULL */
	size_t		 attrs_len;
	unsigned char	 abuf[8192];	/* holds attrs when generated */
};

#define GEN_SYNTH	0
#define GEN_GDELT	1

/* gen.c */
int		 gen_init(int, const char *);
int		 gen_kind(void);
size_t		 gen_nrows(void);
void		 gen_record(uint64_t, struct gen_rec *);
int32_t		 gen_record_day(uint64_t);
const char	*gen_query_actor(uint64_t *);
int32_t		 gen_query_day(uint64_t *, int32_t);
size_t		 gen_pack(const struct gen_rec *, unsigned char *, size_t);
uint64_t	 gen_rand(uint64_t *);
uint64_t	 gen_hash(uint64_t);
void		 gen_day_str(int32_t, char *, size_t);
int32_t		 gen_days(int, int, int);
const char	*gen_prefix(void);

/* What one client of a workload reports back to the runner. */
struct bench_out {
	uint64_t	 ops;		/* requests answered */
	uint64_t	 ops2;		/* second kind (mixed: puts) */
	uint64_t	 items;		/* records returned or written */
	uint64_t	 errors;
	uint64_t	 wbytes;	/* write_bytes, in-process systems */
	uint64_t	 wchar;		/* and the bytes of its write calls */
	uint64_t	 rss;		/* RSS less mapped data, in-process */
	uint64_t	 end_ns;	/* when the client finished */
	uint64_t	 cpu_ns;	/* the client's own CPU time */
	size_t		 nlat, nlat2;
	char		 err[256];
};

/* A client's latency log: units of 100 ns, capped per client. */
struct bench_lat {
	uint32_t	*v;
	size_t		 n, cap;
};

void	 bench_lat_add(struct bench_lat *, uint64_t);
void	 bench_op_done(struct bench_out *, struct bench_lat *,
	     struct bench_lat *, int, uint64_t);
uint64_t bench_now(void);

/* The workloads; the names are the table's and the TSV's. */
#define W_INGEST	0
#define W_RANGE		1
#define W_ACTOR		2
#define W_PREFIX	3
#define W_GET		4
#define W_PING		5
#define W_PING_PIPE	6
#define W_MIXED		7
#define W_HISTOGRAM	8
#define W_PING_RAW	9	/* a hand-made ping frame, no libannals */
#define W_HIST_OVERLAP	10	/* histogram counting every month spanned */
#define W_HIST_TYPE	11	/* histogram of the events of one type prefix */
#define W_RANGE_FIELDS	12	/* range for a list: RANGE_FIELDS only */

/* The keys a list of events shows, which range-fields-1c asks for. */
#define RANGE_FIELDS	"id,start,end,title,actors"

/* The histogram: 10 years by month, counting events by start month. */
#define HIST_FIRST_YEAR	2016
#define HIST_MONTHS	120
/* The type prefix of histogram-type: a CAMEO root, a tenth of 20 roots. */
#define HIST_TYPE	"03"

/* What a client is asked to do. */
struct bench_task {
	int		 kind;		/* W_* */
	int		 client;	/* 0 .. nclients-1 */
	int		 nclients;
	uint64_t	 first, count;	/* ingest: [first, first + count) */
	const uint32_t	*order;		/* ingest: the record at each place,
					   or NULL for gen_record's order */
	uint64_t	 nevents;	/* records in the store (ids 1..n) */
	uint64_t	 deadline;	/* timed workloads: bench_now() value */
	uint64_t	 seed;
	uint32_t	 batch;		/* ingest batch size */
	uint32_t	 depth;		/* batches or pings in flight */
	uint32_t	 limit;		/* page size of queries */
	uint64_t	 put_base;	/* mixed: first record index of puts */
};

/*
 * A system under test.  start and stop run in the runner; connect, run
 * and disconnect in each forked client.  run returns -1 with a message
 * in out->err when the workload cannot go on.
 */
struct bench_sys {
	const char	*name;
	int		 (*start)(const char *);
	void		 (*stop)(void);
	pid_t		 (*pid)(void);	/* a server process, or 0 */
	void		*(*connect)(char *, size_t);
	void		 (*disconnect)(void *);
	int		 (*run)(void *, const struct bench_task *,
			    struct bench_out *, struct bench_lat *,
			    struct bench_lat *);
	int		 (*supports)(int);
	/* Bytes of the data on disk, and a note on what is counted. */
	uint64_t	 (*db_bytes)(char *, size_t);
	/* Resident bytes of the server less mapped data files. */
	uint64_t	 (*rss)(char *, size_t);
	/* The question answered by range, when easier than annalsd's. */
	const char	*range_note;
	/* How the data file's mappings end, left out of in-process RSS. */
	const char	*map_suffix;
	/*
	 * Bytes of the data on disk once the running server has compacted
	 * it its own way (NULL: it has none; 0: it failed), and a note.
	 */
	uint64_t	 (*compacted)(char *, size_t);
};

uint64_t bench_rec(const struct bench_task *, uint64_t);

extern const struct bench_sys	 bench_annals;
extern const struct bench_sys	 bench_echo;
extern const struct bench_sys	*bench_peers[];
/* In bench-peers only. */
extern const struct bench_sys	 bench_redis, bench_redis_everysec;
extern const struct bench_sys	 bench_sqlite;

/* bench.c: helpers the drivers share. */
const char	*bench_bindir(void);
pid_t		 bench_spawn(const char *const *, const char *);
int		 bench_wait_socket(const char *, pid_t, int);
void		 bench_kill(pid_t *);
uint64_t	 bench_proc_io(pid_t, const char *);
uint64_t	 bench_proc_cpu(pid_t);
uint64_t	 bench_proc_faults(pid_t);
uint64_t	 bench_proc_rss(pid_t, const char *, uint64_t *);
uint64_t	 bench_file_bytes(const char *);
uint64_t	 bench_dir_bytes(const char *);
int		 bench_unix_connect(const char *);
int		 bench_raw_ping(int, uint32_t);
void		 bench_fail(struct bench_out *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));

#endif
