/*
 * The code daemon and client share: limits, the error vocabulary, the
 * method table, framing, fuzzy dates, the event record and queries.
 * Never installed; the public interface is client/annals.h.
 *
 * Errors inside proto/ are returned as -1 with the reason in a
 * caller-provided struct aerr: the innermost function states the fact
 * ("2015-02-30 is not a date"), each caller may add context with
 * aerr_prefix() ("start: 2015-02-30 is not a date").
 */
#ifndef ANNALS_PROTO_H
#define ANNALS_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "version.h"

/*
 * Where the daemon listens and the client connects when told nothing
 * else; client/annals.h repeats it as ANNALS_DEFAULT_SOCKET (t-client
 * checks that they agree).  One path for root and other users alike: a
 * per-user default ($XDG_RUNTIME_DIR) would make a CLI run under sudo
 * or by a service look elsewhere than the daemon it means.
 */
#define PROTO_DEFAULT_SOCKET	"/run/annals/annalsd.sock"

/* Limits; PROTOCOL.md gives the same numbers. */
#define PROTO_FRAME_HEADER	5		/* 0xce + uint32 big-endian */
#define PROTO_FRAME_PREFIX	0xce		/* msgpack's uint32 marker */
#define PROTO_MAX_FRAME		(16u << 20)	/* default, --max-frame */
#define PROTO_MAX_DEPTH		16		/* nesting of arrays/maps */
/* A record's level in a put frame: [0, msgid, "put", [{"records": [{}]}]] */
#define PROTO_RECORD_DEPTH	5
#define PROTO_MAX_BATCH		10000		/* records in one put */
#define PROTO_MAX_IDS		10000		/* ids in one get/delete */
#define PROTO_MAX_PAGE		10000		/* events in one page */
#define PROTO_DEFAULT_PAGE	1000

#define EVENT_MAX_ACTORS	64
#define EVENT_MAX_ACTOR		128		/* bytes of an actor code */
#define EVENT_MAX_ROLE		64
#define EVENT_MAX_SOURCE	200		/* source + key fit a key */
#define EVENT_MAX_KEY		256
#define EVENT_MAX_DATE		64		/* bytes of a date string */
#define EVENT_MAX_TYPE		64
#define EVENT_MAX_TAG		128
#define EVENT_MAX_LIST		256		/* urls, tags */
#define EVENT_MAX_TEXT		(1u << 20)	/* title, text, urls, ... */
#define EVENT_MAX_ATTRS		(1u << 20)	/* packed bytes of attrs */

/*
 * The error vocabulary: X(NAME, number, wire name, default message).
 * Numbers are stable and equal ANNALS_E* in client/annals.h.
 */
#define PROTO_ERRORS(X)							\
	X(INVALID,	  1, "invalid",		"invalid argument")	\
	X(NOT_FOUND,	  2, "not_found",	"not found")		\
	X(MALFORMED,	  3, "malformed",	"malformed request")	\
	X(UNKNOWN_METHOD, 4, "unknown_method",	"unknown method")	\
	X(LIMIT,	  5, "limit",		"limit exceeded")	\
	X(BAD_CURSOR,	  6, "bad_cursor",	"cursor does not fit this query") \
	X(DISK_FULL,	  7, "disk_full",	"no space left on device") \
	X(UNAVAILABLE,	  8, "unavailable",	"server is shutting down") \
	X(UNAUTHORIZED,	  9, "unauthorized",	"not authorized")	\
	X(INTERNAL,	 10, "internal",	"internal error")	\
	X(EXPIRED,	 11, "expired",	"change log no longer reaches back there") \
	X(CONFLICT,	 12, "conflict",	"the event changed since it was read") \
	X(READ_ONLY,	 13, "read_only",	"this server is a read replica") \
	X(IO,		 20, "io",		"connection error")	\
	X(PROTOCOL,	 21, "protocol",	"protocol error")	\
	X(NOMEM,	 22, "nomem",		"out of memory")

enum aerr_code {
	AERR_OK = 0,
#define AERR_ENUM(name, num, wire, text) AERR_##name = num,
	PROTO_ERRORS(AERR_ENUM)
#undef AERR_ENUM
};

struct aerr {
	int	code;
	char	msg[256];
};

/* proto/error.c */
void		 aerr_clear(struct aerr *);
void		 aerr_set(struct aerr *, int, const char *, ...)
		     __attribute__((format(printf, 3, 4)));
void		 aerr_prefix(struct aerr *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
const char	*aerr_name(int);
const char	*aerr_text(int);
int		 aerr_from_name(const char *, size_t);

/* proto/hash.c: FNV-1a, the same for the same bytes everywhere. */
#define HASH_FNV_INIT	0xcbf29ce484222325ULL
uint64_t	 hash_fnv(uint64_t, const void *, size_t);

/*
 * The methods: X(name).  The daemon's dispatch table and the client's
 * calls are both generated from this list.
 */
#define PROTO_METHODS(X)						\
	X(hello) X(ping) X(put) X(get) X(get_by_key) X(delete)		\
	X(range) X(actor) X(actors) X(stats) X(changes) X(subscribe)	\
	X(unsubscribe) X(check) X(backup) X(compact)			\
	X(histogram) X(top_actors) X(co_actors)				\
	X(dict_put) X(dict_get) X(dict_delete) X(dict_list)

/* Message types of msgpack-RPC. */
#define MSG_REQUEST	0
#define MSG_RESPONSE	1
#define MSG_NOTIFY	2

/* proto/frame.c */
void	 frame_header(unsigned char [PROTO_FRAME_HEADER], uint32_t);
int	 frame_peek(const unsigned char *, size_t, size_t, uint32_t *,
	     struct aerr *);
int	 frame_check(const unsigned char *, size_t, struct aerr *);
int	 frame_object(const unsigned char *, size_t, size_t *, struct aerr *);
int	 frame_object_at(const unsigned char *, size_t, int, size_t *,
	     struct aerr *);

/*
 * A request or response taken apart; every pointer is a view into the
 * unpacked frame and lives as long as it.
 */
struct msg {
	int			 type;		/* MSG_* */
	uint32_t		 msgid;
	const char		*method;	/* request, notification */
	size_t			 method_len;
	const msgpack_object	*params;	/* the map, or NULL */
	const msgpack_object	*error;		/* response: nil or map */
	const msgpack_object	*result;	/* response */
};

/* proto/msg.c */
int	 msg_parse(const msgpack_object *, struct msg *, struct aerr *);
uint32_t msg_peek_msgid(const unsigned char *, size_t);
void	 msg_pack_request(msgpack_packer *, uint32_t, const char *);
void	 msg_pack_response_ok(msgpack_packer *, uint32_t);
void	 msg_pack_response_error(msgpack_packer *, uint32_t, int,
	     const char *);
int	 msg_error(const msgpack_object *, struct aerr *);

/*
 * What a change did, one list for both sides: the kind of the daemon's
 * writes, the byte its change log stores (so changing a value changes
 * STORE_FORMAT), and ANNALS_CHANGE_* in annals.h (annals.c asserts they
 * are equal).  The wire carries the names, change_op_name() (msg.c).
 */
#define CHANGE_PUT	1
#define CHANGE_DELETE	2
#define CHANGE_DICT_PUT	3	/* the actor dictionary's, on request */
#define CHANGE_DICT_DELETE 4
int	 change_op_parse(const msgpack_object *);
const char *change_op_name(int);

/* proto/mp.c: reading typed values out of decoded msgpack maps. */
const msgpack_object *mp_get(const msgpack_object *, const char *);
int	 mp_key_is(const msgpack_object *, const char *);
int	 mp_str(const msgpack_object *, const char *, size_t, char **,
	     struct aerr *);
int	 mp_uint(const msgpack_object *, const char *, uint64_t *,
	     struct aerr *);
int	 mp_int(const msgpack_object *, const char *, int64_t *,
	     struct aerr *);
int	 mp_bool(const msgpack_object *, const char *, int *, struct aerr *);
int	 mp_double(const msgpack_object *, const char *, double *,
	     struct aerr *);
void	 mp_pack_str(msgpack_packer *, const char *);
void	 mp_pack_kv_str(msgpack_packer *, const char *, const char *);
void	 mp_pack_kv_uint(msgpack_packer *, const char *, uint64_t);
void	 mp_pack_kv_int(msgpack_packer *, const char *, int64_t);
int	 utf8_valid(const char *, size_t);
void	 utf8_trim(char *);
void	 mp_quote(const msgpack_object *, char *, size_t);

/*
 * Fuzzy dates (proto/date.c, model in proto/DATES.md).  Times are
 * seconds since 1970-01-01T00:00:00Z on the proleptic Gregorian calendar
 * with astronomical year numbering; bounds are inclusive.
 */
#define DATE_NEG_INF	INT64_MIN
#define DATE_POS_INF	INT64_MAX

#define DATE_PREC_NONE	0	/* open or unknown end only */
#define DATE_PREC_YEAR	1	/* year, decade (201X), unspecified month */
#define DATE_PREC_SEASON 2
#define DATE_PREC_MONTH	3
#define DATE_PREC_DAY	4
#define DATE_PREC_TIME	5

struct date_span {
	int64_t	lo, hi;		/* strict: what it covers at its word */
	int64_t	flo, fhi;	/* fuzzy: widened for ? ~ % and unknowns */
	int64_t	ilo, ihi;	/* surely covered; empty when ilo > ihi */
	int	prec;		/* DATE_PREC_*, the coarsest part */
};

int	 date_parse(const char *, size_t, struct date_span *, struct aerr *);
int	 date_event_span(const char *, const char *, struct date_span *,
	     struct aerr *);
int	 date_query_bounds(const char *, const char *, int64_t *, int64_t *,
	     struct aerr *);
int	 date_prec_parse(const char *, int *);
const char *date_prec_name(int);

/* Histogram buckets: "by" on the wire, ANNALS_BY_* in annals.h. */
#define DATE_BY_DAY	0
#define DATE_BY_WEEK	1		/* ISO weeks, from Monday */
#define DATE_BY_MONTH	2
#define DATE_BY_YEAR	3
int	 date_by_parse(const char *, int *);
const char *date_by_name(int);

#define DATE_MATCH_NONE		0
#define DATE_MATCH_POSSIBLE	1
#define DATE_MATCH_CERTAIN	2
int	 date_match(const struct date_span *, int64_t, int64_t);
int	 date_within(const struct date_span *, int64_t, int64_t);

int64_t	 date_days_from_civil(int64_t, unsigned, unsigned);
void	 date_civil_from_days(int64_t, int64_t *, unsigned *, unsigned *);
void	 date_format(int64_t, char *, size_t);

/* The event record (proto/record.c). */
struct actor {
	char	*name;
	char	*role;			/* NULL: no role */
};

struct place {
	char	*name;			/* NULL: none */
	char	*country;
	double	 lat, lon;
	int	 has_lat, has_lon;
};

struct event {
	uint64_t	 id;		/* 0: not assigned yet */
	uint64_t	 rev;
	uint64_t	 created;	/* ms since the epoch */
	uint64_t	 updated;
	char		*source;	/* NULL: none; with key */
	char		*key;
	char		*start;		/* EDTF text, as given */
	char		*end;		/* NULL: none */
	struct date_span span;		/* derived from start and end */
	struct actor	*actors;
	uint32_t	 nactors;
	char		*type;
	char		*title;
	char		*text;
	struct place	 place;
	char		**urls;
	uint32_t	 nurls;
	char		**tags;
	uint32_t	 ntags;
	unsigned char	*attrs;		/* a packed msgpack map, or NULL */
	size_t		 attrs_len;
};

/*
 * Field projection (proto/fields.c): a set of the record's keys as a
 * bitmask, bit i for the i-th key of PROTOCOL.md's table (id first,
 * attrs last).  id is always in a set: a projected record still says
 * which event it is.
 */
#define RECORD_NFIELDS		16
#define RECORD_FIELD(i)		((uint32_t)1 << (i))
#define RECORD_FIELDS_ALL	(RECORD_FIELD(RECORD_NFIELDS) - 1)
#define RECORD_FIELD_ID		RECORD_FIELD(0)
#define RECORD_FIELD_ATTRS	RECORD_FIELD(RECORD_NFIELDS - 1)
#define RECORD_FIELDS_MAX_LIST	256	/* bytes of "id,start,..." */

int	 record_field_index(const char *, size_t, int);
const char *record_field_name(int);
int	 fields_decode(const msgpack_object *, uint32_t *, struct aerr *);
int	 fields_parse(const char *, uint32_t *, struct aerr *);
void	 fields_pack(msgpack_packer *, uint32_t);
int	 fields_param(const msgpack_object *, uint32_t *, struct aerr *);
int	 fields_project(const void *, size_t, uint32_t, msgpack_sbuffer *);
void	 fields_write(msgpack_sbuffer *, const void *, size_t, uint32_t);

int	 record_decode(const msgpack_object *, struct event *, struct aerr *);
int	 record_decode_stored(const msgpack_object *, struct event *,
	     struct aerr *);
int	 record_validate(struct event *, struct aerr *);
void	 record_pack(msgpack_packer *, const struct event *);
void	 record_clear(struct event *);
int	 record_has_actor(const struct event *, const char *, size_t,
	     const char *);

/*
 * A record of a daemon reply, checked for shape only (record_view()):
 * every pointer is a view into the frame the record was unpacked from,
 * lives as long as it and is not NUL-terminated.
 */
struct record_str {
	const char	*ptr;			/* NULL: absent */
	size_t		 len;
};

struct record_view {
	uint64_t		 id, rev, created, updated;
	struct record_str	 source, key, start, end, type, title, text;
	struct record_str	 place_name, place_country;
	double			 lat, lon;
	int			 has_lat, has_lon;
	const msgpack_object	*urls;		/* nurls checked strs */
	uint32_t		 nurls;
	const msgpack_object	*tags;
	uint32_t		 ntags;
	const unsigned char	*attrs;		/* the packed map as sent */
	size_t			 attrs_len;
	const msgpack_object	*attrs_obj;	/* record_decode()'s */
	size_t			 str_bytes;	/* all strings, a NUL each */
	uint32_t		 nactors;
	/* Last: record_view() clears only what comes before. */
	struct {
		struct record_str name;
		struct record_str role;	/* ptr NULL: none */
	}			 actors[EVENT_MAX_ACTORS];
};

int	 record_view(const msgpack_object *, const unsigned char *, size_t,
	     struct record_view *, struct aerr *);
int	 record_view_fields(const msgpack_object *, const unsigned char *,
	     size_t, uint32_t, struct record_view *, struct aerr *);
void	 record_view_terminate(const struct record_view *, unsigned char *);

struct dict_entry;

/*
 * A range or actor query (proto/query.c).  Decoded from a request's
 * params by the daemon, packed into one by the client.
 */
#define QUERY_RANGE	0
#define QUERY_ACTOR	1

struct query {
	int		 kind;		/* QUERY_* */
	char		*from;		/* NULL: open */
	char		*to;
	int64_t		 qlo, qhi;	/* derived from from and to */
	char		*actor;		/* NULL: any (range only) */
	int		 actor_prefix;	/* "SYR*" */
	char		*role;
	char		*type;		/* a prefix */
	char		*tag;
	char		*source;
	char		*text;		/* words to find (PROTOCOL.md) */
	int		 min_prec;	/* DATE_PREC_* */
	int		 certain;	/* certain matches only */
	int		 within;	/* events wholly inside */
	int		 desc;
	uint32_t	 limit;		/* page size */
	uint32_t	 fields;	/* RECORD_FIELD() set; 0 or all: whole */
	int		 has_cursor;
	int64_t		 cur_start;	/* resume after (start, id) */
	uint64_t	 cur_id;
	int		 no_alias;	/* "alias": false, actor is a code */
	/*
	 * Set by query_set_alias() when actor names an alias: its codes,
	 * and the query's range within its strict interval (qlo, qhi are
	 * narrowed to its widened one).
	 */
	char		**codes;
	uint32_t	 ncodes;
	int64_t		 alo, ahi;
	int64_t		 olo, ohi;	/* qlo, qhi before the narrowing */
};

int	 query_decode(const msgpack_object *, int, struct query *,
	     struct aerr *);
void	 query_pack(msgpack_packer *, const struct query *,
	     const void *, size_t);
void	 query_clear(struct query *);
int	 query_matches(const struct query *, const struct event *, int *);
int	 query_set_alias(struct query *, const struct dict_entry *);
int	 query_alias_match(const struct query *, const struct date_span *,
	     int);
const char *query_alias_code(const struct query *, const msgpack_object *);
const char *query_via_code(const struct query *, const void *, size_t);
size_t	 query_cursor_encode(const struct query *, int64_t, uint64_t,
	     unsigned char *, size_t);
#define QUERY_CURSOR_LEN 25
#define QUERY_MAX_TEXT	1024		/* bytes of a text filter */

/*
 * The actor dictionary (proto/dict.c, PROTOCOL.md "The actor
 * dictionary"): a name for a code, or an alias that stands for one or
 * more codes during an EDTF interval.
 */
#define DICT_NAME		1
#define DICT_ALIAS		2
#define DICT_MAX_NAME		256		/* bytes of a name */
#define DICT_MAX_ALIAS		EVENT_MAX_ACTOR	/* an actor query names it */
#define DICT_MAX_CODES		64
#define DICT_MAX_ENTRIES	PROTO_MAX_BATCH	/* in one dict_put */

struct dict_entry {
	int		 kind;		/* DICT_* */
	char		*key;		/* the code, or the alias */
	char		*name;		/* DICT_NAME */
	int		 imported;	/* DICT_NAME: an importer's, from raw rows */
	char		**codes;	/* DICT_ALIAS: 1 to DICT_MAX_CODES */
	uint32_t	 ncodes;
	char		*during;	/* DICT_ALIAS: EDTF; NULL: always */
	int64_t		 lo, hi;	/* during's strict bounds */
	int64_t		 flo, fhi;	/* and its widened ones */
};

int	 dict_kind_parse(const char *, size_t);
const char *dict_kind_name(int);
const char *dict_key_field(int);
int	 dict_check_key(int, const char *, size_t, struct aerr *);
int	 dict_check_name(const char *, size_t, struct aerr *);
int	 dict_during(const char *, struct dict_entry *, struct aerr *);
int	 dict_decode(const msgpack_object *, struct dict_entry *,
	     struct aerr *);
int	 dict_decode_key(const msgpack_object *, struct dict_entry *,
	     struct aerr *);
void	 dict_pack(msgpack_packer *, const struct dict_entry *);
void	 dict_pack_key(msgpack_packer *, int, const char *, size_t);
void	 dict_clear(struct dict_entry *);

#endif
