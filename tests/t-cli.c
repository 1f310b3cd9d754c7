/*
 * annals(1), the built binary, run against the real daemon: what each
 * command prints, JSON lines parsed and checked, and the exit statuses
 * for usage errors, missing events and a missing daemon.
 */
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

/* What one run of annals printed. */
struct cli_run {
	int	 status;	/* exit status, or 128 + signal */
	char	*out;
	char	*err;
};

static char *
cli_slurp(const char *path)
{
	FILE	*fp;
	char	*buf;
	long	 len;

	T_ASSERT((fp = fopen(path, "r")) != NULL);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	T_ASSERT((buf = malloc(len + 1)) != NULL);
	T_EQ_INT(fread(buf, 1, len, fp), len);
	buf[len] = '\0';
	fclose(fp);
	return (buf);
}

/*
 * Run build/annals with args (NULL-terminated) and input on stdin,
 * against sock when not NULL.  Output is captured through files so that
 * a large output cannot block the child.
 */
static void
cli_run(struct cli_run *r, const char *sock, const char *input,
    const char **args)
{
	posix_spawn_file_actions_t	 fa;
	const char			*argv[64];
	char				 bin[4200], in[256], out[256], err[256];
	pid_t				 pid;
	FILE				*fp;
	int				 i = 0, status;

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
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in, O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out,
	    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err,
	    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	T_EQ_INT(posix_spawn(&pid, bin, &fa, NULL, (char **)argv, environ),
	    0);
	posix_spawn_file_actions_destroy(&fa);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	r->status = WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
	r->out = cli_slurp(out);
	r->err = cli_slurp(err);
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
	T_ASSERT(sscanf(r.out, "%31[0-9]\n", id1) == 1);
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "add", "--start", "2015",
	    "--actor", "SYR", "--title", "Year only");
	T_ASSERT(sscanf(r.out, "%31[0-9]\n", id2) == 1);
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
	/* The daemon's complaint, as it gave it, exits 4. */
	CLI_RUN(&r, d.sock, NULL, 4, "add", "--start", "2015-02-30",
	    "--actor", "X", "--title", "t");
	T_EQ_STR(r.err, "annals: start: 2015-02-30 is not a date\n");
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
	CLI_RUN(&r, d.sock, input, 0, "add", "-");
	for (p = r.out, n = 0; *p != '\0'; n++) {
		id = strtoull(p, &p, 10);
		T_ASSERT(*p++ == '\n');
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
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, "{\"start\": \"2010\", \"actors\": [\"A\"]}\n"
	    "{\"start\": \"2010-02-30\", \"actors\": [\"A\"]}\n", 4, "add",
	    "-");
	T_EQ_STR(r.err, "annals: stdin:2: start: 2010-02-30 is not a date\n");
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
	T_EQ_STR(r.out, "{\"name\":\"RUM\",\"count\":100}\n"
	    "{\"name\":\"RUS\",\"count\":100}\n"
	    "{\"name\":\"SYR\",\"count\":100}\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "csv", "actors", "S");
	T_EQ_STR(r.out, "name,count\nSYR,100\n");
	cli_run_free(&r);

	CLI_RUN(&r, d.sock, NULL, 0, "ping");
	T_EQ_STR(r.out, "pong\n");
	cli_run_free(&r);
	CLI_RUN(&r, d.sock, NULL, 0, "--format", "table", "stats");
	T_ASSERTF(strstr(r.out, "events") != NULL && strstr(r.out, "300"),
	    "%s", r.out);
	cli_run_free(&r);
	free(input);
	T_EQ_INT(th_daemon_stop(&d), 0);
}
