/*
 * annals import: what the driver (import.c) shares with the row parsers
 * (import-*.c).  A row parser turns ONE row, its fields already split,
 * into a struct event; it does no I/O and keeps no state between calls,
 * so it can be fuzzed on its own.  On success the event is checked as
 * the daemon would check it (import_row_finish()) and owned by the
 * caller, who frees it with record_clear(); on failure it is cleared and
 * err says why ("SQLDATE: 20150230 is not a date").
 *
 * The datasets' rows always have a key, their event id.  A row of
 * annals' own formats may have none: it is keyed by its content
 * (import_row_content_begin()), so that importing it again finds it
 * instead of adding it twice, unless --no-content-key says that equal
 * rows are distinct events.
 */
#ifndef ANNALS_IMPORT_H
#define ANNALS_IMPORT_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "../proto/proto.h"

/* Columns and bytes of one row we accept; more is an error. */
#define IMPORT_MAX_COLS		1024
#define IMPORT_MAX_ROW		(4u << 20)

/*
 * What a column means to the parsers.  Columns without a role only go
 * into attrs.
 */
enum import_role {
	IMPORT_R_ID,		/* the dataset's event id: the key */
	IMPORT_R_DATE,		/* the event's date */
	IMPORT_R_PRECISION,	/* ACLED time_precision */
	IMPORT_R_ACTOR1,	/* code, or name when there is no code */
	IMPORT_R_ACTOR1NAME,
	IMPORT_R_ASSOC1,	/* "; "-separated associates */
	IMPORT_R_ACTOR2,
	IMPORT_R_ACTOR2NAME,
	IMPORT_R_ASSOC2,
	IMPORT_R_TYPE,
	IMPORT_R_TITLE,
	IMPORT_R_TEXT,
	IMPORT_R_PLACE,
	IMPORT_R_COUNTRY,
	IMPORT_R_LAT,
	IMPORT_R_LON,
	IMPORT_R_URL,
	/* annals' own CSV */
	IMPORT_R_SOURCE,
	IMPORT_R_KEY,
	IMPORT_R_END,
	IMPORT_R_ACTORS,
	IMPORT_R_TAGS,
	IMPORT_R_ATTRS,
	IMPORT_NROLES
};

struct import_header;

/* What the command line says of every row. */
struct import_opts {
	const char	*source;	/* --source: instead of a row's own */
	int		 content_key;	/* key rows without one by content */
};

/*
 * A row without a key is keyed "content:" and the 16 hex digits of the
 * FNV-1a hash of the event as record_pack() packs it without id, rev,
 * created, updated, source and key: the same row gets the same key on
 * every machine.  Its source is --source, else its own, else "import".
 */
#define IMPORT_CONTENT_PREFIX	"content:"
#define IMPORT_CONTENT_SOURCE	"import"
/* The key before its digits are known: as long as the real one. */
#define IMPORT_CONTENT_BLANK	IMPORT_CONTENT_PREFIX "0000000000000000"
#define IMPORT_CONTENT_KEYLEN	(sizeof IMPORT_CONTENT_BLANK - 1)

/* What a row parser returns for a row it keyed by its content. */
#define IMPORT_ROW_CONTENT	1

/* What a format supplies; see struct import_format. */
typedef int	import_guess_fn(const char *, size_t);
typedef int	import_layout_fn(size_t, const char *const **, struct aerr *);
typedef int	import_row_fn(const struct import_header *, const char *const *,
		    size_t, const struct import_opts *, struct event *,
		    struct aerr *);

/*
 * What a format knows: its columns, how a file of it is told apart from
 * others, and its row parser.  Each import-FORMAT.c defines one; the
 * driver (import.c) keeps them in one table, in the order detection
 * tries them.
 */
struct import_format {
	const char	 *name;			/* as --format names it */
	const char	 *source;		/* the default source name */
	const char	 *roles[IMPORT_NROLES];	/* column name of each role */
	unsigned	  required;		/* roles that must have a column */
	unsigned	  core;			/* roles kept as is by a field */
	const char *const *ints;		/* count columns, NULL-ended */
	const char	 *missing;		/* text meaning no value: "NA" */
	/* The role whose column name marks a header line (the id's). */
	enum import_role  mark;
	/* Whether a column name is one of the format's; NULL: any is. */
	int		(*known)(const char *);
	/*
	 * Whether a file without a header line, by its name (without .gz)
	 * and the columns of its first line, is of this format.
	 */
	import_guess_fn	 *guess;
	/*
	 * The column names of a row of n columns in a file without a
	 * header line; NULL: the format is read by column name only.
	 */
	import_layout_fn *layout;
	/* The row parser: see import_row(). */
	import_row_fn	 *row;
};
#define IMPORT_ROLE(r)	(1u << (r))

extern const struct import_format import_jsonl_format;
extern const struct import_format import_csv_format;
extern const struct import_format import_gdelt_format;
extern const struct import_format import_acled_format;
extern const struct import_format import_icews_format;

/*
 * The columns of a file: from its header line or from the format's
 * fixed layout.  Built by import_header_init(), read-only afterwards.
 */
struct import_header {
	const struct import_format *fmt;
	char		**names;	/* ncols column names */
	size_t		  ncols;
	int		  col[IMPORT_NROLES];	/* -1: no such column */
	unsigned char	 *flags;	/* per column: */
#define IMPORT_COL_INT	0x1		/* a count: an integer in attrs */
#define IMPORT_COL_CORE	0x2		/* text kept as is by a record field */
};

/* import-row.c: headers and the helpers every parser uses. */
int	 import_header_init(struct import_header *,
	     const struct import_format *, const char *const *, size_t,
	     struct aerr *);
void	 import_header_clear(struct import_header *);
int	 import_header_is(const struct import_format *, const char *const *,
	     size_t);
int	 import_name_ends(const char *, const char *);
int	 import_name_has(const char *, const char *);
const char *import_row_value(const struct import_header *,
	     const char *const *, enum import_role);
int	 import_row_actor(struct event *, const char *, size_t,
	     const char *, struct aerr *);
int	 import_row_assoc(struct event *, const char *, const char *,
	     struct aerr *);
int	 import_row_str(char **, const char *, struct aerr *);
int	 import_row_latlon(const struct import_header *, const char *const *,
	     struct event *, struct aerr *);
int	 import_row_attrs(const struct import_header *, const char *const *,
	     struct event *, struct aerr *);
int	 import_row_begin(const struct import_header *, size_t,
	     struct event *, struct aerr *);
int	 import_row_key(struct event *, const struct import_header *,
	     const char *, const char *, const char *, struct aerr *);
int	 import_row_finish(struct event *, struct aerr *);
const char *import_row_content_source(const struct import_opts *);
int	 import_row_content_begin(struct event *, const struct import_opts *,
	     struct aerr *);
void	 import_row_content_key(struct event *);
int	 import_row_rest(const struct import_header *, const char *const *,
	     struct event *, struct aerr *);
int	 import_row_fail(struct event *);
void	 import_row_clean(struct aerr *);
int	 import_row_int(const char *, int64_t *);

/*
 * One row of a column format: h, from the header or the layout, names
 * the columns and its format's parser reads f, n fields, NUL-terminated;
 * opts->source, when not NULL, replaces the dataset's own source name
 * ("gdelt", "acled", "icews") or the row's.  Returns 0,
 * IMPORT_ROW_CONTENT when the row had no key and was keyed by its
 * content, or -1.
 */
int	 import_row(const struct import_header *, const char *const *,
	     size_t, const struct import_opts *, struct event *,
	     struct aerr *);

/*
 * import-annals.c: one line of JSON (len bytes) into an event; returns
 * as import_row() does.
 */
int	 import_jsonl_row(const char *, size_t, const struct import_opts *,
	     struct event *, struct aerr *);

/*
 * import-split.c: splitting records of CSV (RFC 4180, quoted) or TSV (no
 * quoting at all, as GDELT and ICEWS write it), fed one physical line at
 * a time, without its '\n' but with the CR of a CRLF, which is text
 * inside quotes.  import_split_feed() returns IMPORT_SPLIT_MORE while a
 * quoted field is open at the end of the line: the next line continues
 * it (after a '\n').  When a feed fails, or the input ends inside quotes,
 * open says whether a quoted field was still open and quote_line on
 * which of the record's lines (0: the first) it began; call
 * import_split_reset() before the next record.  examined counts the bytes
 * the splitter looked at, so that tests can hold it to linear work.
 */
struct import_split {
	int		  delim;	/* ',' or '\t' */
	int		  quoted;	/* RFC 4180 quotes */
	char		 *buf;		/* the fields, NUL-terminated */
	size_t		  bufsize;
	size_t		  used;		/* bytes of buf taken */
	const char	**fields;	/* into buf, once a record is done */
	size_t		 *starts;	/* offset of each field in buf */
	size_t		  nfields;
	size_t		  maxfields;
	size_t		  reclen;	/* bytes of the record's lines */
	size_t		  lines;	/* lines of the record so far */
	size_t		  quote_line;	/* the open quote's line, 0: first */
	int		  open;		/* a quoted field goes on */
	uint64_t	  examined;	/* bytes looked at, in all */
};
#define IMPORT_SPLIT_DONE	0	/* a whole record */
#define IMPORT_SPLIT_MORE	1	/* a quoted field goes on: add a line */
int	 import_split_feed(struct import_split *, const char *, size_t,
	     struct aerr *);
void	 import_split_reset(struct import_split *);
void	 import_split_free(struct import_split *);

/*
 * import-src.c: one stream of text, a file, stdin or an entry of a zip,
 * read IMPORT_CHUNK bytes at a time and cut into lines.
 * import_src_line() returns the next line without its '\n' (a CR before
 * it stays: inside a quoted CSV field it is text), valid until the next
 * call: 1, 0 at the end, -1 when reading failed (*why says why).
 * import_src_unread() gives back lines (joined by '\n') to be read
 * again, the first of them numbered lineno.
 */
#define IMPORT_CHUNK	65536

struct gzFile_s;
struct archive;

struct import_src {
	const char	*name;		/* for messages; owned by the run */
	const char	*hint;		/* the name that tells the format */
	struct gzFile_s	*gz;		/* zlib's gzFile */
	struct archive	*ar;

	unsigned char	*buf;
	size_t		 off, len, size;
	int		 eof;

	char		*pend;		/* lines given back, read first */
	size_t		 pendoff, pendlen;
	size_t		 lineno;	/* of the last line returned */
	int		 first;		/* no line read yet */
};

int	 import_src_open(struct import_src *, int);
void	 import_src_close(struct import_src *);
int	 import_src_line(struct import_src *, char **, size_t *,
	     const char **);
int	 import_src_unread(struct import_src *, const char *, size_t, size_t);
off_t	 import_src_offset(const struct import_src *);
int	 import_src_is_zip(const char *);
struct archive *import_src_zip_open(const char *, struct aerr *);
int	 import_src_zip_next(struct archive *, struct import_src *,
	     struct aerr *);
void	 import_src_zip_close(struct archive *);

/*
 * import-names.c: the names rows give their actor codes (GDELT's
 * Actor1Name beside Actor1Code), gathered once per code and sent to the
 * actor dictionary where it has none.
 */
struct import_names;
struct annals_ctx;
struct import_names *import_names_new(void);
void	 import_names_free(struct import_names *);
int	 import_names_row(struct import_names *, const struct import_header *,
	     const char *const *);
size_t	 import_names_pending(const struct import_names *);
int	 import_names_send(struct import_names *, struct annals_ctx *,
	     uint64_t *);

#endif
