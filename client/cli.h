/*
 * The annals command: what cli.c, the cli-*.c commands, output.c and
 * json.c share.  Only the public annals.h is used to talk to the daemon.
 */
#ifndef ANNALS_CLI_H
#define ANNALS_CLI_H

#include <stdio.h>

#include <jansson.h>
#include <msgpack.h>

#include "annals.h"
#include "../proto/json.h"

/* Exit statuses, documented in annals(1). */
#define CLI_EXIT_OK		0
#define CLI_EXIT_NOTFOUND	1
#define CLI_EXIT_USAGE		2
#define CLI_EXIT_CONNECT	3
#define CLI_EXIT_ERROR		4
/* --complete: a limit cut a listing (what fits was printed). */
#define CLI_EXIT_CUT		5
/* annals import: some rows were rejected, the others imported. */
#define CLI_EXIT_REJECTED	1

/* The state of one run, set up by main() from the global options. */
struct cli {
	const struct cli_command *cmd;	/* the command being run */
	const char	*address;	/* NULL: $ANNALS_SOCKET or default */
	int		 format;	/* OUTPUT_* */
	annals_ctx	*ctx;		/* after cli_common_connect() */
	const char	*token_file;	/* --token-file */
	int		 complete;	/* --complete: a cut result fails */
	const char	*from, *to;	/* FROM and TO, for messages */
	int		 addr_opts;	/* which of -s and -H were given */
#define CLI_ADDR_SOCKET	0x1
#define CLI_ADDR_HOST	0x2
	void		*call_buf;	/* cli-admin.c: a result in use */
};

/*
 * One command: the table in cli.c points at one per cli-*.c file.
 * options are the command's getopt_long() table, so that main() can
 * tell the global options typed after the command from its own.
 */
struct option;
struct cli_command {
	const char		*name;
	const char		*usage;		/* after "annals NAME " */
	int			(*exec)(struct cli *, int, char **);
	const struct option	*options;
};

extern const struct cli_command cli_add_command;
extern const struct cli_command cli_get_command;
extern const struct cli_command cli_range_command;
extern const struct cli_command cli_actor_command;
extern const struct cli_command cli_actors_command;
extern const struct cli_command cli_actor_name_command;
extern const struct cli_command cli_alias_command;
extern const struct cli_command cli_rm_command;
extern const struct cli_command cli_stats_command;
extern const struct cli_command cli_ping_command;
/* import.c, cli-export.c, cli-changes.c */
extern const struct cli_command cli_import_command;
extern const struct cli_command cli_export_command;
extern const struct cli_command cli_changes_command;
/* cli-timelinejs.c: annals export --format timelinejs */
#define OUTPUT_TIMELINEJS	3
struct timelinejs;
struct timelinejs *timelinejs_new(FILE *);
int		 timelinejs_event(struct timelinejs *, const struct annals_event *);
int		 timelinejs_end(struct timelinejs *);

/*
 * The filters of range, actor, export and the aggregations: one option
 * table (getopt letters c w p a r t g s q), one usage text and the case
 * labels of cli_common_filter(), which applies them.
 */
#define CLI_FILTER_OPTIONS						\
	{ "certain",	no_argument,		NULL, 'c' },		\
	{ "within",	no_argument,		NULL, 'w' },		\
	{ "precision",	required_argument,	NULL, 'p' },		\
	{ "actor",	required_argument,	NULL, 'a' },		\
	{ "role",	required_argument,	NULL, 'r' },		\
	{ "type",	required_argument,	NULL, 't' },		\
	{ "tag",	required_argument,	NULL, 'g' },		\
	{ "source",	required_argument,	NULL, 's' },		\
	{ "text",	required_argument,	NULL, 'q' }
#define CLI_FILTER_USAGE						\
	"[--certain | --within]\n"					\
	"             [--precision year|season|month|day|time] [--role ROLE]\n" \
	"             [--type PREFIX] [--tag T] [--source S] [--text WORDS]"
#define CLI_FILTER_CASES						\
	case 'c': case 'w': case 'p': case 'r':				\
	case 't': case 'g': case 's': case 'q'
struct cli_filter {
	const char	*actor;
	const char	*role;
	int		 certain;
	int		 within;
};
int	cli_common_filter(const struct cli_command *, annals_query *, int,
	    const char *, struct cli_filter *);

/* cli-add.c: the option parsers annals set shares */
int		 cli_add_attr(json_t *, const char *);
json_t		*cli_add_actor(const char *);
int		 cli_add_role_ok(const char *);
int		 cli_add_number(const char *, double *);

/* cli-edit.c, cli-set.c */
extern const struct cli_command cli_edit_command;
extern const struct cli_command cli_set_command;
int		 cli_edit_put(struct cli *, uint64_t, json_t *, json_t *);

/* cli-admin.c */
extern const struct cli_command cli_backup_command;
extern const struct cli_command cli_compact_command;
extern const struct cli_command cli_check_command;

/* cli-histogram.c */
extern const struct cli_command cli_histogram_command;
extern const struct cli_command cli_top_command;
extern const struct cli_command cli_co_actors_command;

/* cli-common.c */
/* What a date looks like: in annals --help and after a refused date. */
#define CLI_DATE_FORMS							\
	"2014-12-05, 2014-12, 2014, 2015-01-26/2015-01-29, 2014~"
void		 cli_common_warn(const char *, ...)
		     __attribute__((format(printf, 1, 2)));
int		 cli_common_usage(const struct cli_command *, const char *, ...)
		     __attribute__((format(printf, 2, 3)));
int		 cli_common_badopt(const struct cli_command *);
int		 cli_common_connect(struct cli *);
int		 cli_common_fail(struct cli *, const char *);
const char	*cli_common_hint(const char *);
int		 cli_common_exit(int);
int		 cli_common_id(const char *, uint64_t *);
int		 cli_common_help(const struct cli_command *);
int		 cli_common_cut(struct cli *, unsigned long long, const char *,
		     const char *);
void		 cli_common_case_hint(struct cli *, const char *, int,
		     int (*)(struct cli *, const char *, void *), void *);
/*
 * The question cli_common_case_events() asks again: q, as an actor
 * query (annals_actor()) when actor is set, else as a range query.
 */
struct cli_case {
	annals_query	*q;
	const char	*role;
	int		 actor;
};
int		 cli_common_case_events(struct cli *, const char *, void *);

/* output.c */
#define OUTPUT_JSONL	0
#define OUTPUT_CSV	1
#define OUTPUT_TABLE	2
struct output;
int		 output_format(const char *, int *);
struct output	*output_new(int, FILE *, int);
void		 output_fields(struct output *, const char *);
int		 output_event(struct output *, const struct annals_event *,
		     const struct annals_via *);
int		 output_end(struct output *);
void		 output_free(struct output *);
int		 output_actor(int, FILE *, int, const char *, uint64_t,
		     const char *);
int		 output_stats(int, FILE *, const msgpack_object *);
int		 output_put(int, FILE *, int, const struct annals_put_result *);
int		 output_deleted(int, FILE *, int, uint64_t, int);

/* json.c */
struct json_record {
	struct annals_event	 ev;	/* strings point into json */
	json_t			*json;	/* a reference, kept while ev lives */
	struct annals_actor	*actors;
	const char		**urls;
	const char		**tags;
	msgpack_sbuffer		 attrs;
};
json_t		*json_from_mp(const msgpack_object *, char *, size_t);
json_t		*json_record_encode(const struct annals_event *, int, char *,
		     size_t);
int		 json_record_decode(json_t *, struct json_record *, char *,
		     size_t);
void		 json_record_clear(struct json_record *);
int		 json_record_attrs(json_t *, msgpack_sbuffer *, char *, size_t);
int		 json_record_write(FILE *, json_t *);
int		 json_record_write_pretty(FILE *, json_t *);

#endif
