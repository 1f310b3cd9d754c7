/*
 * libannals: the client library of the Annals timeline database.
 *
 * This header is the reference manual of the library.  A program opens a
 * context with annals_connect(), makes calls on it and closes it with
 * annals_free().  Every call blocks until the daemon has answered.
 *
 * Return values
 *	Calls return 0 on success and -1 on failure, or a pointer that is
 *	NULL on failure.  The reason of the last failure is kept on the
 *	context: annals_errcode() gives one of the ANNALS_E* codes below,
 *	annals_errmsg() a message naming what failed and the value at fault.
 *	The query setters, which have no context, return the code itself.
 *
 *	Errors reported by the daemon (ANNALS_EINVALID ... ANNALS_EINTERNAL)
 *	concern one call: the context stays usable and the next call clears
 *	them.  Errors of the connection (ANNALS_EIO, ANNALS_EPROTOCOL) are
 *	sticky: the context is broken, every later call fails at once with
 *	the same error, and the only thing left to do is annals_free().
 *	ANNALS_ENOMEM is sticky when it happened half-way through a call.
 *
 * Ownership
 *	Whatever a call returns to you, you free with the matching call:
 *	annals_connect() / annals_free(), annals_get() / annals_event_free(),
 *	annals_query_new() / annals_query_free(), annals_range() /
 *	annals_iter_free(), annals_call() / annals_buf_free().  The library
 *	never frees anything of yours on its own, and every *_free(NULL) does
 *	nothing.  Pointers you pass in are only read during the call unless
 *	a call says otherwise; strings are copied when they are kept.
 *
 * Caveats
 *	- A context is not thread-safe.  Use one context per thread, or
 *	  serialize every call on a context, including its iterators.
 *	- All I/O is blocking.  annals_set_timeout() bounds each wait; a
 *	  timeout breaks the context (ANNALS_EIO) because the answer may
 *	  still arrive and the stream can no longer be trusted.
 *	- The library never touches signal state: it writes with
 *	  MSG_NOSIGNAL, so a vanished daemon is an ANNALS_EIO error, never a
 *	  SIGPIPE.  It never prints, exits or aborts.
 *	- A system call interrupted by a signal is restarted, including the
 *	  wait for an answer.
 *	- An iterator uses its context for every page it fetches: the
 *	  context must outlive it, and other calls made on the context
 *	  between annals_iter_next() calls are allowed.
 *	- After fork(), only one of the processes may go on using a
 *	  context; the other should annals_free() it (which closes its copy
 *	  of the socket and sends nothing).
 */
#ifndef ANNALS_H
#define ANNALS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The release of this header and of the wire protocol it speaks.  They
 * are proto/version.h's, repeated so that this installed header stands
 * alone; every file of libannals includes both, so a value that differs
 * fails the build ("redefined", with -Werror).
 */
#define ANNALS_VERSION_MAJOR 0
#define ANNALS_VERSION_MINOR 1
#define ANNALS_VERSION_PATCH 0
#define ANNALS_VERSION_STRING "0.1.0"
#define ANNALS_PROTO_VERSION 1

#if defined(__GNUC__) || defined(__clang__)
#define ANNALS_API __attribute__((visibility("default")))
#else
#define ANNALS_API
#endif

/* Where annals_connect(NULL) goes when $ANNALS_SOCKET is not set. */
#define ANNALS_DEFAULT_SOCKET "/run/annals/annalsd.sock"

/*
 * Error codes.  The numbers are stable; 1-10 come from the daemon (their
 * wire names are in PROTOCOL.md), 20-22 arise in the library.
 */
#define ANNALS_OK		0
#define ANNALS_EINVALID		1	/* bad argument or record */
#define ANNALS_ENOTFOUND	2	/* no such event */
#define ANNALS_EMALFORMED	3	/* the daemon could not parse a request */
#define ANNALS_EUNKNOWNMETHOD	4	/* the daemon has no such method */
#define ANNALS_ELIMIT		5	/* a limit was exceeded */
#define ANNALS_EBADCURSOR	6	/* cursor does not fit the query */
#define ANNALS_EDISKFULL	7	/* the store is full; nothing written */
#define ANNALS_EUNAVAILABLE	8	/* the daemon is shutting down */
#define ANNALS_EUNAUTHORIZED	9	/* token missing or wrong */
#define ANNALS_EINTERNAL	10	/* daemon bug or storage failure */
#define ANNALS_EEXPIRED		11	/* change log no longer reaches back to that seq */
#define ANNALS_ECONFLICT	12	/* the event changed since it was read */
#define ANNALS_EREADONLY	13	/* a read replica: write to its primary */
#define ANNALS_EIO		20	/* connect, read, write, timeout; sticky */
#define ANNALS_EPROTOCOL	21	/* the daemon's answer made no sense; sticky */
#define ANNALS_ENOMEM		22	/* out of memory */

/* Precision of a date, coarsest first; see annals_query_set_precision(). */
#define ANNALS_PREC_NONE	0
#define ANNALS_PREC_YEAR	1
#define ANNALS_PREC_SEASON	2
#define ANNALS_PREC_MONTH	3
#define ANNALS_PREC_DAY		4
#define ANNALS_PREC_TIME	5

/* How an event returned by a range or actor query matched it. */
#define ANNALS_MATCH_POSSIBLE	1
#define ANNALS_MATCH_CERTAIN	2

/* What a put did with one record. */
#define ANNALS_ADDED		1
#define ANNALS_UPDATED		2
#define ANNALS_UNCHANGED	3

/* How many put batches annals_put_append() may have in flight. */
#define ANNALS_MAX_PENDING	16

/* Opaque handles. */
typedef struct annals_ctx annals_ctx;
typedef struct annals_iter annals_iter;
typedef struct annals_query annals_query;

/* One actor of an event; role is NULL when it has none. */
struct annals_actor {
	const char	*name;
	const char	*role;
};

/*
 * An event.  This is a plain value struct: its layout is part of the ABI
 * and only changes with the library's major version.  Programs allocate
 * events themselves (the arrays given to annals_put()), so no member is
 * added to it meanwhile: what a query says of a hit besides its match
 * comes from the iterator (annals_iter_via()).
 *
 * Events returned by the library are views: every pointer points into
 * memory the library owns, valid as long as the event is (see the call
 * that returned it).  Their strings and attrs are where the daemon's
 * reply brought them, made C strings in place: an event from
 * annals_get() keeps its reply until annals_event_free(), one from an
 * iterator or a change callback points into a page the library frees
 * when it says so.  Copy what you keep longer.  The records of a reply
 * that passed the frame check are checked for shape (types, lengths,
 * counts, limits) but trusted for what annalsd checked when it stored
 * them (UTF-8, dates, attrs), so nothing is re-validated or re-packed.  Events you pass to annals_put() are only read
 * during the call.  A string that is absent is NULL; a list that is
 * absent has a count of 0 (and may be NULL).
 *
 * Fields.  The calls that fetch events (annals_get_fields(),
 * annals_query_set_fields(), annals_changes_fields()) can ask for some
 * keys only, named as in PROTOCOL.md by a comma list such as
 * "id,start,title" (NULL or "" for whole events).  The id always comes
 * back; a key that was not asked for is absent as above, with rev,
 * created and updated 0 and start NULL, however the event is stored.
 */
struct annals_event {
	uint64_t			 id;	/* 0: not stored yet */
	uint64_t			 rev;	/* set by the daemon */
	uint64_t			 created; /* ms since the epoch */
	uint64_t			 updated;
	const char			*source; /* with key, or neither */
	const char			*key;
	const char			*start;	/* required; see DATES.md */
	const char			*end;
	const struct annals_actor	*actors; /* 1..64 of them */
	size_t				 nactors;
	const char			*type;
	const char			*title;
	const char			*text;
	const char			*place_name;
	const char			*place_country;
	double				 lat;	/* when has_lat */
	double				 lon;	/* when has_lon */
	int				 has_lat;
	int				 has_lon;
	const char *const		*urls;
	size_t				 nurls;
	const char *const		*tags;
	size_t				 ntags;
	const void			*attrs;	/* a packed msgpack map */
	size_t				 attrs_len; /* 0: no attrs */
	int				 match;	/* ANNALS_MATCH_*, or 0 */
};

/* The outcome of putting one record. */
struct annals_put_result {
	uint64_t	id;
	uint64_t	rev;
	int		status;		/* ANNALS_ADDED, _UPDATED, _UNCHANGED */
};

/* What the daemon says about itself in hello; a value struct. */
struct annals_server {
	char		name[32];	/* "annalsd" */
	char		version[32];	/* "0.1.0" */
	uint32_t	protocol;	/* ANNALS_PROTO_VERSION */
	uint32_t	max_frame;	/* bytes in one message */
	uint32_t	max_batch;	/* records in one put */
	uint32_t	max_page;	/* events in one page */
};

/* The daemon's statistics; a value struct. */
struct annals_stats {
	uint64_t	events;
	uint64_t	actors;		/* distinct actor names */
	uint64_t	db_bytes;	/* data in use */
	uint64_t	map_bytes;	/* size of the memory map */
	uint64_t	uptime;		/* seconds */
	uint64_t	connections;	/* open now */
	uint32_t	protocol;
	char		version[32];
};

/*
 * Connect to a daemon.
 *
 * address is a Unix socket path when it contains a '/' or no ':', else
 * "host:port" for TCP ("[::1]:7000" for an IPv6 literal).  NULL means
 * $ANNALS_SOCKET, or ANNALS_DEFAULT_SOCKET when that is unset or empty.
 * When $ANNALS_TOKEN is set and not empty, it is sent at once in a hello
 * (for a daemon started with --auth-file); if the daemon refuses it the
 * context is returned connected with ANNALS_EUNAUTHORIZED as its error.
 * Otherwise nothing is sent: the first call is the first request.
 *
 * Returns a new context, to be freed with annals_free() whether or not
 * the connection succeeded.  When it failed, annals_errcode() is
 * ANNALS_EIO (broken for good) and annals_errmsg() says which call
 * failed where, e.g. "connect /run/annals/annalsd.sock: No such file or
 * directory".  Returns NULL only when no memory was left for the context.
 */
ANNALS_API annals_ctx	*annals_connect(const char *address);

/* Close the connection and free the context.  NULL does nothing. */
ANNALS_API void		 annals_free(annals_ctx *ctx);

/* The ANNALS_E* code of the last failure on ctx, or 0. */
ANNALS_API int		 annals_errcode(const annals_ctx *ctx);

/*
 * The message of the last failure on ctx, or "" when there was none.
 * Never NULL.  Valid until the next call on ctx or annals_free().
 */
ANNALS_API const char	*annals_errmsg(const annals_ctx *ctx);

/*
 * A static description of an error code, e.g. "not found"; "unknown
 * error" for a code this library does not know.  Never NULL.
 */
ANNALS_API const char	*annals_strerror(int code);

/*
 * Bound every later wait on ctx (sending, waiting for an answer) to ms
 * milliseconds; 0 or less waits forever, which is the default.  The
 * connection itself is made by annals_connect(), before any timeout.  When a wait times out the call fails with ANNALS_EIO
 * and the context is broken.  Returns 0, or -1 when ctx is already
 * broken.
 */
ANNALS_API int		 annals_set_timeout(annals_ctx *ctx, int ms);

/*
 * Introduce ourselves and learn the daemon's version and limits.
 *
 * client is a name for the daemon's log and token the shared secret of
 * a daemon started with one; both may be NULL.  out, if not NULL, is
 * filled in.  The limits learnt are used by later calls on ctx to refuse
 * requests the daemon would refuse.
 *
 * Errors: ANNALS_EUNAUTHORIZED; ANNALS_EPROTOCOL when the daemon speaks
 * another protocol version (out is still filled in, the context is
 * broken); ANNALS_EIO.
 */
ANNALS_API int		 annals_hello(annals_ctx *ctx, const char *client,
			    const char *token, struct annals_server *out);

/* Check that the daemon answers.  Errors: ANNALS_EIO, ANNALS_EPROTOCOL. */
ANNALS_API int		 annals_ping(annals_ctx *ctx);

/*
 * Add or replace n events (1 to the daemon's max_batch, 10000 by
 * default) atomically: either all are stored or none is.
 *
 * An event with an id replaces that event; one with source and key
 * replaces the event with that source and key if there is one; any other
 * is added.  rev, created, updated and match are ignored.  results, if
 * not NULL, must have room for n entries and receives one per event in
 * order.  The call returns after the daemon has written the batch to
 * disk.
 *
 * Errors: ANNALS_EINVALID (the message starts "records[i]: " with the
 * index of the first bad event; also n of 0 or over 10000),
 * ANNALS_ENOTFOUND (an id that does not exist), ANNALS_ELIMIT (a batch
 * larger than a message may be), ANNALS_EDISKFULL, ANNALS_EIO,
 * ANNALS_EPROTOCOL,
 * ANNALS_ENOMEM.
 */
ANNALS_API int		 annals_put(annals_ctx *ctx,
			    const struct annals_event *events, size_t n,
			    struct annals_put_result *results);

/*
 * annals_put() on a condition, for read-modify-write: each event's rev
 * is the rev the stored event must still have, or 0 for one that must
 * not exist yet (named by source and key).  If any event's rev moved,
 * nothing is written and the call fails with ANNALS_ECONFLICT, whose
 * message names the event and its rev now: read it again and redo the
 * change.  A rev other than 0 on an event with neither id nor source
 * and key is ANNALS_EINVALID.
 *
 * Errors: those of annals_put(), and ANNALS_ECONFLICT.
 */
ANNALS_API int		 annals_put_checked(annals_ctx *ctx,
			    const struct annals_event *events, size_t n,
			    struct annals_put_result *results);

/*
 * Pipelined puts, for imports: annals_put_append() sends a batch like
 * annals_put() but returns without waiting for its results;
 * annals_put_wait() waits for the results of the oldest batch still
 * pending.  Batches are answered in the order they were appended.
 *
 * At most ANNALS_MAX_PENDING batches may be pending: one more is
 * refused with ANNALS_ELIMIT.  While batches are pending, any other
 * call on ctx fails with ANNALS_EINVALID.  A batch rejected by the
 * daemon makes its annals_put_wait() fail (with the errors of
 * annals_put()); the batches after it are unaffected and are collected
 * by the next annals_put_wait() calls.  results, if not NULL, must have
 * room for as many entries as the batch had events; *n, if n is not
 * NULL, is set to that count whether or not the batch succeeded.
 *
 * annals_put_append() errors: ANNALS_ELIMIT, ANNALS_EINVALID (n is 0),
 * ANNALS_EIO, ANNALS_ENOMEM.  annals_put_wait() errors: those of
 * annals_put(), and ANNALS_EINVALID when no batch is pending.
 */
ANNALS_API int		 annals_put_append(annals_ctx *ctx,
			    const struct annals_event *events, size_t n);
ANNALS_API int		 annals_put_wait(annals_ctx *ctx,
			    struct annals_put_result *results, size_t *n);
/* The number of batches appended and not yet waited for. */
ANNALS_API size_t	 annals_put_pending(const annals_ctx *ctx);

/*
 * Fetch one event by id.  On success *out is a new event owned by the
 * caller, to be freed with annals_event_free(); its pointers live as long
 * as it.  On failure *out is NULL.
 *
 * Errors: ANNALS_ENOTFOUND, ANNALS_EIO, ANNALS_EPROTOCOL, ANNALS_ENOMEM.
 */
ANNALS_API int		 annals_get(annals_ctx *ctx, uint64_t id,
			    struct annals_event **out);

/*
 * annals_get() with only the keys in fields (see Fields above), e.g.
 * "id,start,title"; NULL or "" is annals_get().  Errors: as
 * annals_get(); ANNALS_EINVALID for an unknown or repeated key, with
 * the message naming it ("fields[1]: unknown field \"titel\"").
 */
ANNALS_API int		 annals_get_fields(annals_ctx *ctx, uint64_t id,
			    const char *fields, struct annals_event **out);

/* The same by source and key.  Errors: as annals_get(), ANNALS_EINVALID. */
ANNALS_API int		 annals_get_by_key(annals_ctx *ctx,
			    const char *source, const char *key,
			    struct annals_event **out);

/* Free an event from annals_get() or annals_get_by_key().  NULL: no-op. */
ANNALS_API void		 annals_event_free(struct annals_event *ev);

/*
 * Delete n events (1 to 10000).  deleted, if not NULL, has room for n
 * ints and receives 1 for each id that existed and 0 for each that did
 * not; an id that did not exist is not an error.
 *
 * Errors: ANNALS_EINVALID (also n of 0 or over 10000), ANNALS_EDISKFULL,
 * ANNALS_EIO, ANNALS_EPROTOCOL, ANNALS_ENOMEM.
 */
ANNALS_API int		 annals_delete(annals_ctx *ctx, const uint64_t *ids,
			    size_t n, int *deleted);

/*
 * Queries.  A query is built with annals_query_new() and the setters,
 * then run with annals_range() or annals_actor(); it may be run any
 * number of times and freed at any time after, iterators keep their own
 * copy.  Setters copy their strings; NULL clears a setting.  They return
 * 0, ANNALS_EINVALID for a value out of range, or ANNALS_ENOMEM.
 *
 * A new query is a range query over all time, ascending, of every event,
 * fetched in pages of 1000.
 */
ANNALS_API annals_query	*annals_query_new(void);
ANNALS_API void		 annals_query_free(annals_query *q);

/* Events overlapping [from, to]; dates as in DATES.md, NULL for open. */
ANNALS_API int		 annals_query_set_range(annals_query *q,
			    const char *from, const char *to);
/*
 * Only events with this actor, in this role if role is not NULL.  A code
 * ending in '*' is a prefix: "SYR*".
 */
ANNALS_API int		 annals_query_set_actor(annals_query *q,
			    const char *code, const char *role);
/* Only events whose type starts with prefix. */
ANNALS_API int		 annals_query_set_type(annals_query *q,
			    const char *prefix);
ANNALS_API int		 annals_query_set_tag(annals_query *q,
			    const char *tag);
ANNALS_API int		 annals_query_set_source(annals_query *q,
			    const char *source);
/*
 * Only events whose title or text holds every word of text: a word
 * ending in '*' is a prefix, words in double quotes a phrase (the rules
 * are in PROTOCOL.md, "Text search").
 */
ANNALS_API int		 annals_query_set_text(annals_query *q,
			    const char *text);
/* Only events dated at least this precisely; ANNALS_PREC_NONE: all. */
ANNALS_API int		 annals_query_set_precision(annals_query *q,
			    int prec);
/* Only certain matches (on != 0). */
ANNALS_API int		 annals_query_set_certain(annals_query *q, int on);
/* Only events lying wholly inside the range (on != 0). */
ANNALS_API int		 annals_query_set_within(annals_query *q, int on);
/* Newest first (on != 0). */
ANNALS_API int		 annals_query_set_desc(annals_query *q, int on);
/*
 * Events fetched per request, 1 to 10000.  This changes only how often
 * the iterator goes back to the daemon, never what it returns.
 */
ANNALS_API int		 annals_query_set_page_size(annals_query *q,
			    uint32_t n);
/*
 * Fetch only the keys in fields for each event, e.g. "id,start,title"
 * (see Fields above; NULL or "": whole events, the default).  This
 * changes what of each event comes back, never which events.  Returns
 * ANNALS_EINVALID for an unknown or repeated key, and then leaves q as
 * it was.
 */
ANNALS_API int		 annals_query_set_fields(annals_query *q,
			    const char *fields);

/*
 * Run a query: annals_range() as a range query, annals_actor() as an
 * actor query, which needs annals_query_set_actor().  The first page is
 * fetched before the call returns, so errors in the query are reported
 * here.
 *
 * Returns a new iterator, to be freed with annals_iter_free(), or NULL
 * with the error on ctx: ANNALS_EINVALID (a bad date, no actor for
 * annals_actor()), ANNALS_ELIMIT, ANNALS_EIO, ANNALS_EPROTOCOL,
 * ANNALS_ENOMEM.  The iterator uses ctx, which must outlive it.
 */
ANNALS_API annals_iter	*annals_range(annals_ctx *ctx, const annals_query *q);
ANNALS_API annals_iter	*annals_actor(annals_ctx *ctx, const annals_query *q);

/*
 * The next event, fetching the next page from the daemon when the
 * current one is used up; NULL at the end or on an error, which
 * annals_iter_error() tells apart.  The event's match is set.  The event
 * and everything it points to are owned by the iterator and valid until
 * the next call to annals_iter_next() or annals_iter_free().
 */
ANNALS_API const struct annals_event *annals_iter_next(annals_iter *it);

/*
 * How a hit of a query by an alias was found (PROTOCOL.md, "Aliases in
 * queries"): the alias, and the first of its codes (in the alias's
 * order) that the event has.  The library hands these out by pointer
 * only, so members are only ever appended to it.
 */
struct annals_via {
	const char	*alias;		/* the query's actor */
	const char	*code;		/* NULL: the daemon named none */
};

/*
 * The via of the event annals_iter_next() returned last, or NULL when it
 * has none: the query's actor was a code or a prefix rather than an
 * alias (or the daemon predates aliases), or annals_iter_next() has not
 * returned an event yet or last returned NULL.
 * Like the event, it is owned by the iterator and valid until the next
 * call to annals_iter_next() or annals_iter_free(); its strings are
 * views into the page, as the event's are.
 */
ANNALS_API const struct annals_via *annals_iter_via(const annals_iter *it);

/*
 * 0 while the iterator is fine or has reached the end, else the
 * ANNALS_E* code that stopped it (ANNALS_EBADCURSOR, ANNALS_EIO, ...);
 * the message is annals_errmsg() of its context.
 */
ANNALS_API int		 annals_iter_error(const annals_iter *it);

/* Free an iterator.  NULL does nothing. */
ANNALS_API void		 annals_iter_free(annals_iter *it);

/*
 * Call fn for every actor name in the store starting with prefix (NULL
 * or "" for all), in bytewise order, with its number of events; pages
 * are fetched as needed.  name is valid during the callback only.  fn
 * must not make calls on ctx; it returns 0 to go on, anything else to
 * stop, which makes annals_actors() return 0.
 *
 * Errors: ANNALS_EINVALID, ANNALS_EIO, ANNALS_EPROTOCOL, ANNALS_ENOMEM.
 */
ANNALS_API int		 annals_actors(annals_ctx *ctx, const char *prefix,
			    int (*fn)(const char *name, uint64_t count,
			    void *arg), void *arg);
/*
 * As annals_actors(), with each actor's label: the name the actor
 * dictionary shows it with (a user's name, else the one composed from
 * the CAMEO tables, such as "Syria: government" for SYRGOV), or NULL
 * when it has none (or the daemon predates the dictionary).  label is
 * valid during the callback only.
 *
 * Errors: as annals_actors().
 */
ANNALS_API int		 annals_actors_labeled(annals_ctx *ctx,
			    const char *prefix, int (*fn)(const char *name,
			    uint64_t count, const char *label, void *arg),
			    void *arg);

/*
 * The actor dictionary (PROTOCOL.md, "The actor dictionary"): names for
 * actor codes, which win over the names composed from the CAMEO tables,
 * and aliases that stand for one or more codes during an interval, so
 * that a query by the alias finds the events of its codes within it.
 * An entry is a name or an alias; kind and key alone name one (to
 * delete it).
 */
#define ANNALS_DICT_NAME	1
#define ANNALS_DICT_ALIAS	2

struct annals_dict_entry {
	int			 kind;		/* ANNALS_DICT_* */
	const char		*key;		/* the code, or the alias */
	const char		*name;		/* a name: the code's name */
	const char *const	*codes;		/* an alias: 1 to 64 codes */
	size_t			 ncodes;
	const char		*during;	/* an alias: a date or EDTF
						   interval; NULL: always */
	int			 imported;	/* a name: an importer's, from
						   raw rows; shown only where
						   CAMEO composes none */
};

/* What annals_dict_put() did with an entry, besides ANNALS_ADDED ... */
#define ANNALS_KEPT		4	/* only_new, and there was one */

/*
 * Put n entries (1 to 10000), all or none: each replaces the entry with
 * its kind and key, or with only_new leaves an existing one as it is.
 * When statuses is not NULL, statuses[i] gets ANNALS_ADDED,
 * ANNALS_UPDATED, ANNALS_UNCHANGED or ANNALS_KEPT.  Returns once the
 * daemon has the entries on disk.
 *
 * Errors: ANNALS_EINVALID ("entries[1]: during: 2015-02-30 is not a
 * date"), ANNALS_EUNAUTHORIZED, ANNALS_EDISKFULL, ANNALS_EIO, ...
 */
ANNALS_API int		 annals_dict_put(annals_ctx *ctx,
			    const struct annals_dict_entry *entries,
			    size_t n, int only_new, int *statuses);

/*
 * Delete the n entries named by the kind and key of keys[] (1 to
 * 10000); when deleted is not NULL, deleted[i] is 1 if keys[i] was
 * there.  Errors: as annals_dict_put().
 */
ANNALS_API int		 annals_dict_delete(annals_ctx *ctx,
			    const struct annals_dict_entry *keys, size_t n,
			    int *deleted);

/* How the dictionary shows a code (annals_actor_info()). */
struct annals_actor_info {
	const char			*code;
	const char			*label;	/* NULL: none */
	const char			*label_from; /* "user", "cameo",
							"import", "none" */
	const char			*cameo;	/* CAMEO's name, or NULL */
	const struct annals_dict_entry	*aliases; /* those with the code */
	size_t				 naliases;
	const char			*imported; /* an importer's name, even
						      where CAMEO's wins, or
						      NULL (a user's name, or
						      none, or an old daemon) */
};

/*
 * Call fn once with how the dictionary shows code: its label (a user's
 * name, else CAMEO's, else an importer's), CAMEO's name, the importer's
 * name, and the aliases standing for it.
 * Everything fn is given is valid during the call only; fn must not
 * make calls on ctx.  Errors: ANNALS_EINVALID, ANNALS_EIO, ...
 */
ANNALS_API int		 annals_actor_info(annals_ctx *ctx, const char *code,
			    void (*fn)(const struct annals_actor_info *info,
			    void *arg), void *arg);

/*
 * Call fn for the entries of one kind whose keys start with prefix
 * (NULL: all), by key; for aliases, only those with code among their
 * codes when code is not NULL.  Pages are fetched as needed.  Each entry
 * is valid during its call only; fn must not make calls on ctx and
 * returns 0 to go on, anything else to stop (annals_dict_list() then
 * returns 0).  To get one alias, list with it as the prefix and compare
 * the keys.  Errors: ANNALS_EINVALID, ANNALS_EIO, ...
 */
ANNALS_API int		 annals_dict_list(annals_ctx *ctx, int kind,
			    const char *prefix, const char *code,
			    int (*fn)(const struct annals_dict_entry *entry,
			    void *arg), void *arg);

/* Fill out with the daemon's statistics.  Errors: ANNALS_EIO, ... */
ANNALS_API int		 annals_stats(annals_ctx *ctx,
			    struct annals_stats *out);

/*
 * Make any call, for tools and for methods newer than this library.
 *
 * params is a packed msgpack map of the parameters (params_len bytes),
 * or NULL for none.  On success *result is a new buffer holding the
 * packed msgpack result, *result_len bytes, owned by the caller and
 * freed with annals_buf_free().  On failure *result is NULL.
 *
 * Errors: whatever the method returns, ANNALS_EINVALID (params is not a
 * single msgpack map), ANNALS_ELIMIT, ANNALS_EIO, ANNALS_EPROTOCOL,
 * ANNALS_ENOMEM.
 */
ANNALS_API int		 annals_call(annals_ctx *ctx, const char *method,
			    const void *params, size_t params_len,
			    void **result, size_t *result_len);

/* Free a buffer returned by annals_call().  NULL does nothing. */
ANNALS_API void		 annals_buf_free(void *buf);

/*
 * The change feed.  Every put and delete gets a sequence number; the
 * daemon keeps the latest change of each event (a compacted log), so
 * the changes after 0 replayed in order give the database as it is.
 */

/* What a change did. */
#define ANNALS_CHANGE_PUT	1
#define ANNALS_CHANGE_DELETE	2

/*
 * One change: for a put, event is the record as it is now (its id is
 * id); for a delete it is NULL.  A view valid during the callback only.
 */
struct annals_change {
	uint64_t			 seq;
	int				 op;	/* ANNALS_CHANGE_* */
	uint64_t			 id;
	const struct annals_event	*event;
};

/* Where a page of changes leaves the reader; a value struct. */
struct annals_feed {
	uint64_t	next;		/* the since that continues after it */
	uint64_t	last_seq;	/* the newest change in the log */
	int		more;		/* more changes are waiting already */
};

/*
 * Read one page of changes: those with a sequence number above since,
 * at most limit (1 to 10000; 0 means 1000) of them, oldest first.  fn
 * is called for each, with arg; it must not make calls on ctx and
 * returns 0 to go on or anything else to skip the rest of the page.
 * feed, if not NULL, receives where the page ended: pass feed->next as
 * since to read on (after a stop, the last change fn was given), and
 * feed->more says whether to do so at once.
 *
 * Errors: ANNALS_EEXPIRED (since is older than the oldest deletion the
 * log still remembers: start again from an export), ANNALS_EINVALID
 * (a limit over 10000, a since past the last change: start again from
 * an export too), ANNALS_EUNKNOWNMETHOD (a daemon without a change
 * feed), ANNALS_EIO, ANNALS_EPROTOCOL, ANNALS_ENOMEM.
 */
ANNALS_API int		 annals_changes(annals_ctx *ctx, uint64_t since,
			    uint32_t limit, int (*fn)(
			    const struct annals_change *ch, void *arg),
			    void *arg, struct annals_feed *feed);
/*
 * annals_changes() with only the keys in fields of each put's event
 * (see Fields above; NULL or "": whole events).  Errors: as
 * annals_changes(), ANNALS_EINVALID also for an unknown or repeated
 * key.  Notifications of a subscription always carry whole events.
 */
ANNALS_API int		 annals_changes_fields(annals_ctx *ctx,
			    uint64_t since, uint32_t limit,
			    const char *fields, int (*fn)(
			    const struct annals_change *ch, void *arg),
			    void *arg, struct annals_feed *feed);

/*
 * Subscribe ctx to the changes after since.  The daemon then sends the
 * backlog and, after every commit, the new changes, as notifications
 * that annals_notification_next() hands out.  Other calls keep working
 * on a subscribed context: notifications that arrive while a call waits
 * for its answer are kept for annals_notification_next().  *next, if
 * next is not NULL, is set to since.  A context subscribes once
 * (ANNALS_EINVALID for a second call before annals_unsubscribe()), and
 * since may not be past the daemon's last change (ANNALS_EINVALID).
 *
 * Errors: ANNALS_EUNKNOWNMETHOD, ANNALS_EINVALID, ANNALS_EIO,
 * ANNALS_EPROTOCOL.
 */
ANNALS_API int		 annals_subscribe(annals_ctx *ctx, uint64_t since,
			    uint64_t *next);

/*
 * Wait up to timeout_ms milliseconds (less than 0: for ever, 0: only
 * what has arrived) for the next page of changes of a subscription, and
 * call fn for each of its changes as annals_changes() does, filling in
 * feed.  Returns 1 when a page was handled, 0 when none came in time,
 * -1 on an error.  A time-out does not break the context; a signal does
 * not end the wait.
 *
 * Errors: ANNALS_EINVALID (ctx is not subscribed, or puts are pending),
 * ANNALS_EEXPIRED (the subscription fell behind the log's horizon; the
 * daemon closes the connection), ANNALS_EIO, ANNALS_EPROTOCOL,
 * ANNALS_ENOMEM.
 */
ANNALS_API int		 annals_notification_next(annals_ctx *ctx,
			    int timeout_ms, int (*fn)(
			    const struct annals_change *ch, void *arg),
			    void *arg, struct annals_feed *feed);

/*
 * End the subscription.  Notifications not yet handed out are dropped.
 * Errors: ANNALS_EIO, ANNALS_EPROTOCOL.
 */
ANNALS_API int		 annals_unsubscribe(annals_ctx *ctx);

/*
 * Aggregations, counted by the daemon without sending the events.  Each
 * takes the filters of a query (its range, actor, role, type, tag,
 * source, precision, certain and within; the order and page size are
 * ignored) and returns a new result owned by the caller, freed with the
 * matching *_free(); NULL on failure.
 */

/* Buckets of annals_histogram(). */
#define ANNALS_BY_DAY		0
#define ANNALS_BY_WEEK		1	/* ISO weeks, Monday to Sunday */
#define ANNALS_BY_MONTH		2
#define ANNALS_BY_YEAR		3

/* How annals_histogram() counts an event that spans buckets. */
#define ANNALS_COUNT_OVERLAP	0	/* in every bucket it overlaps */
#define ANNALS_COUNT_START	1	/* in the bucket of its start only */

/* One bucket: its name ("2015-01", "2015-W05", ...) and its count. */
struct annals_bucket {
	const char	*start;
	int64_t		 time;		/* first instant, ms since the epoch */
	uint64_t	 count;
};

struct annals_histogram {
	struct annals_bucket	*buckets;
	size_t			 nbuckets;
	uint64_t		 total;	/* distinct events counted */
};

/*
 * Count the events of q per bucket of by (ANNALS_BY_*) from the bucket
 * holding q's from to the one holding its to, both of which must be
 * set; mode is ANNALS_COUNT_*.  PROTOCOL.md says exactly what counts.
 *
 * Errors: ANNALS_EINVALID (no range, a bad by or mode), ANNALS_ELIMIT
 * (more than 100000 buckets), ANNALS_EIO, ANNALS_EPROTOCOL,
 * ANNALS_ENOMEM.
 */
ANNALS_API int		 annals_histogram(annals_ctx *ctx,
			    const annals_query *q, int by, int mode,
			    struct annals_histogram **out);
ANNALS_API void		 annals_histogram_free(struct annals_histogram *h);

struct annals_actor_count {
	const char	*name;
	uint64_t	 count;		/* events */
};

struct annals_actor_counts {
	struct annals_actor_count *actors;	/* most events first */
	size_t			 nactors;
	uint64_t		 events; /* co_actors: the actor's events */
};

/*
 * The limit (1 to 10000) actors with most events matching q, which must
 * have no actor; ties are ordered by name.  Errors: as annals_histogram.
 */
ANNALS_API int		 annals_top_actors(annals_ctx *ctx,
			    const annals_query *q, uint32_t limit,
			    struct annals_actor_counts **out);
/*
 * The limit actors that appear in most events of q's actor (which must
 * be set) matching q, with the number of such events; the actor itself,
 * or every actor with its prefix, is left out.
 */
ANNALS_API int		 annals_co_actors(annals_ctx *ctx,
			    const annals_query *q, uint32_t limit,
			    struct annals_actor_counts **out);
ANNALS_API void		 annals_actor_counts_free(
			    struct annals_actor_counts *c);

#ifdef __cplusplus
}
#endif

#endif
