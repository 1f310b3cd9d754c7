/*
 * annals(1), the built binary, run against the real daemon: what each
 * command prints, JSON lines parsed and checked, and the exit statuses
 * for usage errors, missing events and a missing daemon.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "test.h"

extern char	**environ;

/* What annals adds after a refused date. */
#define CLI_DATE_HINT	" (dates are EDTF: 2014-12-05, 2014-12, 2014, "	\
			    "2015-01-26/2015-01-29, 2014~)"

/* Set to send stderr where stdout goes, to see which came first. */
static int	cli_merge_stderr;

/* What one run of annals printed. */
struct cli_run {
	int	 status;	/* exit status, or 128 + signal */
	char	*out;
	char	*err;
};

/*
 * Run build/annals with args (NULL-terminated) and input on stdin,
 * against sock when not NULL.  Output is captured through files so that
 * a large output cannot block the child.
 */
static void
cli_run(struct cli_run *r, const char *sock, const char *input,
    const char **args)
{
	const char	*argv[64];
	char		 bin[4200], in[256], out[256], err[256];
	FILE		*fp;
	int		 i = 0;

	snprintf(bin, sizeof bin, "%s/annals", t_bindir());
	snprintf(in, sizeof in, "%s/cli.in", t_dir());
	snprintf(out, sizeof out, "%s/cli.out", t_dir());
	snprintf(err, sizeof err, "%s/cli.err", t_dir());
	T_ASSERT((fp = fopen(in, "w")) != NULL);
	if (input != NULL)
		fputs(input, fp);
	fclose(fp);

	argv[i++] = bin;
	if (sock != NULL) {
		argv[i++] = "-s";
		argv[i++] = sock;
	}
	while (*args != NULL && i < 63)
		argv[i++] = *args++;
	argv[i] = NULL;
	r->status = th_spawn(argv, in, out, err, cli_merge_stderr);
	r->out = th_slurp(out, NULL);
	r->err = th_slurp(err, NULL);
}

static void
cli_run_free(struct cli_run *r)
{
	free(r->out);
	free(r->err);
}

/* Run and expect an exit status; show stderr when it differs. */
#define CLI_RUN(r, sock, input, want, ...) do {				\
	const char *cli_args_[] = { __VA_ARGS__, NULL };		\
	cli_run((r), (sock), (input), cli_args_);			\
	T_ASSERTF((r)->status == (want), "exit %d, wanted %d; "		\
	    "stderr: %s", (r)->status, (want), (r)->err);		\
} while (0)

/* The JSON lines of out, parsed; *n gets their number. */
static json_t **
cli_lines(const char *out, size_t *n)
{
	json_error_t	  jerr;
	json_t		**v = NULL;
	const char	 *p, *nl;

	*n = 0;
	for (p = out; *p != '\0'; p = nl + 1) {
		T_ASSERTF((nl = strchr(p, '\n')) != NULL, "unfinished line");
		T_ASSERT((v = realloc(v, (*n + 1) * sizeof *v)) != NULL);
		v[*n] = json_loadb(p, nl - p, 0, &jerr);
		T_ASSERTF(v[*n] != NULL, "%s: %.*s", jerr.text,
		    (int)(nl - p), p);
		(*n)++;
	}
	return (v);
}

static void
cli_lines_free(json_t **v, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		json_decref(v[i]);
	free(v);
}

static const char *
cli_str(json_t *o, const char *key)
{
	return (json_string_value(json_object_get(o, key)));
}

TEST(cli_without_a_daemon_says_how_to_start_one)
{
	struct cli_run	r;
	char		sock[256];

	snprintf(sock, sizeof sock, "%s/none.sock", t_dir());
	CLI_RUN(&r, sock, NULL, 3, "ping");
	T_ASSERTF(strstr(r.err, "annals: connect ") == r.err, "%s", r.err);
	T_ASSERTF(strstr(r.err, "No such file or directory") != NULL, "%s",
	    r.err);
	T_ASSERTF(strstr(r.err, "annalsd --data DIR") != NULL, "%s", r.err);
	T_EQ_STR(r.out, "");
	cli_run_free(&r);
}

/*
 * In the source tree with make run serving on ./var/annalsd.sock and
 * $ANNALS_SOCKET unset, annals tries the default socket: the hint names
 * make run's socket rather than saying to start a daemon.  Given a
 * socket, by -s or $ANNALS_SOCKET, the usual hint stays.
 */
TEST(cli_without_a_socket_points_at_make_runs)
{
	struct th_daemon	d;
	struct cli_run		r;
	char			var[256], missing[256];
	int			fd;

	/* An annalsd answering there would take the first ping. */
	if ((fd = th_raw_connect("/run/annals/annalsd.sock")) != -1) {
		close(fd);
		T_SKIP("an annalsd answers on /run/annals/annalsd.sock");
	}
	T_OK(unsetenv("ANNALS_SOCKET"));

	/* No make run here: how to start a daemon. */
	CLI_RUN(&r, NULL, NULL, 3, "ping");
	T_ASSERTF(strstr(r.err, "annalsd --data DIR") != NULL &&
	    strstr(r.err, "make run may") == NULL, "%s", r.err);
	cli_run_free(&r);

	/* make run's layout: the test's directory is the checkout. */
	snprintf(var, sizeof var, "%s/var", t_dir());
	T_OK(mkdir(var, 0755));
	T_OK(th_daemon_start_in(&d, var, NULL));
	CLI_RUN(&r, NULL, NULL, 3, "ping");
	T_ASSERTF(strstr(r.err, "annals: connect /run/annals/annalsd.sock: ")
	    == r.err, "%s", r.err);
	T_ASSERTF(strstr(r.err, "\nannals: an annalsd of make run may be "
	    "listening on var/annalsd.sock: use -s var/annalsd.sock, or "
	    "export ANNALS_SOCKET=$PWD/var/annalsd.sock\n") != NULL &&
	    strstr(r.err, "start it with") == NULL, "%s", r.err);
	cli_run_free(&r);

	/* What it says works. */
	CLI_RUN(&r, "var/annalsd.sock", NULL, 0, "ping");
	cli_run_free(&r);
	T_OK(setenv("ANNALS_SOCKET", d.sock, 1));
	CLI_RUN(&r, NULL, NULL, 0, "ping");
	cli_run_free(&r);

	/* A socket given and missing: that one is meant. */
	snprintf(missing, sizeof missing, "%s/none.sock", t_dir());
	T_OK(setenv("ANNALS_SOCKET", missing, 1));
	CLI_RUN(&r, NULL, NULL, 3, "ping");
	T_ASSERTF(strstr(r.err, "annalsd --data DIR") != NULL &&
	    strstr(r.err, "make run may") == NULL, "%s", r.err);
	cli_run_free(&r);
	T_OK(unsetenv("ANNALS_SOCKET"));
	CLI_RUN(&r, missing, NULL, 3, "ping");
	T_ASSERTF(strstr(r.err, "annalsd --data DIR") != NULL &&
	    strstr(r.err, "make run may") == NULL, "%s", r.err);
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(cli_usage_errors_exit_2)
{
	struct cli_run	r;

	CLI_RUN(&r, NULL, NULL, 2, "bogus");
	T_ASSERTF(strstr(r.err, "unknown command \"bogus\"") != NULL, "%s",
	    r.err);
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "range", "2015");
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "get", "abc");
	T_ASSERTF(strstr(r.err, "abc: not an event id") != NULL, "%s", r.err);
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "add", "--start", "2015", "--title", "t");
	T_ASSERTF(strstr(r.err, "--actor") != NULL, "%s", r.err);
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "range", "a", "b", "--limit", "0");
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "--format", "xml", "ping");
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "-s", "/x", "-H", "h:1", "ping");
	cli_run_free(&r);
	/* No command at all is a usage error; --help is not. */
	CLI_RUN(&r, NULL, NULL, 2, "--format", "csv");
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 0, "--help");
	T_ASSERTF(strstr(r.out, "exit status") != NULL, "%s", r.out);
	T_ASSERTF(strstr(r.out, "default 100") != NULL ||
	    strstr(r.out, "at most 100") != NULL, "%s", r.out);
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 0, "--version");
	cli_run_free(&r);
}

TEST(cli_add_get_range_and_rm)
{
	struct th_daemon	 d;
	struct cli_run		 r;
	json_t			**v, *attrs, *a;
	size_t			 n;
	char			 id1[32], id2[32];

	T_OK(th_daemon_start(&d, NULL));
	CLI_RUN(&r, d.sock, NULL, 0, "add", "--start", "2015-01-26",
	    "--end", "2015-01-29", "--actor", "RUS:host", "--actor", "EGY",
	    "--type", "036", "--title", "Talks in Moscow", "--place",
	    "Moscow", "--country", "RU", "--lat", "55.75", "--lon", "37.62",
	    "--url", "https://example.org/1", "--tag", "diplomacy",
	    "--source", "manual", "--key", "m1", "--attr", "goldstein=4.0",
	    "--attr", "mentions=12", "--attr", "note=hello", "--attr",
	    "flag=true");
	T_ASSERT(sscanf(r.out, "{\"id\":%31[0-9],", id1) == 1);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "add", "--start", "2015",
	    "--actor", "SYR", "--title", "Year only");
	T_ASSERT(sscanf(r.out, "{\"id\":%31[0-9],", id2) == 1);
	T_ASSERT(strcmp(id1, id2) != 0);
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "get", id1);
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 1);
	T_EQ_STR(cli_str(v[0], "title"), "Talks in Moscow");
	T_EQ_STR(cli_str(v[0], "start"), "2015-01-26");
	T_EQ_INT(json_integer_value(json_object_get(v[0], "rev")), 1);
	a = json_array_get(json_object_get(v[0], "actors"), 0);
	T_EQ_STR(cli_str(a, "name"), "RUS");
	T_EQ_STR(cli_str(a, "role"), "host");
	attrs = json_object_get(v[0], "attrs");
	T_ASSERT(json_is_real(json_object_get(attrs, "goldstein")));
	T_ASSERT(json_real_value(json_object_get(attrs, "goldstein")) == 4.0);
	T_ASSERT(json_is_integer(json_object_get(attrs, "mentions")));
	T_ASSERT(json_is_true(json_object_get(attrs, "flag")));
	T_EQ_STR(cli_str(attrs, "note"), "hello");
	T_ASSERT(json_object_get(v[0], "match") == NULL);
	cli_lines_free(v, n);
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "2015-01",
	    "2015-03");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 2);
	/* Ordered by where each may start: 2015 before 2015-01-26. */
	T_EQ_STR(cli_str(v[0], "title"), "Year only");
	T_EQ_STR(cli_str(v[0], "match"), "possible");
	T_EQ_STR(cli_str(v[1], "title"), "Talks in Moscow");
	T_EQ_STR(cli_str(v[1], "match"), "certain");
	cli_lines_free(v, n);
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "2015-01",
	    "2015-03", "--certain");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 1);
	cli_lines_free(v, n);
	cli_run_free(&r);

	/* --text: words of the title, whatever their case. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "2015-01",
	    "2015-03", "--text", "MOSCOW tal*");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 1);
	T_EQ_STR(cli_str(v[0], "title"), "Talks in Moscow");
	cli_lines_free(v, n);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "2015",
	    "2015", "--text", "\"moscow talks\"");
	T_EQ_STR(r.out, "");
	cli_run_free(&r);
	/* export takes the same filters, --text too, with or without dates. */
	CLI_RUN(&r, d.sock, NULL, 0, "export", "--text", "moscow");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 1);
	T_EQ_STR(cli_str(v[0], "title"), "Talks in Moscow");
	cli_lines_free(v, n);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "export", "2015", "2015", "--text",
	    "year");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 1);
	T_EQ_STR(cli_str(v[0], "title"), "Year only");
	cli_lines_free(v, n);
	cli_run_free(&r);

	/* The table marks the possible match with "?". */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "range", "2015-01",
	    "2015-03");
	T_ASSERTF(strstr(r.out, "?  2015 ") != NULL, "%s", r.out);
	T_ASSERTF(strstr(r.out, "RUS(host),EGY") != NULL, "%s", r.out);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "get", id1);
	T_ASSERTF(strncmp(r.out, "id,rev,", 7) == 0, "%s", r.out);
	T_ASSERTF(strstr(r.out, ",55.75,37.62,") != NULL, "%s", r.out);
	cli_run_free(&r);

	/* A missing event exits 1 but the others are still printed. */
	CLI_RUN(&r, d.sock, NULL, 1, "--format", "jsonl", "get", "999",
	    id2);
	T_ASSERTF(strstr(r.err, "event 999 not found") != NULL, "%s", r.err);
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 1);
	cli_lines_free(v, n);
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "rm", id1);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 1, "get", id1);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 1, "rm", id1);
	cli_run_free(&r);
	/* The daemon's complaint, and what a date looks like, exits 4. */
	CLI_RUN(&r, d.sock, NULL, 4, "add", "--start", "2015-02-30",
	    "--actor", "X", "--title", "t");
	T_EQ_STR(r.err, "annals: start: 2015-02-30 is not a date"
	    CLI_DATE_HINT "\n");
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * --text narrows the counts of top, co-actors and histogram as it does
 * range: the same events counted with and without it, a word of the
 * text field in capitals counted as one of a title.
 */
TEST(cli_text_narrows_top_co_actors_and_histogram)
{
	static const char	*events =
	    "{\"start\": \"2015-01-10\", \"actors\": [\"RUS\", \"SYRGOV\", "
	    "\"USA\"], \"title\": \"Peace talks open in Geneva\"}\n"
	    "{\"start\": \"2015-01-20\", \"actors\": [\"RUS\", \"SYRGOV\"], "
	    "\"title\": \"Talks on a truce\"}\n"
	    "{\"start\": \"2015-02-05\", \"actors\": [\"RUS\", \"SYROPP\"], "
	    "\"title\": \"Air strikes near Aleppo\"}\n"
	    "{\"start\": \"2015-02-15\", \"actors\": [\"USA\", \"SYROPP\", "
	    "\"TUR\"], \"title\": \"Geneva talks resume\"}\n"
	    "{\"start\": \"2015-03-01\", \"actors\": [\"RUS\", \"SYRGOV\", "
	    "\"SYROPP\"], \"title\": \"Envoys meet in Vienna\", "
	    "\"text\": \"The TALKS went on for a week.\"}\n"
	    "{\"start\": \"2015-03-10\", \"actors\": [\"RUS\", \"SYROPP\"], "
	    "\"title\": \"Air strikes go on\"}\n";
	struct th_daemon	 d;
	struct cli_run		 r;

	T_OK(th_daemon_start(&d, NULL));
	CLI_RUN(&r, d.sock, events, 0, "add", "-");
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "top", "2015",
	    "2015");
	T_EQ_STR(r.out,
	    "{\"name\":\"RUS\",\"count\":5}\n"
	    "{\"name\":\"SYROPP\",\"count\":4}\n"
	    "{\"name\":\"SYRGOV\",\"count\":3}\n"
	    "{\"name\":\"USA\",\"count\":2}\n"
	    "{\"name\":\"TUR\",\"count\":1}\n");
	cli_run_free(&r);
	/* Events 1, 2, 4 by their titles and 5 by its text. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "top", "2015",
	    "2015", "--text", "talks");
	T_EQ_STR(r.out,
	    "{\"name\":\"RUS\",\"count\":3}\n"
	    "{\"name\":\"SYRGOV\",\"count\":3}\n"
	    "{\"name\":\"SYROPP\",\"count\":2}\n"
	    "{\"name\":\"USA\",\"count\":2}\n"
	    "{\"name\":\"TUR\",\"count\":1}\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "top", "2015",
	    "2015", "--text", "\"air strikes\"");
	T_EQ_STR(r.out,
	    "{\"name\":\"RUS\",\"count\":2}\n"
	    "{\"name\":\"SYROPP\",\"count\":2}\n");
	cli_run_free(&r);

	/* co-actors: the actor's own events are counted under --text too. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "co-actors", "RUS",
	    "2015", "2015");
	T_EQ_STR(r.out,
	    "{\"name\":\"SYRGOV\",\"count\":3,\"events\":5}\n"
	    "{\"name\":\"SYROPP\",\"count\":3,\"events\":5}\n"
	    "{\"name\":\"USA\",\"count\":1,\"events\":5}\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "co-actors", "RUS",
	    "2015", "2015", "--text", "talks");
	T_EQ_STR(r.out,
	    "{\"name\":\"SYRGOV\",\"count\":3,\"events\":3}\n"
	    "{\"name\":\"SYROPP\",\"count\":1,\"events\":3}\n"
	    "{\"name\":\"USA\",\"count\":1,\"events\":3}\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "co-actors", "RUS",
	    "2015", "2015", "--text", "genev*");
	T_EQ_STR(r.out,
	    "{\"name\":\"SYRGOV\",\"count\":1,\"events\":1}\n"
	    "{\"name\":\"USA\",\"count\":1,\"events\":1}\n");
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "histogram",
	    "2015-01", "2015-03");
	T_EQ_STR(r.out, "start,count\n2015-01,2\n2015-02,2\n2015-03,2\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "histogram",
	    "2015-01", "2015-03", "--text", "talks");
	T_EQ_STR(r.out, "start,count\n2015-01,2\n2015-02,1\n2015-03,1\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "histogram",
	    "2015-01", "2015-03", "--text", "\"geneva talks\"");
	T_EQ_STR(r.out, "start,count\n2015-01,0\n2015-02,1\n2015-03,0\n");
	cli_run_free(&r);
	/* With an actor as well: both must hold. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "histogram",
	    "2015-01", "2015-03", "--actor", "SYROPP", "--text", "strikes");
	T_EQ_STR(r.out, "start,count\n2015-01,0\n2015-02,1\n2015-03,1\n");
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * --text: Latin letters that Unicode does not decompose ("ł", "ø", "ı")
 * are found spelled in ASCII, as well as as they are written; other
 * scripts are not spelled in Latin letters.
 */
TEST(cli_text_finds_latin_letters_spelled_in_ascii)
{
	static const char	*events =
	    "{\"start\": \"2020-03-01\", \"actors\": [\"POL\"], "
	    "\"title\": \"Protest in Łódź\"}\n"
	    "{\"start\": \"2020-04-02\", \"actors\": [\"DNK\"], "
	    "\"title\": \"Ørsted signs a wind deal\"}\n"
	    "{\"start\": \"2021-06-04\", \"actors\": [\"TUR\"], "
	    "\"title\": \"Clashes in Diyarbakır\"}\n"
	    "{\"start\": \"2023-10-08\", \"actors\": [\"RUS\"], "
	    "\"title\": \"Переговоры в Женеве\"}\n";
	static const char *const finds[][2] = {
		{ "lodz", "Protest in Łódź" }, { "ŁÓDŹ", "Protest in Łódź" },
		{ "lo*", "Protest in Łódź" }, { "orsted", "Ørsted signs a "
		"wind deal" }, { "\"Ørsted signs\"", "Ørsted signs a wind "
		"deal" }, { "diyarbakir", "Clashes in Diyarbakır" },
		{ "ПЕРЕГОВОРЫ", "Переговоры в Женеве" },
	};
	struct th_daemon	 d;
	struct cli_run		 r;
	json_t			**v;
	size_t			 n, i;

	T_OK(th_daemon_start(&d, NULL));
	CLI_RUN(&r, d.sock, events, 0, "add", "-");
	cli_run_free(&r);
	for (i = 0; i < sizeof finds / sizeof finds[0]; i++) {
		CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range",
		    "2000", "2030", "--text", finds[i][0]);
		v = cli_lines(r.out, &n);
		T_ASSERTF(n == 1, "--text %s: %s", finds[i][0], r.out);
		T_EQ_STR(cli_str(v[0], "title"), finds[i][1]);
		cli_lines_free(v, n);
		cli_run_free(&r);
	}
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "2000",
	    "2030", "--text", "peregovory");
	T_EQ_STR(r.out, "");
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* Issue #14: add - refuses a record without actors, as the daemon does. */
TEST(issue_14_cli_add_needs_actors)
{
	struct th_daemon	 d;
	struct cli_run		 r;

	T_OK(th_daemon_start(&d, NULL));
	cli_run(&r, d.sock, "{\"start\": \"2015\", \"title\": \"x\"}\n",
	    (const char *[]){ "add", "-", NULL });
	T_ASSERTF(r.status != 0, "exit 0: %s", r.out);
	T_ASSERTF(strstr(r.err, "actors: required") != NULL, "%s", r.err);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "2015",
	    "2015");
	T_EQ_STR(r.out, "");
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(cli_add_from_stdin_in_batches)
{
	struct th_daemon	 d;
	struct cli_run		 r;
	json_t			**v;
	char			*input, *p;
	size_t			 i, n, len, size = 2500 * 100;
	unsigned long long	 id, last = 0;

	T_ASSERT((input = malloc(size)) != NULL);
	for (i = 0, len = 0; i < 2500; i++) {
		len += snprintf(input + len, size - len, "{\"start\": "
		    "\"2010-%02zu\", \"actors\": [\"A%zu\"], \"title\": \"n%zu\"}"
		    "\n%s", 1 + i % 12, i % 7, i, i == 10 ? "\n" : "");
	}
	T_OK(th_daemon_start(&d, NULL));
	CLI_RUN(&r, d.sock, input, 0, "--format", "csv", "add", "-");
	T_ASSERT(strncmp(r.out, "id,rev,status\n", 14) == 0);
	for (p = r.out + 14, n = 0; *p != '\0'; n++) {
		id = strtoull(p, &p, 10);
		T_ASSERTF(strncmp(p, ",1,added\n", 9) == 0, "%.20s", p);
		p += 9;
		T_ASSERT(id > last);
		last = id;
	}
	T_EQ_INT(n, 2500);
	cli_run_free(&r);

	/* Output of range goes back in as it is: every event unchanged. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "2010",
	    "2010", "--limit", "5");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 5);
	cli_lines_free(v, n);
	input = realloc(input, strlen(r.out) + 1);
	strcpy(input, r.out);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, input, 0, "add", "-");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 5);
	for (i = 0; i < n; i++)
		T_EQ_STR(cli_str(v[i], "status"), "unchanged");
	cli_lines_free(v, n);
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, "{\"start\": \"2010\", \"actors\": [\"A\"]}\n"
	    "{\"start\": \"2010-02-30\", \"actors\": [\"A\"]}\n", 4, "add",
	    "-");
	T_EQ_STR(r.err, "annals: stdin:2: start: 2010-02-30 is not a date"
	    CLI_DATE_HINT "\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, "{\"start\": \"2010\",\n", 4, "add", "-");
	T_ASSERTF(strncmp(r.err, "annals: stdin:1: ", 17) == 0, "%s", r.err);
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "stats");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 1);
	T_EQ_INT(json_integer_value(json_object_get(v[0], "events")), 2500);
	cli_lines_free(v, n);
	cli_run_free(&r);
	free(input);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * add - reads a stream of JSON values as jq prints them, pretty over
 * several lines, as well as one a line or several on one line; errors
 * still name the line: that of a syntax error, or where the refused
 * record begins.
 */
TEST(cli_add_reads_pretty_printed_json)
{
	static const char	 pretty[] =
	    "{\n"
	    "  \"start\": \"2011\",\n"
	    "  \"actors\": [\n"
	    "    {\n"
	    "      \"name\": \"A\"\n"
	    "    }\n"
	    "  ],\n"
	    "  \"title\": \"one } ] \\\" {\"\n"
	    "}\n"
	    "{\"start\": \"2012\", \"actors\": [\"A\"], \"title\": \"two\"} "
	    "{\"start\": \"2013\", \"actors\": [\"A\"], \"title\": \"three\"}"
	    "\n\n"
	    "  {\"start\": \"2014\",\n"
	    "   \"actors\": [\"A\"], \"title\": \"four\"}";
	static const char *const titles[] = { "one } ] \" {", "two", "three",
	    "four" };
	struct th_daemon	 d;
	struct cli_run		 r;
	json_t			**v;
	char			*big;
	size_t			 i, n, len;

	T_OK(th_daemon_start(&d, NULL));
	CLI_RUN(&r, d.sock, pretty, 0, "add", "-");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 4);
	for (i = 0; i < n; i++)
		T_EQ_STR(cli_str(v[i], "status"), "added");
	cli_lines_free(v, n);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "2011",
	    "2014");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 4);
	for (i = 0; i < n; i++)
		T_EQ_STR(cli_str(v[i], "title"), titles[i]);
	cli_lines_free(v, n);
	cli_run_free(&r);

	/* The second record, lines 5 to 8, is refused: nothing is sent. */
	CLI_RUN(&r, d.sock, "{\n  \"start\": \"2010\",\n  \"actors\": "
	    "[\"A\"]\n}\n{\n  \"start\": \"2010-02-30\",\n  \"actors\": "
	    "[\"A\"]\n}\n", 4, "add", "-");
	T_EQ_STR(r.err, "annals: stdin:5: start: 2010-02-30 is not a date"
	    CLI_DATE_HINT "\n");
	cli_run_free(&r);
	/* A syntax error is named by its own line. */
	CLI_RUN(&r, d.sock, "{\"start\": \"2010\", \"actors\": [\"A\"]}\n"
	    "{\n  \"start\": \"2010\",\n  \"actors\" [\"A\"]\n}\n", 4, "add",
	    "-");
	T_EQ_STR(r.err, "annals: stdin:4: ':' expected near '['\n");
	cli_run_free(&r);
	/* A record cut short: the last line it has. */
	CLI_RUN(&r, d.sock, "\n{\"start\": \"2010\",\n  \"actors\": [\"A\"]\n\n",
	    4, "add", "-");
	T_EQ_STR(r.err, "annals: stdin:3: '}' expected near end of file\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "2010",
	    "2010");
	T_EQ_STR(r.out, "");
	cli_run_free(&r);

	/* One record is held at a time, up to 16 MiB of it. */
	len = (17u << 20) + 64;
	T_ASSERT((big = malloc(len)) != NULL);
	n = snprintf(big, len, "{\"start\": \"2010\", \"actors\": "
	    "[\"A\"]}\n{\"title\": \"");
	memset(big + n, 'x', len - n - 4);
	memcpy(big + len - 4, "\"}\n", 4);
	big[len - 1] = '\0';
	CLI_RUN(&r, d.sock, big, 4, "add", "-");
	T_EQ_STR(r.err, "annals: stdin:2: record longer than 16777216 "
	    "bytes\n");
	cli_run_free(&r);
	free(big);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * A date annals cannot read gets the forms it can: the daemon's words
 * are the protocol's, so annals adds them, and --help names them too.
 */
TEST(cli_refused_dates_say_what_a_date_looks_like)
{
	static const char *const bad[] = { "Dec 2014", "20150101",
	    "2015/01/01", "01/02/2015" };
	struct th_daemon	 d;
	struct cli_run		 r;
	char			 want[256];
	size_t			 i;

	T_OK(th_daemon_start(&d, NULL));
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		CLI_RUN(&r, d.sock, NULL, 4, "add", "--start", bad[i],
		    "--actor", "X", "--title", "t");
		snprintf(want, sizeof want, "annals: start: %s is not a date"
		    CLI_DATE_HINT "\n", bad[i]);
		T_EQ_STR(r.err, want);
		cli_run_free(&r);
		CLI_RUN(&r, d.sock, NULL, 4, "range", bad[i], "2016");
		snprintf(want, sizeof want, "annals: from: %s is not a date"
		    CLI_DATE_HINT "\n", bad[i]);
		T_EQ_STR(r.err, want);
		cli_run_free(&r);
	}
	CLI_RUN(&r, d.sock, NULL, 4, "range", "2015", "2015-01-01 10:00");
	T_EQ_STR(r.err, "annals: to: 2015-01-01 10:00: trailing characters"
	    CLI_DATE_HINT "\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 4, "add", "--start", "2015", "--end",
	    "2015/01/01", "--actor", "X", "--title", "t");
	T_EQ_STR(r.err, "annals: end: 2015/01/01 is an interval, not a date"
	    CLI_DATE_HINT "\n");
	cli_run_free(&r);
	/* Other complaints about dates are not about their form. */
	CLI_RUN(&r, d.sock, NULL, 4, "add", "--start", "2015", "--end",
	    "2014", "--actor", "X", "--title", "t");
	T_EQ_STR(r.err, "annals: --end 2014 is before --start 2015\n");
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);

	CLI_RUN(&r, NULL, NULL, 0, "--help");
	T_ASSERTF(strstr(r.out, "\nDates are EDTF: 2014-12-05, 2014-12, 2014, "
	    "2015-01-26/2015-01-29, 2014~.\n") != NULL, "%s", r.out);
	cli_run_free(&r);
}

TEST(cli_actor_actors_limit_and_ping)
{
	static const char	*names[] = { "RUS", "RUM", "SYR" };
	struct th_daemon	 d;
	struct cli_run		 r;
	json_t			**v;
	char			*input;
	size_t			 i, n, len, size = 300 * 100;

	T_ASSERT((input = malloc(size)) != NULL);
	for (i = 0, len = 0; i < 300; i++) {
		len += snprintf(input + len, size - len, "{\"start\": "
		    "\"2012-01-%02zu\", \"actors\": [\"%s\"], \"title\": "
		    "\"e%zu\"}\n", 1 + i % 28, names[i % 3], i);
	}
	T_OK(th_daemon_start(&d, NULL));
	CLI_RUN(&r, d.sock, input, 0, "add", "-");
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "actor", "RU*",
	    "--all");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 200);
	for (i = 0; i < n; i++) {
		T_ASSERT(strncmp(cli_str(json_array_get(json_object_get(v[i],
		    "actors"), 0), "name"), "RU", 2) == 0);
		T_ASSERT(cli_str(v[i], "match") != NULL);
	}
	cli_lines_free(v, n);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "actor", "SYR",
	    "2012-01-01", "2012-01-01");
	v = cli_lines(r.out, &n);
	T_ASSERT(n > 0 && n < 100);
	cli_lines_free(v, n);
	cli_run_free(&r);

	/* 100 by default, --limit N pages as far as needed, --all all. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "2012",
	    "2012");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 100);
	cli_lines_free(v, n);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "2012",
	    "2012", "--limit", "1000000");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 300);
	cli_lines_free(v, n);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "2012",
	    "2012", "--limit", "7", "--desc");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 7);
	T_EQ_STR(cli_str(v[0], "start"), "2012-01-28");
	cli_lines_free(v, n);
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "actors");
	/* With CAMEO's names beside the codes it knows. */
	T_EQ_STR(r.out, "{\"name\":\"RUM\",\"count\":100}\n"
	    "{\"name\":\"RUS\",\"count\":100,\"label\":\"Russia\"}\n"
	    "{\"name\":\"SYR\",\"count\":100,\"label\":\"Syria\"}\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "actors", "S");
	T_EQ_STR(r.out, "name,count\nSYR,100\n");
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "ping");
	T_EQ_STR(r.out, "{\"pong\":true}\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "stats");
	T_ASSERTF(strstr(r.out, "events       300\n") != NULL &&
	    strstr(r.out, "\nuuid         ") != NULL, "%s", r.out);
	/* The databases as a table of their own, a row each. */
	T_ASSERTF(strstr(r.out, "\n\ndatabases         entries        "
	    "bytes\nevents                300 ") != NULL &&
	    strstr(r.out, "\nattr_names ") != NULL, "%s", r.out);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "stats");
	T_ASSERTF(strncmp(r.out, "events,actors,", 14) == 0 &&
	    strstr(r.out, ",databases.events.entries,databases.events."
	    "bytes,") != NULL && strstr(r.out, "\n300,3,") != NULL, "%s",
	    r.out);
	cli_run_free(&r);
	free(input);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* 300 events in January 2012 of RUS, RUM and SYR, added through d. */
static void
cli_add_300(const struct th_daemon *d)
{
	static const char	*names[] = { "RUS", "RUM", "SYR" };
	struct cli_run		 r;
	char			*input;
	size_t			 i, len, size = 300 * 100;

	T_ASSERT((input = malloc(size)) != NULL);
	for (i = 0, len = 0; i < 300; i++) {
		len += snprintf(input + len, size - len, "{\"start\": "
		    "\"2012-01-%02zu\", \"actors\": [\"%s\", \"X%zu\"], "
		    "\"title\": \"e%zu\"}\n", 1 + i % 28, names[i % 3], i % 4,
		    i);
	}
	CLI_RUN(&r, d->sock, input, 0, "add", "-");
	cli_run_free(&r);
	free(input);
}

TEST(cli_says_on_stderr_when_a_limit_cut_the_result)
{
	static const char	*more = "annals: more than 100 events; use "
	    "--limit N or --all to see more\n";
	struct th_daemon	 d;
	struct cli_run		 r;
	json_t			**v;
	size_t			 n;
	char			*nl;

	T_OK(th_daemon_start(&d, NULL));
	cli_add_300(&d);
	/* Neither stdout nor stderr is a terminal: a script's view. */
	CLI_RUN(&r, d.sock, NULL, 0, "range", "2012", "2012");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 100);
	cli_lines_free(v, n);
	T_EQ_STR(r.err, more);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "actor", "RUS", "--limit", "5");
	T_EQ_STR(r.err, "annals: more than 5 events; use --limit N or --all "
	    "to see more\n");
	cli_run_free(&r);
	/* Exactly as many as the limit: nothing was cut. */
	CLI_RUN(&r, d.sock, NULL, 0, "actor", "RUS", "--limit", "100");
	T_EQ_STR(r.err, "");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "range", "2012", "2012", "--all");
	T_EQ_STR(r.err, "");
	cli_run_free(&r);

	/* --complete makes the cut an error of its own, 5. */
	CLI_RUN(&r, d.sock, NULL, 5, "--complete", "range", "2012", "2012");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 100);
	cli_lines_free(v, n);
	T_EQ_STR(r.err, more);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--complete", "range", "2012", "2012",
	    "--limit", "300");
	cli_run_free(&r);

	/* The notice follows the table, even with stdout buffered. */
	cli_merge_stderr = 1;
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "range", "2012",
	    "2012");
	cli_merge_stderr = 0;
	T_ASSERTF(strncmp(r.out, " ID  ?  START", 13) == 0, "%.200s", r.out);
	T_ASSERT((nl = strstr(r.out, more)) != NULL);
	T_EQ_STR(nl, more);
	cli_run_free(&r);

	/* top and co-actors: the actors past --limit. */
	CLI_RUN(&r, d.sock, NULL, 0, "top", "2012", "2012", "--limit", "2");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 2);
	cli_lines_free(v, n);
	T_EQ_STR(r.err, "annals: more than 2 actors; use --limit N to see "
	    "more\n");
	cli_run_free(&r);
	cli_merge_stderr = 1;
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "top", "2012",
	    "2012", "--limit", "1");
	cli_merge_stderr = 0;
	T_ASSERTF(strncmp(r.out, "ACTOR", 5) == 0, "%s", r.out);
	T_ASSERTF((nl = strstr(r.out, "annals: more")) != NULL &&
	    strchr(nl, '\n')[1] == '\0', "%s", r.out);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "top", "2012", "2012", "--limit", "7");
	T_EQ_STR(r.err, "");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 5, "--complete", "co-actors", "RUS", "2012",
	    "2012", "--limit", "3");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 3);
	cli_lines_free(v, n);
	T_EQ_STR(r.err, "annals: more than 3 actors; use --limit N to see "
	    "more\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "co-actors", "RUS", "2012", "2012",
	    "--limit", "4");
	T_EQ_STR(r.err, "");
	cli_run_free(&r);

	/* changes: the log goes on past --limit. */
	CLI_RUN(&r, d.sock, NULL, 5, "--complete", "changes", "--limit",
	    "10");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 10);
	cli_lines_free(v, n);
	T_EQ_STR(r.err, "annals: more than 10 changes; use --limit N or "
	    "--since SEQ to see more\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "changes", "--since", "290", "--limit",
	    "10");
	T_EQ_STR(r.err, "");
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* A count of one is said in the singular: "1 event in 1 bucket". */
TEST(cli_counts_of_one_are_singular)
{
	struct th_daemon	 d;
	struct cli_run		 r;
	char			*p;

	T_OK(th_daemon_start(&d, NULL));
	CLI_RUN(&r, d.sock, NULL, 0, "add", "--start", "2015-03", "--actor",
	    "RUS", "--actor", "SYR", "--title", "one");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "histogram", "2015",
	    "2015", "--by", "year");
	T_ASSERTF((p = strstr(r.out, "\n1 event")) != NULL, "%s", r.out);
	T_EQ_STR(p, "\n1 event in 1 bucket\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "histogram", "2016",
	    "2017", "--by", "year");
	T_ASSERTF((p = strstr(r.out, "\n0 events")) != NULL, "%s", r.out);
	T_EQ_STR(p, "\n0 events in 2 buckets\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "co-actors", "SYR",
	    "2015", "2015");
	T_ASSERTF(strstr(r.out, "\n(of 1 event of the actor)\n") != NULL,
	    "%s", r.out);
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "add", "--start", "2015-04", "--actor",
	    "RUS", "--title", "two");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "range", "2015", "2015", "--limit", "1");
	T_EQ_STR(r.err, "annals: more than 1 event; use --limit N or --all "
	    "to see more\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "top", "2015", "2015", "--limit", "1");
	T_EQ_STR(r.err, "annals: more than 1 actor; use --limit N to see "
	    "more\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "changes", "--limit", "1");
	T_EQ_STR(r.err, "annals: more than 1 change; use --limit N or "
	    "--since SEQ to see more\n");
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, "hello\n", 4, "import", "-");
	T_ASSERTF(strstr(r.err, "first line (1 column); use --format\n") !=
	    NULL, "%s", r.err);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, "x\n", 1, "import", "--format", "gdelt", "-");
	T_ASSERTF(strstr(r.err, "annals: stdin:1: 1 column, expected 57") !=
	    NULL && strstr(r.err, ", rejected 1 (1 row in ") != NULL, "%s",
	    r.err);
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(cli_global_options_after_the_command)
{
	struct th_daemon	 d;
	struct cli_run		 r;
	json_t			**v;
	size_t			 n;
	char			 eq[160];

	T_OK(th_daemon_start(&d, NULL));
	cli_add_300(&d);
	/* annals(1) EXAMPLES: the format after the command's options. */
	CLI_RUN(&r, d.sock, NULL, 0, "actor", "RU*", "--certain", "--all",
	    "--format", "jsonl");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 200);
	cli_lines_free(v, n);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "range", "2012", "2012", "--format=csv",
	    "--limit", "2");
	T_ASSERTF(strncmp(r.out, "id,rev,", 7) == 0, "%s", r.out);
	cli_run_free(&r);
	/* The socket after the command, in each spelling. */
	CLI_RUN(&r, NULL, NULL, 0, "--format", "jsonl", "ping", "-s", d.sock);
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 0, "ping", "--format", "jsonl",
	    "--socket", d.sock);
	cli_run_free(&r);
	snprintf(eq, sizeof eq, "--socket=%s", d.sock);
	CLI_RUN(&r, NULL, NULL, 0, "stats", eq);
	cli_run_free(&r);
	snprintf(eq, sizeof eq, "-s%s", d.sock);
	CLI_RUN(&r, NULL, NULL, 5, "top", "2012", "2012", "--limit", "1", eq,
	    "--complete");
	cli_run_free(&r);
	/* A command's own option of that name stays its own. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "export", "--format",
	    "jsonl", "2012-01-01", "2012-01-01");
	v = cli_lines(r.out, &n);
	T_ASSERT(n > 0);
	cli_lines_free(v, n);
	cli_run_free(&r);
	/* So does the value of one of its options. */
	CLI_RUN(&r, d.sock, NULL, 0, "add", "--start", "2013", "--actor",
	    "A", "--title", "-s", "--format", "jsonl");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "range", "2013", "2013", "--format",
	    "jsonl");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 1);
	T_EQ_STR(cli_str(v[0], "title"), "-s");
	cli_lines_free(v, n);
	cli_run_free(&r);
	/* After "--" nothing is an option. */
	CLI_RUN(&r, d.sock, NULL, 2, "get", "--", "--format");
	T_ASSERTF(strstr(r.err, "--format: not an event id") != NULL, "%s",
	    r.err);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 2, "ping", "--format");
	T_EQ_STR(r.err, "annals: --format needs a value\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 2, "ping", "--format", "xml");
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "ping", "-s", "/x", "-H", "h:1");
	T_ASSERTF(strstr(r.err, "exclude each other") != NULL, "%s", r.err);
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(cli_an_empty_result_says_so_in_a_table)
{
	struct th_daemon	 d;
	struct cli_run		 r;

	T_OK(th_daemon_start(&d, NULL));
	/* A table keeps its header and says "no events"... */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "range", "2012",
	    "2012");
	T_EQ_STR(r.out, "ID  ?  START  END  ACTORS  TYPE  TITLE\n"
	    "no events\n");
	cli_run_free(&r);
	/* ...CSV is its header alone, JSON lines are no line at all. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "actor", "X");
	T_EQ_STR(r.out, "id,rev,created,updated,source,key,start,end,actors,"
	    "type,title,text,place,country,lat,lon,urls,tags,attrs,match\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "2012",
	    "2012");
	T_EQ_STR(r.out, "");
	T_EQ_STR(r.err, "");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "export");
	T_ASSERTF(strncmp(r.out, "id,rev,", 7) == 0 &&
	    strchr(r.out, '\n')[1] == '\0', "%s", r.out);
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "actors");
	T_EQ_STR(r.out, "    EVENTS  ACTOR\nno actors\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "actors");
	T_EQ_STR(r.out, "name,count\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "top", "2012",
	    "2012");
	T_EQ_STR(r.out, "ACTOR  EVENTS\nno actors\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "changes");
	T_EQ_STR(r.out, "       SEQ  OP              ID  START                 "
	    "    TITLE\nno changes\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "changes");
	T_ASSERTF(strncmp(r.out, "seq,op,id,rev,", 14) == 0 &&
	    strchr(r.out, '\n')[1] == '\0', "%s", r.out);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "changes");
	T_EQ_STR(r.out, "");
	cli_run_free(&r);

	/* The actors table has its header when it has actors too. */
	CLI_RUN(&r, d.sock, NULL, 0, "add", "--start", "2012", "--actor",
	    "SYR", "--title", "t");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "actors");
	T_EQ_STR(r.out, "    EVENTS  ACTOR\n         1  SYR  Syria\n");
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(cli_add_and_rm_say_what_they_did)
{
	struct th_daemon	 d;
	struct cli_run		 r;
	json_t			**v;
	size_t			 n;

	T_OK(th_daemon_start(&d, NULL));
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "add", "--start",
	    "2015", "--actor", "A", "--title", "one", "--source", "cli",
	    "--key", "k1");
	T_EQ_STR(r.out, "added 1 (rev 1)\n");
	cli_run_free(&r);
	/* The same event again: the same id, and it says so. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "add", "--start",
	    "2015", "--actor", "A", "--title", "one", "--source", "cli",
	    "--key", "k1");
	T_EQ_STR(r.out, "unchanged 1 (rev 1)\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "add", "--start", "2015", "--actor", "A",
	    "--title", "two", "--source", "cli", "--key", "k1");
	T_EQ_STR(r.out, "{\"id\":1,\"rev\":2,\"status\":\"updated\"}\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, "{\"start\": \"2016\", \"actors\": [\"B\"]}\n"
	    "{\"start\": \"2015\", \"actors\": [\"A\"], \"title\": \"two\", "
	    "\"source\": \"cli\", \"key\": \"k1\"}\n", 0, "--format", "table",
	    "add", "-");
	T_EQ_STR(r.out, "added 2 (rev 1)\nunchanged 1 (rev 2)\n");
	cli_run_free(&r);

	/* rm: what was deleted on stdout, what was not found on stderr. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "rm", "2");
	T_EQ_STR(r.out, "deleted 2\n");
	T_EQ_STR(r.err, "");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 1, "--format", "table", "rm", "7", "1");
	T_EQ_STR(r.out, "deleted 1\n");
	T_EQ_STR(r.err, "annals: event 7 not found\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 1, "rm", "1", "9");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 2);
	T_EQ_INT(json_integer_value(json_object_get(v[0], "id")), 1);
	T_ASSERT(json_is_false(json_object_get(v[0], "deleted")));
	T_ASSERT(json_is_false(json_object_get(v[1], "deleted")));
	cli_lines_free(v, n);
	T_EQ_STR(r.err, "annals: event 1 not found\nannals: event 9 not "
	    "found\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, "{\"start\": \"2016\", \"actors\": [\"B\"]}\n",
	    0, "add", "-");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 1, "--format", "csv", "rm", "3", "4");
	T_EQ_STR(r.out, "id,deleted\n3,true\n4,false\n");
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(cli_usage_errors_are_short_and_name_annals)
{
	struct cli_run	r;

	/* A typo gets the nearest command, not 40 lines of usage. */
	CLI_RUN(&r, NULL, NULL, 2, "stat");
	T_EQ_STR(r.err, "annals: unknown command \"stat\"; did you mean "
	    "stats?\n");
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "co-actor", "X", "2015", "2015");
	T_EQ_STR(r.err, "annals: unknown command \"co-actor\"; did you mean "
	    "co-actors?\n");
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "xyzzy");
	T_EQ_STR(r.err, "annals: unknown command \"xyzzy\"; annals --help "
	    "lists the commands\n");
	cli_run_free(&r);
	/* getopt's own messages start "annals COMMAND:", not "COMMAND:". */
	CLI_RUN(&r, NULL, NULL, 2, "range", "2015", "2015", "--bogus");
	T_ASSERTF(strncmp(r.err, "annals range: unrecognized option "
	    "'--bogus'\n", 44) == 0, "%s", r.err);
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "top", "2015", "2015", "--limit");
	T_ASSERTF(strncmp(r.err, "annals top: option '--limit' requires an "
	    "argument\n", 50) == 0, "%s", r.err);
	cli_run_free(&r);
	/* One message from getopt, then the usage, for every command. */
	CLI_RUN(&r, NULL, NULL, 2, "actors", "--zz");
	T_EQ_STR(r.err, "annals actors: unrecognized option '--zz'\n"
	    "usage: annals actors [PREFIX]\n");
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "stats", "--zz");
	T_EQ_STR(r.err, "annals stats: unrecognized option '--zz'\n"
	    "usage: annals stats\n");
	cli_run_free(&r);
	/* --help names what the man page names. */
	CLI_RUN(&r, NULL, NULL, 0, "--help");
	T_ASSERTF(strstr(r.out, "--token-file FILE") != NULL, "%s", r.out);
	T_ASSERTF(strstr(r.out, "ANNALS_TOKEN") != NULL, "%s", r.out);
	T_ASSERTF(strstr(r.out, "--complete") != NULL, "%s", r.out);
	cli_run_free(&r);
}

/*
 * annals help is annals --help, and annals help CMD is annals CMD --help,
 * for every command --help lists; an unknown CMD is an unknown command.
 */
TEST(cli_help_command_is_help)
{
	struct cli_run	 r, h;
	char		*list, *p, *nl, name[64];
	int		 n = 0;

	CLI_RUN(&h, NULL, NULL, 0, "--help");
	CLI_RUN(&r, NULL, NULL, 0, "help");
	T_EQ_STR(r.out, h.out);
	T_EQ_STR(r.err, "");
	cli_run_free(&r);
	T_ASSERT((list = strdup(h.out)) != NULL);
	cli_run_free(&h);
	for (p = list; (p = strstr(p, "\n  annals ")) != NULL; p = nl) {
		p += 10;
		nl = p + strcspn(p, " \n");
		snprintf(name, sizeof name, "%.*s", (int)(nl - p), p);
		CLI_RUN(&h, NULL, NULL, 0, name, "--help");
		CLI_RUN(&r, NULL, NULL, 0, "help", name);
		T_ASSERTF(strncmp(r.out, "usage: annals ", 14) == 0, "%s: %s",
		    name, r.out);
		T_EQ_STR(r.out, h.out);
		cli_run_free(&r);
		cli_run_free(&h);
		n++;
	}
	free(list);
	T_ASSERTF(n > 20, "%d commands", n);

	CLI_RUN(&r, NULL, NULL, 2, "help", "stat");
	T_EQ_STR(r.err, "annals: unknown command \"stat\"; did you mean "
	    "stats?\n");
	T_EQ_STR(r.out, "");
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "help", "xyzzy");
	T_EQ_STR(r.err, "annals: unknown command \"xyzzy\"; annals --help "
	    "lists the commands\n");
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "help", "range", "actor");
	T_EQ_STR(r.err, "annals: unexpected argument \"actor\"\n"
	    "usage: annals help [COMMAND]\n");
	cli_run_free(&r);
}

/*
 * A mistyped long option gets the nearest option of the command, or a
 * global one, as a mistyped command does; getopt's message and the usage
 * stay for one near nothing.  No daemon is needed: nothing is sent.
 */
TEST(cli_unknown_option_names_the_nearest)
{
	struct cli_run	r;

	CLI_RUN(&r, NULL, NULL, 2, "add", "--start", "2015", "--actor", "A",
	    "--titel", "t");
	T_EQ_STR(r.err, "annals: unknown option --titel; did you mean "
	    "--title?\n");
	T_EQ_STR(r.out, "");
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "range", "2015", "2015", "--limt=3");
	T_EQ_STR(r.err, "annals: unknown option --limt; did you mean "
	    "--limit?\n");
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "set", "1", "--add-actr", "X");
	T_EQ_STR(r.err, "annals: unknown option --add-actr; did you mean "
	    "--add-actor?\n");
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "histogram", "2015", "2015", "--bi",
	    "month");
	T_EQ_STR(r.err, "annals: unknown option --bi; did you mean --by?\n");
	cli_run_free(&r);
	/* A global option typed after the command. */
	CLI_RUN(&r, NULL, NULL, 2, "range", "2015", "2015", "--formt", "csv");
	T_EQ_STR(r.err, "annals: unknown option --formt; did you mean "
	    "--format?\n");
	cli_run_free(&r);
	/* The value of an option is not an option. */
	CLI_RUN(&r, NULL, NULL, 2, "add", "--start", "2015", "--title",
	    "--titel");
	T_ASSERTF(strstr(r.err, "--actor") != NULL &&
	    strstr(r.err, "did you mean") == NULL, "%s", r.err);
	cli_run_free(&r);
	/* Near nothing: as before. */
	CLI_RUN(&r, NULL, NULL, 2, "range", "2015", "2015", "--bogus");
	T_ASSERTF(strstr(r.err, "annals range: unrecognized option "
	    "'--bogus'\nusage: annals range ") == r.err, "%s", r.err);
	cli_run_free(&r);
	CLI_RUN(&r, NULL, NULL, 2, "actor-name", "--zz", "X");
	T_ASSERTF(strstr(r.err, "annals actor-name: unrecognized option "
	    "'--zz'\nusage: ") == r.err, "%s", r.err);
	cli_run_free(&r);
}

/* What annals says when "rus" found nothing and RUS has events. */
#define CLI_CASE_HINT	"annals: no events for actor \"rus\"; actor codes " \
			    "are case-sensitive: RUS has events\n"

/*
 * Start a daemon for the actor case hints: RUS (as host) and syr on
 * 2015-01-26, Bashar al-Assad in March 2015, and the alias Russia for
 * RUS during 2016 only, when RUS has no events.
 */
static void
cli_case_start(struct th_daemon *d)
{
	struct cli_run	r;

	T_OK(th_daemon_start(d, NULL));
	CLI_RUN(&r, d->sock, "{\"start\": \"2015-01-26\", \"actors\": "
	    "[{\"name\": \"RUS\", \"role\": \"host\"}, \"syr\"]}\n"
	    "{\"start\": \"2015-03\", \"actors\": [\"Bashar al-Assad\"]}\n",
	    0, "add", "-");
	cli_run_free(&r);
	CLI_RUN(&r, d->sock, NULL, 0, "alias", "set", "Russia", "RUS", "2016");
	cli_run_free(&r);
}

/*
 * Run annals ARGS (NULL-terminated) with each "@" in them replaced by
 * code, then by EGY, a code without events: both must exit 0 with the
 * same stdout, and code's run must print hint on stderr (NULL: nothing),
 * EGY's nothing.
 */
static void
cli_case_run(const char *sock, const char *code, const char *hint,
    const char **args)
{
	struct cli_run	 r, empty;
	const char	*argv[32], *want = hint != NULL ? hint : "";
	char		 line[512];
	size_t		 i, len = 0;

	for (i = 0; args[i] != NULL && i < 31; i++) {
		argv[i] = strcmp(args[i], "@") == 0 ? code : args[i];
		if (len < sizeof line)
			len += snprintf(line + len, sizeof line - len, " %s",
			    argv[i]);
	}
	argv[i] = NULL;
	cli_run(&r, sock, NULL, argv);
	for (i = 0; args[i] != NULL && i < 31; i++)
		argv[i] = strcmp(args[i], "@") == 0 ? "EGY" : args[i];
	cli_run(&empty, sock, NULL, argv);
	/* Which run failed, in the message: the helper's line is no clue. */
	T_ASSERTF(r.status == 0 && empty.status == 0, "annals%s: exit %d, "
	    "with EGY %d; stderr: %s", line, r.status, empty.status, r.err);
	T_ASSERTF(strcmp(r.out, empty.out) == 0, "annals%s: stdout\n%s\n"
	    "with EGY\n%s", line, r.out, empty.out);
	T_ASSERTF(strcmp(r.err, want) == 0, "annals%s: stderr \"%s\", "
	    "wanted \"%s\"", line, r.err, want);
	T_EQ_STR(empty.err, "");
	cli_run_free(&r);
	cli_run_free(&empty);
}

/* cli_case_run() with ARGS in the call. */
#define CLI_CASE(sock, code, hint, ...) do {				\
	const char *cli_case_args_[] = { __VA_ARGS__, NULL };		\
	cli_case_run((sock), (code), (hint), cli_case_args_);		\
} while (0)

/* What top and actors say when "ru" found no actor and RU finds some. */
#define CLI_CASE_PREFIX_HINT	"annals: no actors starting with \"ru\"; " \
				    "actor codes are case-sensitive: some " \
				    "start with RU\n"

/*
 * Run annals ARGS, an answer that is not empty: it must exit 0, print
 * out among its stdout and nothing, no hint, on stderr.
 */
static void
cli_case_found(const char *sock, const char *out, const char **args)
{
	struct cli_run	r;

	cli_run(&r, sock, NULL, args);
	T_ASSERTF(r.status == 0, "exit %d; stderr: %s", r.status, r.err);
	T_ASSERTF(strstr(r.out, out) != NULL, "%s not in %s", out, r.out);
	T_EQ_STR(r.err, "");
	cli_run_free(&r);
}

/* cli_case_found() with ARGS in the call. */
#define CLI_CASE_FOUND(sock, out, ...) do {				\
	const char *cli_case_args_[] = { __VA_ARGS__, NULL };		\
	cli_case_found((sock), (out), cli_case_args_);			\
} while (0)

/*
 * Actor codes are case-sensitive: an actor query by "rus" that finds
 * nothing says on stderr that RUS has events, when the same query for
 * RUS finds some; stdout and the exit status stay an empty result's.
 */
TEST(cli_actor_in_lower_case_hints_at_the_upper_case_code)
{
	static const char	*hint = CLI_CASE_HINT;
	struct th_daemon	 d;
	struct cli_run		 r;

	cli_case_start(&d);

	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "actor", "rus");
	T_EQ_STR(r.out, "");
	T_EQ_STR(r.err, hint);
	cli_run_free(&r);
	/* The table's "no events" first, then the hint. */
	cli_merge_stderr = 1;
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "actor", "rus",
	    "2015");
	cli_merge_stderr = 0;
	T_ASSERTF(strstr(r.out, "no events\n") != NULL &&
	    strcmp(strstr(r.out, "no events\n") + 10, hint) == 0, "%s", r.out);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "range", "2015",
	    "2015", "--actor", "rus", "--role", "host");
	T_EQ_STR(r.err, hint);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "actor", "ru*");
	T_EQ_STR(r.err, "annals: no events for actor \"ru*\"; actor codes "
	    "are case-sensitive: RU* has events\n");
	cli_run_free(&r);
	/* The upper-cased query finds nothing either: no hint. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "actor", "rus",
	    "2016");
	T_EQ_STR(r.err, "");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "actor", "rus",
	    "--role", "guest");
	T_EQ_STR(r.err, "");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "actor",
	    "bashar al-assad");
	T_EQ_STR(r.err, "");
	cli_run_free(&r);
	/* A lower-case code that has events, and an upper-case one. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "actor", "syr");
	T_ASSERTF(strstr(r.out, "\"syr\"") != NULL, "%s", r.out);
	T_EQ_STR(r.err, "");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "actor", "EGY");
	T_EQ_STR(r.out, "");
	T_EQ_STR(r.err, "");
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * export --actor rus that exports nothing says that RUS has events, in
 * every format, as actor does; its output is an empty export's.
 */
TEST(cli_export_in_lower_case_hints_at_the_upper_case_code)
{
	struct th_daemon	d;

	cli_case_start(&d);
	CLI_CASE(d.sock, "rus", CLI_CASE_HINT, "export", "--actor", "@");
	CLI_CASE(d.sock, "rus", CLI_CASE_HINT, "--format", "csv", "export",
	    "2015", "2015", "--actor", "@", "--role", "host");
	CLI_CASE(d.sock, "rus", CLI_CASE_HINT, "export", "--format",
	    "timelinejs", "--actor", "@");
	/* RUS exports nothing either: no hint. */
	CLI_CASE(d.sock, "rus", NULL, "export", "2016", "2016", "--actor",
	    "@");
	CLI_CASE(d.sock, "rus", NULL, "export", "--actor", "@", "--role",
	    "guest");
	/* Nor for an alias that found nothing (RUSSIA is nothing). */
	CLI_CASE(d.sock, "Russia", NULL, "export", "--actor", "@");
	CLI_CASE_FOUND(d.sock, "\"syr\"", "export", "--actor", "syr");
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * histogram --actor rus that counts nothing says that RUS has events
 * when the histogram of RUS counts some, by overlap or by start; its
 * buckets and total are an empty histogram's.
 */
TEST(cli_histogram_in_lower_case_hints_at_the_upper_case_code)
{
	struct th_daemon	d;
	struct cli_run		r;

	cli_case_start(&d);
	/* RUS across the new year: in January by overlap, not by start. */
	CLI_RUN(&r, d.sock, "{\"start\": \"2014-12-30\", \"end\": "
	    "\"2015-01-02\", \"actors\": [\"RUS\"]}\n", 0, "add", "-");
	cli_run_free(&r);
	CLI_CASE(d.sock, "rus", CLI_CASE_HINT, "--format", "table",
	    "histogram", "2015", "2015", "--actor", "@");
	CLI_CASE(d.sock, "rus", CLI_CASE_HINT, "--format", "csv",
	    "histogram", "2015-01", "2015-01", "--by", "day", "--actor", "@",
	    "--role", "host");
	CLI_CASE(d.sock, "rus", CLI_CASE_HINT, "--format", "jsonl",
	    "histogram", "2015-01-01", "2015-01-10", "--actor", "@");
	CLI_CASE(d.sock, "rus", NULL, "--format", "jsonl", "histogram",
	    "2015-01-01", "2015-01-10", "--count", "start", "--actor", "@");
	CLI_CASE(d.sock, "rus", CLI_CASE_HINT, "--format", "jsonl",
	    "histogram", "2015", "2015", "--count", "start", "--actor", "@");
	/* RUS counts nothing either: no hint. */
	CLI_CASE(d.sock, "rus", NULL, "histogram", "2016", "2016", "--actor",
	    "@");
	CLI_CASE(d.sock, "rus", NULL, "histogram", "2015", "2015", "--actor",
	    "@", "--role", "guest");
	CLI_CASE(d.sock, "Russia", NULL, "histogram", "2015", "2016",
	    "--actor", "@");
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * co-actors rus with no events of rus says that RUS has events when
 * co-actors RUS would count some; its output is that of an actor without
 * events ("(of 0 events of the actor)").
 */
TEST(cli_co_actors_in_lower_case_hints_at_the_upper_case_code)
{
	struct th_daemon	d;

	cli_case_start(&d);
	CLI_CASE(d.sock, "rus", CLI_CASE_HINT, "--format", "table",
	    "co-actors", "@", "2015", "2015");
	CLI_CASE(d.sock, "rus", CLI_CASE_HINT, "--format", "csv",
	    "co-actors", "@", "2015-01", "2015-01", "--role", "host");
	CLI_CASE(d.sock, "rus", CLI_CASE_HINT, "--format", "jsonl",
	    "co-actors", "@", "2015", "2015", "--limit", "1");
	/* RUS has no such events either: no hint. */
	CLI_CASE(d.sock, "rus", NULL, "co-actors", "@", "2016", "2016");
	CLI_CASE(d.sock, "rus", NULL, "co-actors", "@", "2015", "2015",
	    "--role", "guest");
	CLI_CASE(d.sock, "Russia", NULL, "co-actors", "@", "2015", "2016");
	/* syr has events, which RUS shares: no hint. */
	CLI_CASE_FOUND(d.sock, "{\"name\":\"RUS\",\"count\":1,\"events\":1}\n",
	    "--format", "jsonl", "co-actors", "syr", "2015", "2015");
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * top --prefix ru that finds no actor says that some start with RU when
 * top --prefix RU finds some; its output is an empty top's.
 */
TEST(cli_top_prefix_in_lower_case_hints_at_the_upper_case_prefix)
{
	static const char	*hint = CLI_CASE_PREFIX_HINT;
	struct th_daemon	 d;
	struct cli_run		 r;

	cli_case_start(&d);
	CLI_CASE(d.sock, "ru", hint, "--format", "table", "top", "2015",
	    "2015", "--prefix", "@");
	CLI_CASE(d.sock, "ru", hint, "--format", "csv", "top", "2015-01",
	    "2015-01", "--prefix", "@", "--limit", "1");
	CLI_CASE(d.sock, "ru", hint, "--format", "jsonl", "top", "..", "..",
	    "--prefix", "@", "--certain");
	/* No actor starts with RU there either: no hint. */
	CLI_CASE(d.sock, "ru", NULL, "top", "2016", "2016", "--prefix", "@");
	CLI_CASE(d.sock, "ru", NULL, "top", "2015", "2015", "--prefix", "@",
	    "--type", "0");
	CLI_CASE(d.sock, "Russia", NULL, "top", "2015", "2015", "--prefix",
	    "@");
	/* Without a prefix top asks for no actor. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "top", "2016",
	    "2016");
	T_EQ_STR(r.out, "");
	T_EQ_STR(r.err, "");
	cli_run_free(&r);
	CLI_CASE_FOUND(d.sock, "{\"name\":\"syr\",\"count\":1}\n", "--format",
	    "jsonl", "top", "2015", "2015", "--prefix", "sy");
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * actors ru that lists no name says that some start with RU when actors
 * RU lists some; its output is an empty list's.
 */
TEST(cli_actors_prefix_in_lower_case_hints_at_the_upper_case_prefix)
{
	static const char	*hint = CLI_CASE_PREFIX_HINT;
	struct th_daemon	 d;

	cli_case_start(&d);
	CLI_CASE(d.sock, "ru", hint, "--format", "table", "actors", "@");
	CLI_CASE(d.sock, "ru", hint, "--format", "csv", "actors", "@");
	CLI_CASE(d.sock, "ru", hint, "--format", "jsonl", "actors", "@");
	/* No name starts with RUSSIA, nor with ZZ: no hint. */
	CLI_CASE(d.sock, "Russia", NULL, "actors", "@");
	CLI_CASE(d.sock, "zz", NULL, "actors", "@");
	/* A lower-case prefix that lists a name, syr. */
	CLI_CASE_FOUND(d.sock, "name,count\nsyr,1\n", "--format", "csv",
	    "actors", "s");
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * NAME:ROLE is split at the first colon: "A::" would store the role ":"
 * and "A:" no role at all, so add and set refuse both, naming the
 * argument.  JSON input carries roles as they are, colons and all.
 */
TEST(cli_actor_role_must_not_be_empty_or_hold_a_colon)
{
	struct th_daemon	 d;
	struct cli_run		 r;
	json_t			**v, *a;
	size_t			 n;

	T_OK(th_daemon_start(&d, NULL));
	CLI_RUN(&r, d.sock, NULL, 2, "add", "--start", "2015", "--actor",
	    "A::", "--title", "t");
	T_ASSERTF(strstr(r.err, "annals: --actor \"A::\": a role must not "
	    "be empty or hold ':'\nusage: annals add ") == r.err, "%s", r.err);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 2, "add", "--start", "2015", "--actor", "B",
	    "--actor", "A:", "--title", "t");
	T_ASSERTF(strstr(r.err, "annals: --actor \"A:\": a role must not be "
	    "empty or hold ':'\n") == r.err, "%s", r.err);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 2, "add", "--start", "2015", "--actor",
	    "A:src:x", "--title", "t");
	T_ASSERTF(strstr(r.err, "annals: --actor \"A:src:x\": a role ") ==
	    r.err, "%s", r.err);
	cli_run_free(&r);
	/* Nothing was stored. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "..",
	    "..");
	T_EQ_STR(r.out, "");
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "add", "--start", "2015", "--actor",
	    "A:src", "--title", "t");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 2, "set", "1", "--add-actor", "B::");
	T_ASSERTF(strstr(r.err, "annals: --add-actor \"B::\": a role must "
	    "not be empty or hold ':'\nusage: annals set ") == r.err, "%s",
	    r.err);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 2, "set", "1", "--rm-actor", "A:");
	T_ASSERTF(strstr(r.err, "annals: --rm-actor \"A:\": a role must "
	    "not be empty or hold ':'\n") == r.err, "%s", r.err);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "set", "1", "--add-actor", "B:dst");
	cli_run_free(&r);

	/* JSON input: the role as given. */
	CLI_RUN(&r, d.sock, "{\"start\": \"2016\", \"actors\": [{\"name\": "
	    "\"C\", \"role\": \"a:b\"}]}\n", 0, "add", "-");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "range", "..",
	    "..");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 2);
	a = json_object_get(v[0], "actors");
	T_EQ_INT(json_array_size(a), 2);
	T_EQ_STR(cli_str(json_array_get(a, 0), "role"), "src");
	T_EQ_STR(cli_str(json_array_get(a, 1), "role"), "dst");
	T_EQ_STR(cli_str(json_array_get(json_object_get(v[1], "actors"), 0),
	    "role"), "a:b");
	cli_lines_free(v, n);
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * actor CODE FROM, without TO, runs from FROM with no end, as TO ".."
 * would: what an event that began earlier but lasts into FROM, and a
 * fuzzy one, show; range refuses one date.  --help says so.
 */
TEST(cli_actor_with_from_alone_has_no_end)
{
	struct th_daemon	 d;
	struct cli_run		 r, open;

	CLI_RUN(&r, NULL, NULL, 0, "--help");
	T_ASSERTF(strstr(r.out, "\nactor CODE FROM, without TO, takes TO as "
	    ".. (open): the events that\noverlap FROM or come after it.") !=
	    NULL, "%s", r.out);
	cli_run_free(&r);

	T_OK(th_daemon_start(&d, NULL));
	CLI_RUN(&r, d.sock, "{\"start\": \"2014-06\", \"actors\": [\"A\"], "
	    "\"title\": \"before\"}\n"
	    "{\"start\": \"2014-11\", \"end\": \"2015-02\", \"actors\": "
	    "[\"A\"], \"title\": \"into\"}\n"
	    "{\"start\": \"2015-03\", \"actors\": [\"A\"], \"title\": "
	    "\"march\"}\n"
	    "{\"start\": \"2016\", \"actors\": [\"A\"], \"title\": "
	    "\"later\"}\n"
	    "{\"start\": \"2014~\", \"actors\": [\"A\"], \"title\": "
	    "\"fuzzy\"}\n", 0, "add", "-");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "actor", "A", "2015",
	    "--fields", "title");
	T_ASSERTF(strstr(r.out, ",into,") != NULL &&
	    strstr(r.out, ",march,") != NULL &&
	    strstr(r.out, ",later,") != NULL &&
	    strstr(r.out, ",fuzzy,") != NULL &&
	    strstr(r.out, ",before,") == NULL, "%s", r.out);
	CLI_RUN(&open, d.sock, NULL, 0, "--format", "csv", "actor", "A",
	    "2015", "..", "--fields", "title");
	T_EQ_STR(r.out, open.out);
	cli_run_free(&open);
	CLI_RUN(&open, d.sock, NULL, 0, "--format", "csv", "range", "2015",
	    "..", "--actor", "A", "--fields", "title");
	T_EQ_STR(r.out, open.out);
	cli_run_free(&open);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "actor", "A",
	    "2015-03", "--fields", "title");
	T_ASSERTF(strstr(r.out, ",into,") == NULL &&
	    strstr(r.out, ",march,") != NULL, "%s", r.out);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 2, "range", "2015", "--actor", "A");
	T_ASSERTF(strstr(r.err, "annals: expected FROM and TO\n") == r.err,
	    "%s", r.err);
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(cli_errors_name_the_options_and_their_values)
{
	struct th_daemon	 d;
	struct cli_run		 r;

	T_OK(th_daemon_start(&d, NULL));
	/* Not the wire's "actors[0]: name: must not be empty". */
	CLI_RUN(&r, d.sock, NULL, 4, "add", "--start", "2015", "--actor",
	    "A", "--actor", ":src", "--title", "t");
	T_EQ_STR(r.err, "annals: --actor \":src\": name: must not be empty\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 4, "add", "--start", "2015", "--end",
	    "2014-06", "--actor", "A", "--title", "t");
	T_EQ_STR(r.err, "annals: --end 2014-06 is before --start 2015\n");
	cli_run_free(&r);
	/* Not "to before from": the command's own FROM and TO. */
	CLI_RUN(&r, d.sock, NULL, 4, "range", "2015", "2014");
	T_EQ_STR(r.err, "annals: TO 2014 is before FROM 2015\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 4, "histogram", "2015-03", "2015-01");
	T_EQ_STR(r.err, "annals: TO 2015-01 is before FROM 2015-03\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 4, "export", "2015", "2014");
	T_EQ_STR(r.err, "annals: TO 2014 is before FROM 2015\n");
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(cli_ping_and_co_actors_as_json_lines)
{
	struct th_daemon	 d;
	struct cli_run		 r;
	json_t			**v;
	size_t			 i, n;

	T_OK(th_daemon_start(&d, NULL));
	cli_add_300(&d);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "ping");
	T_EQ_STR(r.out, "{\"pong\":true}\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "ping");
	T_EQ_STR(r.out, "pong\n");
	cli_run_free(&r);
	/* The actor's own events, which the table prints under it. */
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "co-actors", "RUS",
	    "2012", "2012", "--limit", "4");
	v = cli_lines(r.out, &n);
	T_EQ_INT(n, 4);
	for (i = 0; i < n; i++)
		T_EQ_INT(json_integer_value(json_object_get(v[i], "events")),
		    100);
	cli_lines_free(v, n);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "co-actors", "RUS",
	    "2012", "2012", "--limit", "4");
	T_ASSERTF(strncmp(r.out, "name,count,events\nX", 19) == 0 &&
	    strstr(r.out, ",100\n") != NULL, "%s", r.out);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "jsonl", "top", "2012",
	    "2012", "--limit", "1");
	T_ASSERTF(strstr(r.out, "\"events\"") == NULL, "%s", r.out);
	cli_run_free(&r);
	T_EQ_INT(th_daemon_stop(&d), 0);
}
