/*
 * annals import: what the driver (import.c) shares with the row parsers
 * (import-*.c).  A row parser turns ONE row, its fields already split,
 * into a struct event; it does no I/O and keeps no state between calls,
 * so it can be fuzzed on its own.  On success the event is checked as
 * the daemon would check it (import_row_finish()) and owned by the
 * caller, who frees it with record_clear(); on failure it is cleared and
 * err says why ("SQLDATE: 20150230 is not a date").
 */
#ifndef ANNALS_IMPORT_H
#define ANNALS_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "../proto/proto.h"

/* Input formats; IMPORT_AUTO asks the driver to detect one. */
#define IMPORT_AUTO	0
#define IMPORT_JSONL	1	/* records as annals export writes them */
#define IMPORT_CSV	2	/* annals' own CSV (annals export --format csv) */
#define IMPORT_GDELT	3	/* GDELT 1.0 (57, 58 columns) and 2.0 (61) */
#define IMPORT_ACLED	4	/* ACLED, current and 2020 export formats */
#define IMPORT_ICEWS	5	/* ICEWS coded events, TSV with header */

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

/*
 * What a format knows about its columns.  Each import-FORMAT.c defines
 * one; import_header_init() applies it to a header line.
 */
struct import_format {
	int		  format;		/* IMPORT_* */
	const char	 *source;		/* the default source name */
	const char	 *roles[IMPORT_NROLES];	/* column name of each role */
	unsigned	  required;		/* roles that must have a column */
	unsigned	  core;			/* roles kept as is by a field */
	const char *const *ints;		/* count columns, NULL-ended */
	const char	 *missing;		/* text meaning no value: "NA" */
};
#define IMPORT_ROLE(r)	(1u << (r))

extern const struct import_format import_gdelt_format;
extern const struct import_format import_acled_format;
extern const struct import_format import_icews_format;
extern const struct import_format import_csv_format;

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
const struct import_format *import_format_of(int);
int	 import_header_init(struct import_header *, int,
	     const char *const *, size_t, struct aerr *);
void	 import_header_clear(struct import_header *);
int	 import_header_is(int, const char *const *, size_t);
const char *import_row_value(const struct import_header *,
	     const char *const *, enum import_role);
int	 import_row_actor(struct event *, const char *, size_t,
	     const char *, struct aerr *);
int	 import_row_assoc(struct event *, const char *, const char *,
	     struct aerr *);
int	 import_row_str(char **, const char *, struct aerr *);
int	 import_row_coord(const struct import_header *, const char *const *,
	     enum import_role, double *, int *, struct aerr *);
int	 import_row_attrs(const struct import_header *, const char *const *,
	     struct event *, struct aerr *);
int	 import_row_begin(const struct import_header *, size_t,
	     struct event *, struct aerr *);
int	 import_row_key(struct event *, const struct import_header *,
	     const char *, const char *, const char *, struct aerr *);
int	 import_row_finish(struct event *, struct aerr *);
int	 import_row_rest(const struct import_header *, const char *const *,
	     struct event *, struct aerr *);
int	 import_row_fail(struct event *);
void	 import_row_clean(struct aerr *);
int	 import_row_int(const char *, int64_t *);

/*
 * The parsers, one per format.  h describes the columns; f holds n
 * fields, NUL-terminated; source, when not NULL, replaces the dataset's
 * own source name ("gdelt", "acled", "icews").
 */
int	 import_gdelt_row(const struct import_header *, const char *const *,
	     size_t, const char *, struct event *, struct aerr *);
int	 import_acled_row(const struct import_header *, const char *const *,
	     size_t, const char *, struct event *, struct aerr *);
int	 import_icews_row(const struct import_header *, const char *const *,
	     size_t, const char *, struct event *, struct aerr *);
int	 import_csv_row(const struct import_header *, const char *const *,
	     size_t, const char *, struct event *, struct aerr *);
/* One line of JSON (len bytes, no newline needed) into an event. */
int	 import_jsonl_row(const char *, size_t, const char *, struct event *,
	     struct aerr *);

/* import-annals.c: whether a column of annals' CSV is known. */
int	 import_annals_known(const char *);

/* import-gdelt.c: the fixed layouts of files without a header. */
int	 import_gdelt_layout(size_t, const char *const **, struct aerr *);
extern const char *const import_icews_columns[];

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

#endif
