/*
 * What every annals command needs: messages on stderr, the connection,
 * and the mapping of library errors to exit statuses (annals(1)).
 */
#include <sys/stat.h>

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Print "annals: message" on stderr. */
void
cli_common_warn(const char *fmt, ...)
{
	va_list	ap;

	fputs("annals: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Report a usage error of a command and return the exit status. */
int
cli_common_usage(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list	ap;

	fputs("annals: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: annals %s%s%s\n", cmd->name,
	    *cmd->usage != '\0' ? " " : "", cmd->usage);
	return (CLI_EXIT_USAGE);
}

/*
 * After getopt_long() said what is wrong with an option ("annals range:
 * unrecognized option '--x'"), the command's usage; the exit status.
 */
int
cli_common_badopt(const struct cli_command *cmd)
{
	fprintf(stderr, "usage: annals %s%s%s\n", cmd->name,
	    *cmd->usage != '\0' ? " " : "", cmd->usage);
	return (CLI_EXIT_USAGE);
}

/* The exit status for an ANNALS_E* code. */
int
cli_common_exit(int code)
{
	switch (code) {
	case ANNALS_OK:
		return (CLI_EXIT_OK);
	case ANNALS_ENOTFOUND:
		return (CLI_EXIT_NOTFOUND);
	case ANNALS_EIO:
		return (CLI_EXIT_CONNECT);
	default:
		return (CLI_EXIT_ERROR);
	}
}

/* The socket of make run (contrib/run.sh), from the source tree. */
#define CLI_RUN_SOCKET	"var/annalsd.sock"

/*
 * Whether annals tried the default socket (no -s or -H, no
 * $ANNALS_SOCKET) while make run's socket is in the current directory:
 * its daemon is then likely the one meant, and starting another, as the
 * usual hint says, would be refused by make run.
 */
static int
cli_common_run_socket(const struct cli *cli)
{
	const char	*env;
	struct stat	 sb;

	/* An empty $ANNALS_SOCKET is unset to annals_connect(). */
	env = getenv("ANNALS_SOCKET");
	if (cli->address != NULL || (env != NULL && *env != '\0'))
		return (0);
	return (stat(CLI_RUN_SOCKET, &sb) == 0 && S_ISSOCK(sb.st_mode));
}

/*
 * Connect as the global options say.  On failure print why and how to
 * reach a daemon, and return the exit status; 0 when connected.
 */
static int	cli_common_token(struct cli *);

int
cli_common_connect(struct cli *cli)
{
	if ((cli->ctx = annals_connect(cli->address)) == NULL) {
		cli_common_warn("out of memory");
		return (CLI_EXIT_ERROR);
	}
	if (annals_errcode(cli->ctx) == ANNALS_EUNAUTHORIZED) {
		cli_common_warn("$ANNALS_TOKEN: %s", annals_errmsg(cli->ctx));
		return (CLI_EXIT_ERROR);
	}
	if (annals_errcode(cli->ctx) != 0) {
		cli_common_warn("%s", annals_errmsg(cli->ctx));
		if (cli_common_run_socket(cli))
			cli_common_warn("an annalsd of make run may be "
			    "listening on %s: use -s %s, or export "
			    "ANNALS_SOCKET=$PWD/%s", CLI_RUN_SOCKET,
			    CLI_RUN_SOCKET, CLI_RUN_SOCKET);
		else
			cli_common_warn("is annalsd running? start it with: "
			    "annalsd --data DIR (or make run in the source "
			    "tree)");
		return (CLI_EXIT_CONNECT);
	}
	if (cli->token_file != NULL)
		return (cli_common_token(cli));
	return (0);
}

/* Send the token of --token-file: its first line. */
static int
cli_common_token(struct cli *cli)
{
	char	 line[1024];
	FILE	*f;

	if ((f = fopen(cli->token_file, "r")) == NULL) {
		cli_common_warn("--token-file %s: %s", cli->token_file,
		    strerror(errno));
		return (CLI_EXIT_USAGE);
	}
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '\0') {
		cli_common_warn("--token-file %s: no token in it",
		    cli->token_file);
		return (CLI_EXIT_USAGE);
	}
	if (annals_hello(cli->ctx, "annals", line, NULL) != 0) {
		cli_common_warn("--token-file %s: %s", cli->token_file,
		    annals_errmsg(cli->ctx));
		return (CLI_EXIT_ERROR);
	}
	return (0);
}

/*
 * Print the context's error, prefixed by what, and return the status.
 * The daemon's "to before from" is said with the command's FROM and TO.
 */
int
cli_common_fail(struct cli *cli, const char *what)
{
	const char	*msg;
	int		 code;

	code = annals_errcode(cli->ctx);
	msg = annals_errmsg(cli->ctx);
	if (strcmp(msg, "to before from") == 0 &&
	    cli->from != NULL && cli->to != NULL)
		cli_common_warn("TO %s is before FROM %s", cli->to, cli->from);
	else if (what != NULL)
		cli_common_warn("%s: %s%s", what, msg, cli_common_hint(msg));
	else
		cli_common_warn("%s%s", msg, cli_common_hint(msg));
	return (cli_common_exit(code));
}

/*
 * What to print after msg: when it refuses a date (proto/date.c says
 * "Dec 2014 is not a date", "2015/01/01 is an interval, not a date" or
 * "2015-01-01 10:00: trailing characters"), what a date looks like.
 * The daemon's words are the protocol's (PROTOCOL.md quotes them), so
 * the hint is added here, for a person at the command line.
 */
const char *
cli_common_hint(const char *msg)
{
	static const char *const	 tails[] = {
		" not a date", ": trailing characters"
	};
	size_t				 i, len, tlen;

	len = strlen(msg);
	for (i = 0; i < sizeof tails / sizeof tails[0]; i++) {
		tlen = strlen(tails[i]);
		if (len >= tlen && strcmp(msg + len - tlen, tails[i]) == 0)
			return (" (dates are EDTF: " CLI_DATE_FORMS ")");
	}
	return ("");
}

/* Parse an event id: a positive decimal integer. */
int
cli_common_id(const char *s, uint64_t *id)
{
	char		*end;
	uintmax_t	 v;

	if (*s < '0' || *s > '9')
		return (-1);
	errno = 0;
	v = strtoumax(s, &end, 10);
	if (errno != 0 || *end != '\0' || v == 0 || v > UINT64_MAX)
		return (-1);
	*id = v;
	return (0);
}

/* Print a command's usage on stdout, for --help. */
int
cli_common_help(const struct cli_command *cmd)
{
	printf("usage: annals %s%s%s\n", cmd->name,
	    *cmd->usage != '\0' ? " " : "", cmd->usage);
	return (CLI_EXIT_OK);
}

/*
 * Say that a limit cut a listing: more than limit of thing (a noun that
 * takes an "s", "event") were there.
 * Scripts must not lose them silently, so this goes to stderr whether
 * or not it is a terminal; stdout is flushed first so that on a
 * terminal the notice comes after the listing, not in front of it.
 * Returns the exit status: CLI_EXIT_CUT under --complete.
 */
int
cli_common_cut(struct cli *cli, unsigned long long limit, const char *thing,
    const char *how)
{
	fflush(stdout);
	cli_common_warn("more than %llu %s%s; use %s to see more", limit, thing,
	    limit == 1 ? "" : "s", how);
	return (cli->complete ? CLI_EXIT_CUT : CLI_EXIT_OK);
}

/*
 * Apply one of the filter options that range, actor, export and the
 * aggregations share: --certain --within --precision --actor --role
 * --type --tag --source --text (getopt letters c w p a r t g s q).  Returns the
 * setter's ANNALS_E* code (0: done), or -1 after printing a usage error.
 * --actor and --role are kept in f until the caller knows the actor.
 */
int
cli_common_filter(const struct cli_command *cmd, annals_query *q, int ch,
    const char *arg, struct cli_filter *f)
{
	static const char *const	precs[] = { "year", "season", "month",
					    "day", "time" };
	size_t				i;

	switch (ch) {
	case 'c':
	case 'w':
		if (ch == 'c' ? f->within : f->certain) {
			cli_common_usage(cmd, "--certain and --within exclude "
			    "each other");
			return (-1);
		}
		if (ch == 'c') {
			f->certain = 1;
			return (annals_query_set_certain(q, 1));
		}
		f->within = 1;
		return (annals_query_set_within(q, 1));
	case 'p':
		for (i = 0; i < sizeof precs / sizeof precs[0]; i++) {
			if (strcmp(arg, precs[i]) == 0)
				break;
		}
		if (i == sizeof precs / sizeof precs[0]) {
			cli_common_usage(cmd, "--precision %s: not year, "
			    "season, month, day or time", arg);
			return (-1);
		}
		/* ANNALS_PREC_* run from year (1) to time (5). */
		return (annals_query_set_precision(q,
		    ANNALS_PREC_YEAR + (int)i));
	case 'a':
		f->actor = arg;
		return (0);
	case 'r':
		f->role = arg;
		return (0);
	case 't':
		return (annals_query_set_type(q, arg));
	case 'g':
		return (annals_query_set_tag(q, arg));
	case 's':
		return (annals_query_set_source(q, arg));
	case 'q':
		return (annals_query_set_text(q, arg));
	}
	return (0);
}

/*
 * Actor codes are case-sensitive, and most are upper case (CAMEO's):
 * after an empty answer for actor (a code, or with prefix the start of
 * actor names) that holds lower-case letters, ask found() whether the
 * code in upper case finds something and, if it does, say so on stderr
 * after the empty output.  found(cli, upper, arg) returns 1 when it
 * does, else 0, also when it cannot tell: the hint is only that, and
 * stdout and the exit status stay those of the empty answer.  An alias
 * gets a hint only when the upper-cased form finds what it did not.
 */
void
cli_common_case_hint(struct cli *cli, const char *actor, int prefix,
    int (*found)(struct cli *, const char *, void *), void *arg)
{
	char	*upper, *p;

	if (actor == NULL || strpbrk(actor,
	    "abcdefghijklmnopqrstuvwxyz") == NULL)
		return;
	if ((upper = strdup(actor)) == NULL)
		return;
	/* ASCII only, whatever the locale: codes are ASCII. */
	for (p = upper; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'z')
			*p -= 'a' - 'A';
	}
	if (found(cli, upper, arg)) {
		/* After the table's "no events", not before it. */
		fflush(stdout);
		if (prefix)
			cli_common_warn("no actors starting with \"%s\"; actor "
			    "codes are case-sensitive: some start with %s",
			    actor, upper);
		else
			cli_common_warn("no events for actor \"%s\"; actor "
			    "codes are case-sensitive: %s has events", actor,
			    upper);
	}
	free(upper);
}

/*
 * A found() for cli_common_case_hint(): whether the question of arg, a
 * struct cli_case, finds an event for the code upper in its role.  One
 * event tells, so it asks for a page of one; the query keeps that code
 * and page size.
 */
int
cli_common_case_events(struct cli *cli, const char *upper, void *arg)
{
	struct cli_case	*c = arg;
	annals_iter	*it;
	int		 found;

	if (annals_query_set_actor(c->q, upper, c->role) != 0 ||
	    annals_query_set_page_size(c->q, 1) != 0)
		return (0);
	if (c->actor)
		it = annals_actor(cli->ctx, c->q);
	else
		it = annals_range(cli->ctx, c->q);
	found = it != NULL && annals_iter_next(it) != NULL;
	annals_iter_free(it);
	return (found);
}
