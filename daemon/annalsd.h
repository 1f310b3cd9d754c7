/*
 * annalsd's internal header: shared structures, then one block per
 * source file.  A structure only one file needs stays in that file.
 */
#ifndef ANNALSD_H
#define ANNALSD_H

#include <stddef.h>
#include <stdint.h>

#include "../proto/proto.h"

struct store;
struct conn;

/* annalsd.c */
extern struct server	*server;
uint64_t now_ms(void);
void	 annalsd_shutdown(void);
void	 annalsd_check_done(void);
void	 annalsd_when_readable(int, void (*)(void *), void *);

/* log.c */
#define LOG_ERR_LVL	0
#define LOG_WARN_LVL	1
#define LOG_NOTICE_LVL	2
#define LOG_INFO_LVL	3
#define LOG_DEBUG_LVL	4
void	 log_set_level(int);
int	 log_get_level(void);
void	 log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 fatal(const char *, ...) __attribute__((format(printf, 1, 2),
	     noreturn));
void	 fatalx(const char *, ...) __attribute__((format(printf, 1, 2),
	     noreturn));
const char *log_escape(const char *, size_t, char *, size_t);

/* xmalloc.c */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);

/* store.c */
struct store_config {
	const char	*path;		/* the data directory */
	uint64_t	 changes_keep_ms;	/* how long deletions stay logged */
	size_t		 map_size;	/* initial map size */
	size_t		 max_map_size;	/* growth stops here */
	size_t		 stage_entries;	/* time stage size; 0: the default */
	size_t		 stage_text;	/* events staged for the word index */
	int		 no_text_index;	/* benchmarks: ingest without it */
	int		 text_mirror_check; /* tests: sweeps check their memory */
	int		 exclusive;	/* hold the directory's lock (store.c) */
};

#define STORE_ADDED	1
#define STORE_UPDATED	2
#define STORE_UNCHANGED	3
#define STORE_KEPT	4		/* a dict put with only_new */

/* One write: a put of ev, or a delete of id, and its outcome. */
struct store_op {
	int		 kind;		/* CHANGE_* */
	struct event	*ev;		/* put: validated record, not owned */
	uint64_t	 id;		/* delete: the event */
	/*
	 * A change of a primary's feed (a replica, replica.c), stored as
	 * given: the put's id, rev and times, under this change seq; 0: a
	 * client's write.  stream_seq is where it came from, kept in the
	 * same transaction (store_stream_seq).
	 */
	uint64_t	 seq;
	uint64_t	 stream_seq;
	int		 check_rev;	/* put: only over rev if_rev */
	uint64_t	 if_rev;	/* 0: only if the event is new */
	struct dict_entry *dict;	/* dict ops: the entry, or its key */
	int		 only_new;	/* dict put: not over an entry */
	int		 status;	/* put: STORE_*; delete: 1 if gone */
	uint64_t	 out_id;
	uint64_t	 out_rev;
};

/* The ops of one request: applied all or none. */
struct store_batch {
	struct store_op	*ops;
	size_t		 nops;
	int		 failed;
	struct aerr	 err;		/* when failed */
};

/* One query hit: views into the map, valid inside the emit callback. */
struct store_hit {
	const void	*data;		/* the packed record */
	size_t		 len;
	const char	*via;		/* by an alias: the code it holds */
	int		 match;		/* DATE_MATCH_* */
	int64_t		 start;		/* its place in the order */
	uint64_t	 id;
};

struct store_page {
	struct store_hit *hits;
	size_t		 nhits;
	int		 more;		/* another page follows */
	int64_t		 next_start;	/* resume after (start, id) */
	uint64_t	 next_id;
};

#define STORE_DBS_MAX	80	/* databases of a store, at most */

struct store_stats {
	uint64_t	 events;
	uint64_t	 actors;
	uint64_t	 db_bytes;
	uint64_t	 free_bytes;	/* of free pages, within db_bytes */
	uint64_t	 map_bytes;
	uint64_t	 last_seq;
	uint64_t	 map_grows;
	uint64_t	 write_memory;	/* store_write_memory() */
	uint64_t	 releases;	/* of that memory: store_release() */
	uint64_t	 records_bytes;	/* pages of the records */
	uint64_t	 text_bytes;	/* pages of the word index */
	struct store_db_size {		/* each database of the store */
		const char	*name;
		uint64_t	 entries;
		uint64_t	 bytes;		/* its pages */
	}		 dbs[STORE_DBS_MAX];
	size_t		 ndbs;
};

typedef int (*store_page_cb)(void *, const struct store_page *);
typedef int (*store_get_cb)(void *, size_t, const void *, size_t);
typedef int (*store_actor_cb)(void *, const char *, size_t, uint64_t);

/*
 * One entry of the change log; data is the record of a put, or the
 * packed entry of a dictionary put.
 */
struct store_change {
	uint64_t	 seq;
	int		 op;		/* CHANGE_* */
	uint64_t	 id;
	const void	*data;
	size_t		 len;
	int		 dict_kind;	/* dictionary changes: DICT_* */
	const char	*dict_key;	/* and the key, not NUL-terminated */
	size_t		 dict_keylen;
};
typedef int (*store_change_cb)(void *, const struct store_change *);
#define STORE_PAGE_FULL	1	/* from a store_change_cb: end the page */
#define STORE_CHANGE_SKIP 2	/* from a store_change_cb: not for it */
#define STORE_CHANGE_IS_DICT(ch) \
	((ch)->op == CHANGE_DICT_PUT || (ch)->op == CHANGE_DICT_DELETE)

#define STORE_MAX_SCANS	100000	/* index ranges one query may merge */

struct store *store_open(const struct store_config *, struct aerr *);
void	 store_close(struct store *);
int	 store_write(struct store *, struct store_batch *, size_t,
	     uint64_t, struct aerr *);
void	 store_write_prepare(struct store_batch *, size_t);
int	 store_write_try(struct store *, struct store_batch *, size_t,
	     uint64_t, struct aerr *);
int	 store_grow(struct store *, struct aerr *);
void	 store_release(struct store *);
void	 store_warm(struct store *);
uint64_t store_write_memory(const struct store *);
#define STORE_NEED_GROW	(-3)
int	 store_query(struct store *, const struct query *, msgpack_sbuffer *,
	     store_page_cb, void *, struct aerr *);
int	 store_get(struct store *, const uint64_t *, size_t, store_get_cb,
	     void *, struct aerr *);
int	 store_get_by_key(struct store *, const char *, const char *,
	     store_get_cb, void *, struct aerr *);
int	 store_actors(struct store *, const char *, const char *, uint32_t,
	     store_actor_cb, void *, int *, struct aerr *);
int	 store_stats(struct store *, struct store_stats *, struct aerr *);
void	 store_reader_check(struct store *);
int	 store_changes(struct store *, uint64_t, uint32_t, store_change_cb,
	     void *, uint64_t *, int *, uint64_t *, struct aerr *);
uint64_t store_last_seq(const struct store *);
uint64_t store_stream_seq(const struct store *);
const char *store_uuid(const struct store *);
void	 store_prune_soon(struct store *);
const char *store_lmdb_version(void);
/* Failure injection for tests: make the next n commits fail with errno. */
void	 store_inject_commit_error(struct store *, int, int);
/*
 * For tests and benchmarks: the word queries that did not read the
 * stage, and forgetting what they read it for (store-text.c).
 */
uint64_t store_text_cache_hits(struct store *);
void	 store_text_cache_clear(struct store *);

/* store-backup.c */
int	 store_backup_start(struct store *, const char *, int, struct aerr *);
int	 store_backup_finish(struct store *, uint64_t *, struct aerr *);
int	 store_backup_running(struct store *);
const char *store_copy_running(struct store *);

/* What a compaction did (store_compact, store_compact_finish). */
struct store_compacted {
	uint64_t	 bytes_before;	/* data.mdb before and after */
	uint64_t	 bytes_after;
	uint64_t	 entries;	/* in every database */
};
int	 store_compact(const struct store_config *, struct store_compacted *,
	     struct aerr *);
int	 store_compact_start(struct store *, int, struct aerr *);
int	 store_compact_finish(struct store *, struct store_compacted *,
	     struct aerr *);

/* store-dict.c */
int	 store_dict_lookup(struct store *, int, const char *const *, size_t,
	     store_get_cb, void *, struct aerr *);
int	 store_dict_list(struct store *, int, const char *, const char *,
	     uint32_t, store_get_cb, void *, int *, struct aerr *);

/* names.c */
#define NAMES_NONE	0
#define NAMES_USER	1
#define NAMES_CAMEO	2
#define NAMES_IMPORT	3		/* an importer's, below CAMEO's */
struct names_label {
	char	*label;			/* NULL: none */
	int	 from;			/* NAMES_* */
};
int	 names_unpack(const void *, size_t, struct dict_entry *);
int	 names_resolve(struct query *, struct aerr *);
int	 names_labels(const char *const *, size_t, struct names_label *,
	     struct aerr *);
void	 names_labels_free(struct names_label *, size_t);
char	*names_cameo(const char *);
int	 names_imported(const char *, char **, struct aerr *);
const char *names_from_name(int);
void	 names_pack_label(msgpack_packer *, const struct names_label *);

/* m-dict-get.c */
int	 dict_get_code(const char *, msgpack_sbuffer *, struct aerr *);

/* store-check.c */
#define STORE_CHECK_KEEP	32	/* problems described in full */
struct store_check {
	uint64_t	events;
	uint64_t	index_entries;
	uint64_t	changes;
	uint64_t	nproblems;
	char		problems[STORE_CHECK_KEEP][160];
};
int	 store_check(struct store *, struct store_check *, struct aerr *);

/* store-key.c */
#define SKEY_TIME_LEN	17		/* class, start, id */
#define SKEY_REC_LEN	16		/* start, id: a record's key */
#define SKEY_REC_SHORT	17		/* the last class of short records */
#define SKEY_SPAN_MAX	51		/* flags and five varints */
#define SKEY_CLASS_INF	63
void	 skey_be64(unsigned char *, uint64_t);
uint64_t skey_get_be64(const unsigned char *);
void	 skey_time(unsigned char *, int64_t);
int64_t	 skey_get_time(const unsigned char *);
int	 skey_class(const struct date_span *);
int64_t	 skey_class_reach(int);
#define SKEY_SPAN_BEFORE	0x1	/* fuzzy before its start */
#define SKEY_SPAN_UNALIGNED	0x2	/* other than whole days */
int	 skey_span_kind(const struct date_span *);
size_t	 skey_time_key(unsigned char *, int, int64_t, uint64_t);
size_t	 skey_rec_key(unsigned char *, int64_t, uint64_t);
int	 skey_get_rec_key(const unsigned char *, size_t, int64_t *,
	     uint64_t *);
size_t	 skey_actor_key(unsigned char *, const char *, size_t, int,
	     int64_t, uint64_t);
size_t	 skey_source_key(unsigned char *, const char *, const char *);
size_t	 skey_span(unsigned char *, const struct date_span *);
int	 skey_get_span(const unsigned char *, size_t, int64_t,
	     struct date_span *);

/* server.c */
struct config {
	const char	*data_dir;
	const char	*socket_path;
	const char	*listen;	/* host:port, or NULL */
	int		 allow_remote;	/* non-loopback TCP: with auth only */
	const char	*auth_file;
	const char	*user;		/* drop privileges to this user */
	const char	*socket_group;
	unsigned	 socket_mode;
	unsigned	 idle_timeout;	/* seconds; 0: none */
	size_t		 map_size;
	size_t		 max_map_size;
	size_t		 max_frame;
	size_t		 max_conns;
	size_t		 max_inflight;	/* requests read ahead per client */
	size_t		 out_high;	/* output bytes that pause a client */
	size_t		 out_hard;	/* output bytes that drop a client */
	size_t		 max_preauth;	/* held by clients without a token */
	size_t		 changes_keep_days;
	size_t		 read_threads;	/* 0: answer reads on the loop */
	size_t		 write_memory;	/* kept by writes after they stop */
};

struct server {
	struct event_base	*base;
	struct store		*store;
	const struct config	*cfg;
	uint64_t		 started;	/* ms since the epoch */
	size_t			 http_conns;	/* kept by http.c */
	int			 shutting_down;
};

int	 server_start(struct server *, struct aerr *);
void	 server_stop_listening(void);
void	 server_free(void);

/* conn.c */
void		 conn_init(struct event_base *);
void		 conn_fini(void);
struct conn	*conn_new(int, const char *);
void		 conn_ref(struct conn *);
void		 conn_unref(struct conn *);
void		 conn_close(struct conn *, const char *);
int		 conn_dead(const struct conn *);
uint64_t	 conn_id(const struct conn *);
msgpack_packer	*conn_reply_begin(struct conn *, uint32_t);
void		 conn_reply_end(struct conn *);
void		 conn_reply_error(struct conn *, uint32_t, int, const char *);
msgpack_sbuffer	*conn_sbuf(struct conn *);
void		 conn_hold(struct conn *);
void		 conn_release(struct conn *);
void		 conn_write_begin(struct conn *);
void		 conn_read_begin(struct conn *);
void		 conn_done(struct conn *, msgpack_sbuffer *);
size_t		 conn_pending(const struct conn *);
int		 conn_hello_waits(struct conn *);
void		 conn_shutdown_all(void);
msgpack_packer	*conn_notify_begin(struct conn *, const char *);
int		 conn_output_full(struct conn *);
void		 conn_set_drain(struct conn *, void (*)(struct conn *));
int		 conn_scope(const struct conn *);
void		 conn_set_scope(struct conn *, int);
void		 conn_auth_failed(struct conn *);
const char	*conn_peer(const struct conn *);
size_t		 conn_count(void);

/* dispatch.c */
#define METHOD_WRITE	0x1		/* goes through the group commit */
#define METHOD_OPEN	0x2		/* allowed before authentication */
#define METHOD_ADMIN	0x4		/* needs the write scope */
#define METHOD_READER	0x8		/* may run on a reader thread */
#define METHOD_LONG	0x10		/* always there: it takes seconds */

/*
 * What dispatch_local() hands back: the method's result, or err (result
 * NULL).  Both live only for the call.
 */
typedef void (*dispatch_local_cb)(void *, const msgpack_object *,
	     const struct aerr *);

/*
 * A method packs its reply into sbuf with dispatch_reply_begin() and
 * dispatch_reply_end(); on a reader thread conn is NULL and sbuf the
 * job's own, so such a method uses nothing else of the connection.  A
 * request run by dispatch_local() has no conn either, and local set:
 * a write's acknowledgement goes there (commit.c).
 */
struct request {
	struct conn		*conn;
	uint32_t		 msgid;
	const msgpack_object	*params;	/* a map, or NULL */
	msgpack_sbuffer		*sbuf;
	msgpack_packer		 pk;
	dispatch_local_cb	 local;
	void			*local_arg;
};

struct method {
	const char	*name;
	int		 flags;
	void		 (*exec)(struct request *);
	/*
	 * For a METHOD_READER method, or NULL: whether a request with these
	 * params costs less than the hop to a reader thread and back.
	 */
	int		 (*cheap)(const msgpack_object *);
};

#define DISPATCH_WAIT		0	/* leave it: earlier replies first */
#define DISPATCH_RAN		1	/* run, or handed on */
#define DISPATCH_REFUSED	2	/* answered with an error */
int	 dispatch_request(struct conn *, const unsigned char *, uint32_t);
const struct method *dispatch_find(const char *, size_t);
int	 dispatch_check_params(const struct request *, const char *const *,
	     struct aerr *);
int	 dispatch_page_limit(const struct request *, uint32_t *,
	     struct aerr *);
int	 dispatch_ids(const msgpack_object *, uint64_t **, size_t *,
	     struct aerr *);
void	 dispatch_error(struct request *, const struct aerr *);
msgpack_packer *dispatch_reply_begin(struct request *);
size_t	 dispatch_page_budget(void);
void	 dispatch_reply_end(struct request *);
void	 dispatch_local(const struct method *, const msgpack_object *,
	     dispatch_local_cb, void *);
void	 dispatch_local_reply(dispatch_local_cb, void *,
	     const msgpack_sbuffer *);
int	 range_exec(struct request *, int);

#define METHOD_DECLARE(name) extern const struct method method_##name;
PROTO_METHODS(METHOD_DECLARE)
#undef METHOD_DECLARE

/* m-put.c */
struct put_batch;
int	 put_decode(const msgpack_object *, struct put_batch **,
	     struct aerr *);
void	 put_local(struct put_batch *, dispatch_local_cb, void *);

/*
 * commit.c: a batch is of one kind, CHANGE_PUT or CHANGE_DELETE; a
 * dictionary batch (commit_enqueue_dict) of CHANGE_DICT_PUT or
 * CHANGE_DICT_DELETE, and owns its entries.
 */
void	 commit_init(void);
void	 commit_free(void);
void	 commit_enqueue(const struct request *, int, struct store_op *,
	     size_t, struct event *, size_t);
void	 commit_enqueue_error(const struct request *, const struct aerr *);
void	 commit_enqueue_dict(const struct request *, struct store_op *,
	     struct dict_entry *, size_t);
void	 commit_enqueue_given(const struct request *, struct store_op *,
	     size_t, struct event *, struct dict_entry *);
void	 commit_flush(void);
void	 commit_drain(void);
void	 commit_backup_ended(void);
void	 commit_hold(void (*)(void *), void *);
void	 commit_unhold(void);
void	 commit_warm_soon(void);
size_t	 commit_pending(void);

/* readers.c */
void	 readers_init(size_t);
void	 readers_drain(void);
void	 readers_free(void);
void	 readers_pause(void);
int	 readers_slow(void);
void	 readers_resume(void);
uint64_t readers_jobs(void);
int	 readers_call(void (*)(void *), void (*)(void *), void *);
int	 readers_offer(struct conn *, const struct method *, uint32_t,
	     const msgpack_object *, const void *, size_t);

/* changes.c */
typedef void (*changes_cb)(void *, uint64_t);
void	 changes_listen(changes_cb, void *);
void	 changes_unlisten(changes_cb, void *);
void	 changes_committed(void);
void	 changes_free(void);

/* m-stats.c */
int	 stats_pack(msgpack_packer *, long, struct aerr *);

/* m-changes.c */
void	 subs_free(void);

/* auth.c */
#define AUTH_NONE	0
#define AUTH_READ	1
#define AUTH_WRITE	3		/* includes read */
int	 auth_load(const char *, struct aerr *);
int	 auth_enabled(void);
int	 auth_check(const char *, size_t);
#define AUTH_PEER_KEY	64	/* room for a peer's key */
void	 auth_peer_key(int, char *, size_t);
uint64_t auth_failed(const char *);
uint64_t auth_wait(const char *);
void	 auth_free(void);

/* replica.c */
int	 replica_start(const char *, const char *, const char *,
	     struct aerr *);
void	 replica_stop(void);
int	 replica_following(void);
int	 replica_refuse(const char *, int, struct aerr *);
int	 replica_pack_stats(msgpack_packer *);

/* notify.c */
void	 notify_init(void);
void	 notify_send(const char *);
void	 notify_close(void);

#endif
