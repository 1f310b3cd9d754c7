/*
 * What the store's own files share: the environment and its databases,
 * the write context, and a few helpers.  Only daemon/store*.c include
 * this (and so <lmdb.h>).
 */
#ifndef ANNALSD_STORE_INT_H
#define ANNALSD_STORE_INT_H

#include <stdatomic.h>

#include <lmdb.h>

#define ACTOR_KEY_MAX	(EVENT_MAX_ACTOR + 1 + SKEY_TIME_LEN)
/* Long records have a database a class (store-rec.c), short ones one. */
#define REC_LONG_CLASSES	(SKEY_CLASS_INF - SKEY_REC_SHORT)
#define REC_DBS			(1 + REC_LONG_CLASSES)

struct store {
	MDB_env		*env;
	MDB_dbi		 events, actor, actors, keys, meta;
	MDB_dbi		 longs[REC_LONG_CLASSES]; /* records by class */
	char		 long_names[REC_LONG_CLASSES][sizeof "events.255"];
	MDB_dbi		 timeblocks;	/* classes -> spans (store-post.c) */
	MDB_dbi		 idblocks;	/* ids -> starts of their records */
	MDB_dbi		 logblocks;	/* seqs -> their changes */
	MDB_dbi		 tombs;		/* seq -> time, id of each delete */
	MDB_dbi		 time_new;	/* staged time entries (store_sweep) */
	MDB_dbi		 actor_new;	/* staged actor entries */
	MDB_dbi		 days;		/* day of a start -> events (store_day) */
	MDB_dbi		 type, type_new, types;	/* store-type.c */
	MDB_dbi		 text, text_tail, text_new, words; /* store-text.c */
	MDB_dbi		 dict, dictch;	/* store-dict.c */
	MDB_dbi		 attr_ids, attr_names; /* store-attrs.c */
	struct attr_dict *attrs;	/* their cache */
	size_t		 stage_time;	/* entries a stage holds at most */
	size_t		 stage_actor;
	size_t		 stage_text;
	int		 no_text;	/* store_config.no_text_index */
	int		 text_mirror_check;	/* store_config's */
	struct text_mirror *text_mirror; /* the stage in memory (store-text.c) */
	struct stage_cache *stage_cache; /* staged postings queries read */
	struct sweep {			/* the writer's place in a stage */
		unsigned char	key[ACTOR_KEY_MAX];
		size_t		len;
	}		 sweep_time, sweep_actor, sweep_type;
	_Atomic uint64_t last_seq;	/* of the last commit */
	_Atomic uint64_t stream_seq;	/* a replica's place in its stream */
	char		 uuid[37];	/* this store's, made once */
	uint64_t	 keep_ms;	/* deletes stay in the log this long */
	_Atomic int	 prune_due;	/* set by the loop, read by the writer */
	struct backup	*backup;	/* running, or NULL */
	char		*path;		/* the data directory */
	int		 lock_fd;	/* its annalsd.lock, or -1 */
	size_t		 map_size;
	size_t		 max_map_size;
	uint64_t	 map_grows;
	_Atomic uint64_t write_peak;	/* store_write_memory() */
	uint64_t	 releases;	/* store_release() */
	int		 inject_errno;
	int		 inject_count;
};

/* The counters a write transaction advances; restored when it aborts. */
struct counters {
	uint64_t	next_id;
	uint64_t	next_seq;
	uint64_t	classes;
	uint64_t	classes_before;	/* with a SKEY_SPAN_BEFORE event */
	uint64_t	classes_unaligned; /* with a SKEY_SPAN_UNALIGNED one */
	uint64_t	stream_seq;	/* of the last replicated op applied */
};

/* Changes of name counts a transaction gathers (store-names.c). */
struct name_pend {
	struct name_delta	**slot;		/* open addressing */
	size_t			  nslot, n;
};

struct wctx {
	struct store	*st;
	MDB_txn		*txn;
	struct counters	 c;
	uint64_t	 now;
	int		 nested;	/* a child transaction per batch */
	msgpack_sbuffer	 sbuf;
	msgpack_sbuffer	 pos;		/* store_pos_pack's scratch */
	/*
	 * The entries of the events staged since the last flush to text_new
	 * (store-text.c), as one batch: its bytes, its events and the
	 * smallest seq of their records, the batch's key.
	 */
	char		*text_pend;
	size_t		 text_plen, text_pcap, text_pn;
	uint64_t	 text_pmin;
	int		 text_mirror;	/* TEXT_MIRROR_*: the stage in memory */
	int		 text_restaged;	/* text_new changed: a new serial */
	int		 text_rebased;	/* other than by a batch at its end */
	struct name_pend *names;	/* or NULL: counts written at once */
};

/* write_once's request to be run again with nested transactions. */
#define STORE_RETRY_NESTED	(-2)

/*
 * The encoding of keys and values (store-key.c); see store_format.  In
 * format 3 a record is followed by the 8-byte seq of its change, which
 * format 2 kept in a database of its own (chid).  In format 4 the keys
 * of a record's attrs may be ids of attr_names (store-attrs.c); a record
 * of format 3 is one of format 4 that names none by id.  Format 5 keys
 * records by (start, id) instead of id (store-rec.c), their bytes the
 * same.  Format 6 keys a long event's record by (class, start, id).
 * Format 7 keeps the actor and type indexes in blocks of postings
 * (store-post.c).  Format 8 stores a record by position (store-pos.c)
 * when that form gives its map back; maps are read as before.  Format 9
 * keeps the map of ids to records' keys in blocks of 64 ids (store-rec.c).
 * Format 10 keeps the change log in blocks of 64 seqs (store-log.c).
 * Format 11 keeps the time index in blocks of postings (store-post.c).
 * Format 12 keeps a long event's record under its start and id in the
 * database of its class (store-rec.c).  Format 13 seals the word index's
 * blocks at up to 4 KB (store-text.c), which an annalsd of format 12
 * would take for damaged ones; it reads those of 1 KB as they are.
 */
#define STORE_FORMAT	13
#define STORE_SEQ_LEN	8

#define PRUNE_BATCH	10000	/* tombstones dropped per commit */
/*
 * Staged time entries (store_sweep); actors get three times as many.  A
 * larger stage moves fewer index pages per commit but rewrites more of
 * its own: at 1M events, 16384 ingested 52k events/s on one client where
 * 65536 did 34k and 8192 61k (but 4 clients fell to 38k from 50k).
 */
#define STAGE_TIME_ENTRIES 16384

#define SOURCE_KEY_MAX	(EVENT_MAX_SOURCE + 1 + EVENT_MAX_KEY)

void	 store_backup_wait(struct store *);
void	 store_copy_abandon(struct store *);
void	 store_env_reopen(struct store *, const char *);
int	 store_read_begin(struct store *, MDB_txn **, struct aerr *);
int	 store_error(struct aerr *, int, const char *);
/* A commit's EIO with less than this left on its filesystem: ENOSPC. */
#define STORE_FULL_SLACK	((uint64_t)4 << 20)
int	 store_disk_full(const char *, int);
uint64_t store_meta_get(MDB_txn *, MDB_dbi, const char *, uint64_t);
int	 store_meta_put(MDB_txn *, MDB_dbi, const char *, uint64_t);
int	 store_unpack(struct store *, MDB_txn *, const void *, size_t,
	     struct event *);
uint64_t store_rec_split(MDB_val *);

/* store-rec.c: records by ([class,] start, id), and ids in blocks */
#define ID_BLOCK_SHIFT	6
#define ID_BLOCK_IDS	(1 << ID_BLOCK_SHIFT)
#define ID_BLOCK_MAX	(8 + ID_BLOCK_IDS * (10 + 8 + 1))	/* encoded */
struct id_block {
	uint64_t	 present;		/* bit i: id base * 64 + i */
	int64_t		 start[ID_BLOCK_IDS];
	unsigned char	 class[ID_BLOCK_IDS];	/* 0: a short record */
};
int	 store_put_last(MDB_txn *, MDB_dbi, MDB_val *, MDB_val *);
int	 store_block_find(MDB_txn *, MDB_dbi, MDB_cursor **, MDB_val *,
	     MDB_val *, int *);
int	 store_block_put(MDB_cursor *, MDB_val *, MDB_val *, int);
int	 store_idb_decode(const void *, size_t, struct id_block *);
size_t	 store_idb_encode(const struct id_block *, unsigned char *);
int	 store_ids_to_blocks(MDB_txn *, struct store *, size_t *);
int	 store_rec_start(MDB_txn *, struct store *, uint64_t, int *,
	     int64_t *);
/*
 * The database of the records of class: events for a short record (class
 * SKEY_REC_SHORT or below, or 0), that of its class for a long one.
 */
static inline MDB_dbi
store_rec_dbi(const struct store *st, int class)
{
	return (class > SKEY_REC_SHORT ?
	    st->longs[class - SKEY_REC_SHORT - 1] : st->events);
}

/* The record databases by number, from 0 to REC_DBS - 1, and classes. */
static inline MDB_dbi
store_rec_db(const struct store *st, int i)
{
	return (i == 0 ? st->events : st->longs[i - 1]);
}

static inline int
store_rec_db_class(int i)
{
	return (i == 0 ? 0 : SKEY_REC_SHORT + i);
}

int	 store_rec_open(struct store *, MDB_txn *);
void	 store_rec_db_name(int, char *, size_t);
int	 store_rec_count(MDB_txn *, const struct store *, uint64_t,
	     uint64_t *);
int	 store_rec_at(MDB_txn *, struct store *, int, int64_t, uint64_t,
	     MDB_val *);
int	 store_rec_seek(MDB_cursor *, int64_t, uint64_t, MDB_val *);
int	 store_rec_step(MDB_cursor *, int64_t, uint64_t, int, MDB_val *);
int	 store_longs_to_classes(MDB_txn *, struct store *, size_t *);
int	 store_rec_get(MDB_txn *, struct store *, uint64_t, MDB_val *);
int	 store_rec_put(MDB_txn *, struct store *, int, int64_t, uint64_t,
	     MDB_val *, int);
int	 store_rec_del(MDB_txn *, struct store *, uint64_t);
int	 store_upgrade_records(struct store *, const char *, struct aerr *);

/* store-log.c: the change log, in blocks of 64 seqs */
#define LOG_BLOCK_SHIFT	6
#define LOG_BLOCK_SEQS	(1 << LOG_BLOCK_SHIFT)
#define DICT_KEY_MAX	(1 + DICT_MAX_NAME)	/* a dictionary key: kind key */
#define LOG_BLOCK_MAX	(8 + LOG_BLOCK_SEQS * (10 + 8 + DICT_KEY_MAX))
struct log_entry {
	int			 op;		/* CHANGE_* */
	uint64_t		 id;		/* an event's */
	const unsigned char	*dkey;		/* a dictionary entry's */
	size_t			 dkeylen;
};
struct log_block {
	uint64_t		 present;	/* bit i: seq base * 64 + i */
	struct log_entry	 e[LOG_BLOCK_SEQS];
};
struct log_walk {
	MDB_cursor		*cur;
	MDB_cursor_op		 op;		/* the next block's */
	uint64_t		 from, base;
	uint64_t		 left;		/* bits of b still to walk */
	struct log_block	 b;
};
int	 store_log_decode(const void *, size_t, struct log_block *);
size_t	 store_log_encode(const struct log_block *, unsigned char *);
int	 store_log_add(MDB_txn *, struct store *, uint64_t,
	     const struct log_entry *);
int	 store_log_del(MDB_txn *, struct store *, uint64_t);
int	 store_log_get(MDB_txn *, struct store *, uint64_t, struct log_entry *);
int	 store_log_walk_open(MDB_txn *, struct store *, uint64_t,
	     struct log_walk *);
int	 store_log_walk_next(struct log_walk *, uint64_t *, struct log_entry *);
void	 store_log_walk_close(struct log_walk *);
int	 store_log_from_changes(MDB_txn *, struct store *, size_t *);
int	 store_time_to_blocks(MDB_txn *, struct store *, size_t *);
int64_t	 store_day(int64_t);
int	 store_actor_seen(const struct event *, uint32_t);
int	 store_index_del(struct wctx *, MDB_dbi, MDB_dbi, MDB_val *);
int	 store_name_count(struct wctx *, MDB_dbi, const char *, int, int);
int	 store_name_add(struct wctx *, MDB_dbi, const char *, int, int);
int	 store_names_flush(struct wctx *);
void	 store_names_discard(struct wctx *);
typedef int (*store_name_fn)(void *, const void *, size_t, uint64_t);
int	 store_names_each(MDB_txn *, MDB_dbi, const char *, int,
	     store_name_fn, void *, struct aerr *);

/* store-query.c: the one filter of queries and aggregations */
size_t	 store_scan_bounds(const char *, size_t, int, int64_t, int64_t,
	     unsigned char *, unsigned char *);
int	 store_span_passes(const struct query *, const struct date_span *,
	     int *);
struct text_iter;
int	 store_needs_record(const struct query *, int,
	     const struct text_iter *);
int	 store_record_matches(const struct query *, const msgpack_object *,
	     struct text_iter *);
int	 store_str_is(const msgpack_object *, const char *, size_t);
int	 store_rec_actor(const msgpack_object *, const msgpack_object **,
	     const msgpack_object **);

/*
 * Varints, 7 bits a byte from the low end, and the zigzag that keeps a
 * signed distance small either way: the encodings of spans
 * (store-key.c) and of postings (store-text.c, store-post.c).
 */
static inline size_t
store_varint_put(unsigned char *p, uint64_t v)
{
	size_t	n = 0;

	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return (n);
}

static inline int
store_varint_get(const unsigned char **pp, const unsigned char *end,
    uint64_t *v)
{
	const unsigned char	*p = *pp;
	int			 shift;

	*v = 0;
	for (shift = 0; shift < 64 && p < end; shift += 7) {
		*v |= (uint64_t)(*p & 0x7f) << shift;
		if ((*p++ & 0x80) == 0) {
			*pp = p;
			return (0);
		}
	}
	return (-1);
}

static inline uint64_t
store_zigzag(uint64_t d)
{
	return ((d << 1) ^ (uint64_t)-(int64_t)(d >> 63));
}

static inline uint64_t
store_unzigzag(uint64_t z)
{
	return ((z >> 1) ^ (uint64_t)-(int64_t)(z & 1));
}

/* The bitmap at the head of a block of 64 (ids, seqs): little-endian. */
static inline uint64_t
store_bitmap_get(const unsigned char *p)
{
	uint64_t	present = 0;
	int		i;

	for (i = 0; i < 8; i++)
		present |= (uint64_t)p[i] << (8 * i);
	return (present);
}

static inline void
store_bitmap_put(unsigned char *p, uint64_t present)
{
	int	i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(present >> (8 * i));
}

/* store-attrs.c: msgpack walks that records and attrs share */
size_t	 store_mp_len(const unsigned char *, size_t);
void	 store_mp_init(void);
int	 store_mp_map(const unsigned char *, size_t, uint32_t *, size_t *);
void	*store_sbuf_room(msgpack_sbuffer *, size_t);
void	 store_attrs_expand_map(struct store *, MDB_txn *, const void *,
	     size_t, msgpack_sbuffer *);
ssize_t	 store_rec_attrs(const void *, size_t);

/* store-pos.c: records stored by position */
void	 store_pos_init(void);
int	 store_pos_is(const void *, size_t);
int	 store_pos_pack(msgpack_sbuffer *, msgpack_sbuffer *);
int	 store_pos_expand(struct store *, MDB_txn *, const void *, size_t,
	     msgpack_sbuffer *, int, uint32_t);
ssize_t	 store_pos_attrs(const unsigned char *, size_t);

/* store-post.c: the actor and type indexes as blocks of postings */
#define POST_BLOCK_BYTES	480	/* a block's value at most */
#define POST_BLOCK_MAX		128	/* and its postings */
struct post {
	int64_t			 start;
	uint64_t		 id;
	const unsigned char	*span;
	size_t			 slen;
};
/* A cursor on an index: its entries, or the postings of its blocks. */
struct ixcur {
	MDB_cursor	*cur;
	struct post	*p;		/* a block's, or NULL: no blocks */
	size_t		 n, i;
	unsigned char	 key[ACTOR_KEY_MAX];	/* its posting's entry */
	size_t		 plen;
};
int	 store_ix_blocks(const struct store *, MDB_dbi);
int	 store_ix_get(struct store *, MDB_txn *, MDB_dbi, const MDB_val *,
	     MDB_val *);
int	 store_ixcur_open(struct store *, MDB_txn *, MDB_dbi,
	     struct ixcur *);
int	 store_ixcur_get(struct ixcur *, MDB_val *, MDB_val *,
	     MDB_cursor_op);
int	 store_ixcur_seek_last(struct ixcur *, MDB_val *, MDB_val *);
void	 store_ixcur_close(struct ixcur *);
struct post_run;
struct post_run *store_post_run_new(void);
void	 store_post_run_free(struct post_run *);
int	 store_post_run_put(struct wctx *, struct post_run *, MDB_dbi,
	     const MDB_val *, const MDB_val *);
int	 store_post_run_end(struct wctx *, struct post_run *);
int	 store_post_del(struct wctx *, MDB_dbi, const MDB_val *);
int	 store_post_open(struct store *, MDB_txn *);
int	 store_post_build_put(struct wctx *, struct post_run *,
	     const struct event *, int);

/* store-type.c */
/* The stored types with a prefix (store_type_names). */
struct type_names {
	char		**names;	/* the first nnames of them */
	size_t		  nnames;
	size_t		  n;		/* how many there are */
	uint64_t	  events;	/* and their events */
};
/* Type filters with at most this many types are checked in the index. */
#define TYPE_PROBE_MAX	8
/* A range query walks the type index for at most this many types. */
#define TYPE_WALK_MAX	1024

int	 store_type_index(struct wctx *, const struct event *, int);
int	 store_type_open(struct store *, MDB_txn *);
int	 store_spans_open(struct store *, MDB_txn *);
int	 store_spans_scan(struct store *, MDB_txn *, uint64_t *, uint64_t *);
int	 store_index_open(struct store *, MDB_txn *, const char *,
	     int (*)(struct store *, MDB_txn *));
int	 store_records_each(struct store *, MDB_txn *,
	     int (*)(void *, const struct event *), void *);
int	 store_type_names(struct store *, MDB_txn *, const char *, size_t,
	     struct type_names *, struct aerr *);
void	 store_type_names_free(struct type_names *);
int	 store_type_has(struct store *, MDB_txn *, const struct type_names *,
	     const struct date_span *, uint64_t);

/* store-text.c */
int	 store_text_index(struct wctx *, const struct event *, int, int,
	     uint64_t);
int	 store_text_sweep(struct wctx *);
int	 store_text_flush(struct wctx *);
void	 store_text_discard(struct wctx *);
void	 store_text_write_begin(struct wctx *);
void	 store_text_write_end(struct wctx *);
int	 store_text_serial(struct wctx *);
void	 store_text_close(struct store *);
int	 store_text_open(struct store *, MDB_txn *);
int	 store_text_begin(struct store *, MDB_txn *, const struct query *,
	     struct text_iter **, struct aerr *);
int	 store_text_next(struct text_iter *, MDB_val *, MDB_val *,
	     struct aerr *);
int	 store_text_needs_record(const struct text_iter *);
int	 store_text_match(struct text_iter *, const char *, size_t,
	     const char *, size_t);
void	 store_text_end(struct text_iter *);
int	 store_text_sizes(struct store *, MDB_txn *, uint64_t *, uint64_t *);
struct text_check;
struct text_check *store_text_check_begin(struct store *, MDB_txn *,
	     struct store_check *);
void	 store_text_check_event(struct text_check *, const struct event *);
void	 store_text_check_end(struct text_check *, struct store *);

/* store-check.c */
void	 store_check_problem(struct store_check *, const char *, ...)
	     __attribute__((format(printf, 2, 3)));

/* store-dict.c */
int	 store_dict_apply(struct wctx *, struct store_op *);
int	 store_dict_prune(struct wctx *, uint64_t);
int	 store_dict_change(struct store *, MDB_txn *, const struct log_entry *,
	     struct store_change *);
int	 store_dict_check_change(struct store *, MDB_txn *, uint64_t,
	     const struct log_entry *);

/* store-attrs.c: the dictionary of attribute names */
#define ATTR_NAME_MAX	64		/* bytes of a name with an id */
#define ATTR_IDS_MAX	65536		/* ids of a store, never freed */
int	 store_attrs_load(struct store *, MDB_txn *);
void	 store_attrs_close(struct store *);
int	 store_attrs_pack(struct wctx *, const unsigned char *, size_t,
	     int);
uint32_t store_attrs_mark(const struct store *);
void	 store_attrs_rollback(struct store *, uint32_t);
void	 store_attrs_commit(struct store *);
int	 store_attrs_none(struct store *, MDB_txn *);
int	 store_rec_expand(struct store *, MDB_txn *, const void *, size_t,
	     msgpack_sbuffer *);
int	 store_rec_wire(struct store *, MDB_txn *, MDB_val *,
	     msgpack_sbuffer *);
int	 store_attrs_each_id(const void *, size_t, int (*)(void *, uint32_t),
	     void *);

#endif
