/*
 * annals edit and annals set against the real daemon.  The editor is a
 * shell command line in $EDITOR or $VISUAL that changes the file with
 * sed, or a script that also changes the event behind edit's back.
 * posix_openpt() and friends are XSI; -D_DEFAULT_SOURCE does not give
 * them.
 */
#define _XOPEN_SOURCE 700
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"
#include "test.h"

/* What annals adds after a refused date. */
#define ED_DATE_HINT	" (dates are EDTF: 2014-12-05, 2014-12, 2014, "	\
			    "2015-01-26/2015-01-29, 2014~)"

/* What one run printed. */
struct ed_run {
	int	status;
	char	out[4096];
	char	err[4096];
};

static void
ed_slurp(const char *path, char *buf, size_t size)
{
	FILE	*f;
	size_t	 n = 0;

	if ((f = fopen(path, "r")) != NULL) {
		n = fread(buf, 1, size - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
}

/*
 * Run annals -s SOCK ARGS (a shell command line) with stdin from
 * /dev/null, so that edit never asks whether to edit again; what it
 * prints is a table, as on a terminal, unless ARGS name a format.
 */
static void
ed_run(struct ed_run *r, const struct th_daemon *d, const char *args)
{
	char	cmd[2048], path[256];
	int	st;

	snprintf(cmd, sizeof cmd, "%s/annals -s %s %s%s < /dev/null > %s/out "
	    "2> %s/err", t_bindir(), d->sock, strncmp(args, "--format", 8) ?
	    "--format table " : "", args, t_dir(), t_dir());
	st = system(cmd);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	snprintf(path, sizeof path, "%s/out", t_dir());
	ed_slurp(path, r->out, sizeof r->out);
	snprintf(path, sizeof path, "%s/err", t_dir());
	ed_slurp(path, r->err, sizeof r->err);
	fprintf(stderr, "annals %s -> %d\n%s%s", args, r->status, r->out,
	    r->err);
}

#define ED_RUN(r, d, want, args) do {					\
	ed_run((r), (d), (args));					\
	T_ASSERTF((r)->status == (want), "exit %d, wanted %d",		\
	    (r)->status, (want));					\
} while (0)

/* The event as JSON, from annals get. */
static json_t *
ed_get(const struct th_daemon *d, const char *id)
{
	struct ed_run	r;
	json_error_t	jerr;
	json_t		*v;
	char		args[64];

	snprintf(args, sizeof args, "--format jsonl get %s", id);
	ED_RUN(&r, d, 0, args);
	v = json_loads(r.out, 0, &jerr);
	T_ASSERTF(v != NULL, "%s", jerr.text);
	return (v);
}

/* Whether have equals want, which this frees. */
static int
ed_same(json_t *have, json_t *want)
{
	int	same;

	T_ASSERT(want != NULL);
	same = json_equal(have, want);
	if (!same) {
		fprintf(stderr, "have: ");
		json_dumpf(have, stderr, JSON_COMPACT);
		fprintf(stderr, "\nwant: ");
		json_dumpf(want, stderr, JSON_COMPACT);
		fputc('\n', stderr);
	}
	json_decref(want);
	return (same);
}

static const char *
ed_str(json_t *o, const char *key)
{
	return (json_string_value(json_object_get(o, key)));
}

/* Start a daemon with one event; id gets its id.  $TMPDIR is t_dir()/tmp. */
static void
ed_start(struct th_daemon *d, char *id, size_t len)
{
	struct ed_run	r;
	char		tmp[256];

	snprintf(tmp, sizeof tmp, "%s/tmp", t_dir());
	T_OK(mkdir(tmp, 0700));
	T_OK(setenv("TMPDIR", tmp, 1));
	T_OK(unsetenv("VISUAL"));
	T_OK(unsetenv("EDITOR"));
	T_OK(th_daemon_start(d, NULL));
	ED_RUN(&r, d, 0, "add --start 2015 --actor SYR --actor RUS:host "
	    "--title 'Year only' --tag a --url https://example.org/1 "
	    "--attr n=1");
	T_ASSERTF(sscanf(r.out, "added %31[0-9] (rev 1)", id) == 1 &&
	    len >= 32, "%s", r.out);
}

/* The files edit left in $TMPDIR. */
static int
ed_kept(char *path, size_t len)
{
	DIR		*dir;
	struct dirent	*de;
	char		 tmp[256];
	int		 n = 0;

	snprintf(tmp, sizeof tmp, "%s/tmp", t_dir());
	T_ASSERT((dir = opendir(tmp)) != NULL);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, len, "%s/%s", tmp, de->d_name);
		n++;
	}
	closedir(dir);
	return (n);
}

/* Write an editor script into the test's directory; return its path. */
static const char *
ed_script(const char *body)
{
	static char	 path[256];
	FILE		*f;

	snprintf(path, sizeof path, "%s/editor.sh", t_dir());
	T_ASSERT((f = fopen(path, "w")) != NULL);
	fprintf(f, "#!/bin/sh\n%s", body);
	fclose(f);
	T_OK(chmod(path, 0755));
	return (path);
}

TEST(cli_edit_puts_the_edited_event_back)
{
	struct th_daemon	 d;
	struct ed_run		 r;
	json_t			*ev;
	char			 id[32], args[64], want[64], path[512];
	char			 seen[4096], script[1024];

	ed_start(&d, id, sizeof id);
	/* An editor with arguments, as "code -w" is, run by /bin/sh. */
	T_OK(setenv("EDITOR", "sed -i -e 's/\"Year only\"/\"Edited\"/'", 1));
	snprintf(args, sizeof args, "edit %s", id);
	ED_RUN(&r, &d, 0, args);
	snprintf(want, sizeof want, "updated %s (rev 2)\n", id);
	T_EQ_STR(r.out, want);
	T_EQ_STR(r.err, "");
	T_EQ_INT(ed_kept(path, sizeof path), 0);
	ev = ed_get(&d, id);
	T_EQ_STR(ed_str(ev, "title"), "Edited");
	T_EQ_INT(json_integer_value(json_object_get(ev, "rev")), 2);
	json_decref(ev);

	/* $VISUAL comes first; the file is the record, a field a line. */
	snprintf(script, sizeof script, "cp \"$1\" %s/seen\n"
	    "sed -i -e 's/\"Edited\"/\"Visual\"/' \"$1\"\n", t_dir());
	T_OK(setenv("VISUAL", ed_script(script), 1));
	T_OK(setenv("EDITOR", "false", 1));
	ED_RUN(&r, &d, 0, args);
	snprintf(want, sizeof want, "updated %s (rev 3)\n", id);
	T_EQ_STR(r.out, want);
	snprintf(path, sizeof path, "%s/seen", t_dir());
	ed_slurp(path, seen, sizeof seen);
	T_ASSERTF(strstr(seen, "\n  \"title\": \"Edited\",\n") != NULL, "%s",
	    seen);
	T_ASSERTF(strstr(seen, "\n    {\"name\": \"RUS\", \"role\": "
	    "\"host\"}\n") != NULL, "%s", seen);
	T_ASSERTF(strstr(seen, "\n    \"n\": 1\n") != NULL, "%s", seen);
	ev = ed_get(&d, id);
	T_EQ_STR(ed_str(ev, "title"), "Visual");
	json_decref(ev);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(cli_edit_without_a_change_puts_nothing)
{
	struct th_daemon	 d;
	struct ed_run		 r;
	json_t			*ev;
	char			 id[32], args[64], want[64], path[512];

	ed_start(&d, id, sizeof id);
	snprintf(args, sizeof args, "edit %s", id);
	snprintf(want, sizeof want, "unchanged %s (rev 1)\n", id);
	T_OK(setenv("EDITOR", "true", 1));
	ED_RUN(&r, &d, 0, args);
	T_EQ_STR(r.out, want);
	/* Layout is not content: the same record on one line is no change. */
	T_OK(setenv("EDITOR", "sed -i -e ':a' -e 'N' -e '$!ba' -e "
	    "'s/\\n//g'", 1));
	ED_RUN(&r, &d, 0, args);
	T_EQ_STR(r.out, want);
	T_EQ_INT(ed_kept(path, sizeof path), 0);
	ev = ed_get(&d, id);
	T_EQ_INT(json_integer_value(json_object_get(ev, "rev")), 1);
	json_decref(ev);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(cli_edit_refused_keeps_the_edited_text)
{
	struct th_daemon	 d;
	struct ed_run		 r;
	json_t			*ev;
	char			 id[32], args[64], want[1024], path[512];
	char			 text[4096];

	ed_start(&d, id, sizeof id);
	snprintf(args, sizeof args, "edit %s", id);
	T_OK(setenv("EDITOR", "sed -i -e 's/\"2015\"/\"2015-02-30\"/'", 1));
	ED_RUN(&r, &d, 4, args);
	T_EQ_STR(r.out, "");
	T_EQ_INT(ed_kept(path, sizeof path), 1);
	snprintf(want, sizeof want, "annals: start: 2015-02-30 is not a "
	    "date" ED_DATE_HINT "\nannals: the edited text is kept in %s\n",
	    path);
	T_EQ_STR(r.err, want);
	ed_slurp(path, text, sizeof text);
	T_ASSERTF(strstr(text, "\"start\": \"2015-02-30\"") != NULL, "%s",
	    text);
	T_OK(unlink(path));
	ev = ed_get(&d, id);
	T_EQ_STR(ed_str(ev, "start"), "2015");
	T_EQ_INT(json_integer_value(json_object_get(ev, "rev")), 1);
	json_decref(ev);

	/* Not JSON: where, in the file. */
	T_OK(setenv("EDITOR", "sed -i -e 's/\"start\":/\"start\"/'", 1));
	ED_RUN(&r, &d, 4, args);
	T_EQ_INT(ed_kept(path, sizeof path), 1);
	snprintf(want, sizeof want, "annals: %s:", path);
	T_ASSERTF(strncmp(r.err, want, strlen(want)) == 0, "%s", r.err);
	T_OK(unlink(path));

	/* Another id would overwrite another event. */
	T_OK(setenv("EDITOR", "sed -i -e 's/\"id\": [0-9]*/\"id\": 999/'", 1));
	ED_RUN(&r, &d, 4, args);
	T_EQ_INT(ed_kept(path, sizeof path), 1);
	snprintf(want, sizeof want, "annals: id: must stay %s\n", id);
	T_ASSERTF(strncmp(r.err, want, strlen(want)) == 0, "%s", r.err);
	T_OK(unlink(path));

	/* An editor that fails saves nothing. */
	T_OK(setenv("EDITOR", "false", 1));
	ED_RUN(&r, &d, 4, args);
	T_EQ_INT(ed_kept(path, sizeof path), 1);
	snprintf(want, sizeof want, "annals: editor \"false\" exited with "
	    "status 1\nannals: the edited text is kept in %s\n", path);
	T_EQ_STR(r.err, want);
	T_OK(unlink(path));

	ED_RUN(&r, &d, 1, "edit 999");
	T_EQ_STR(r.err, "annals: event 999 not found\n");
	ED_RUN(&r, &d, 2, "edit");
	ED_RUN(&r, &d, 2, "edit x1");
	ED_RUN(&r, &d, 2, "edit 1 2");
	T_EQ_INT(ed_kept(path, sizeof path), 0);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(cli_edit_refuses_a_change_made_meanwhile)
{
	struct th_daemon	 d;
	struct ed_run		 r;
	json_t			*ev;
	char			 id[32], args[64], want[1024], path[512];
	char			 script[1024], text[4096];

	ed_start(&d, id, sizeof id);
	/* Someone else sets the title while our editor is open. */
	snprintf(script, sizeof script, "%s/annals -s %s set %s --title "
	    "Theirs > /dev/null || exit 1\n"
	    "sed -i -e 's/\"Year only\"/\"Mine\"/' \"$1\"\n", t_bindir(),
	    d.sock, id);
	T_OK(setenv("EDITOR", ed_script(script), 1));
	snprintf(args, sizeof args, "edit %s", id);
	ED_RUN(&r, &d, 4, args);
	T_EQ_STR(r.out, "");
	T_EQ_INT(ed_kept(path, sizeof path), 1);
	snprintf(want, sizeof want, "annals: event %s changed while it was "
	    "being edited (rev 1, now rev 2); not saved\n"
	    "annals: the edited text is kept in %s\n", id, path);
	T_EQ_STR(r.err, want);
	ed_slurp(path, text, sizeof text);
	T_ASSERTF(strstr(text, "\"Mine\"") != NULL, "%s", text);
	T_OK(unlink(path));
	ev = ed_get(&d, id);
	T_EQ_STR(ed_str(ev, "title"), "Theirs");
	T_EQ_INT(json_integer_value(json_object_get(ev, "rev")), 2);
	json_decref(ev);

	/* Or deletes the event. */
	snprintf(script, sizeof script, "%s/annals -s %s rm %s > /dev/null\n"
	    "sed -i -e 's/\"Theirs\"/\"Mine\"/' \"$1\"\n", t_bindir(),
	    d.sock, id);
	ed_script(script);
	ED_RUN(&r, &d, 1, args);
	T_EQ_INT(ed_kept(path, sizeof path), 1);
	snprintf(want, sizeof want, "annals: event %s was deleted while it "
	    "was being edited\nannals: the edited text is kept in %s\n", id,
	    path);
	T_EQ_STR(r.err, want);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

TEST(cli_set_changes_the_fields_named)
{
	struct th_daemon	 d;
	struct ed_run		 r;
	json_t			*ev, *place, *attrs;
	char			 id[32], args[1024], want[64];

	ed_start(&d, id, sizeof id);
	snprintf(args, sizeof args, "set %s --title New --text Body "
	    "--start 2015-01 --end 2015-02 --type 036 --place Moscow "
	    "--country RU --lat 55.75 --lon 37.62 --add-actor EGY:guest "
	    "--rm-actor SYR --add-tag b --rm-tag a --add-url "
	    "https://example.org/2 --rm-url https://example.org/1 "
	    "--attr m=2.5 --attr s=text --rm-attr n", id);
	ED_RUN(&r, &d, 0, args);
	snprintf(want, sizeof want, "updated %s (rev 2)\n", id);
	T_EQ_STR(r.out, want);
	ev = ed_get(&d, id);
	T_EQ_STR(ed_str(ev, "title"), "New");
	T_EQ_STR(ed_str(ev, "text"), "Body");
	T_EQ_STR(ed_str(ev, "start"), "2015-01");
	T_EQ_STR(ed_str(ev, "end"), "2015-02");
	T_EQ_STR(ed_str(ev, "type"), "036");
	place = json_object_get(ev, "place");
	T_EQ_STR(ed_str(place, "name"), "Moscow");
	T_EQ_STR(ed_str(place, "country"), "RU");
	T_ASSERT(json_real_value(json_object_get(place, "lat")) == 55.75);
	T_ASSERT(json_real_value(json_object_get(place, "lon")) == 37.62);
	T_ASSERT(ed_same(json_object_get(ev, "actors"), json_pack(
	    "[{s:s, s:s}, {s:s, s:s}]", "name", "RUS", "role", "host",
	    "name", "EGY", "role", "guest")));
	T_ASSERT(ed_same(json_object_get(ev, "tags"), json_pack("[s]",
	    "b")));
	T_ASSERT(ed_same(json_object_get(ev, "urls"), json_pack("[s]",
	    "https://example.org/2")));
	attrs = json_object_get(ev, "attrs");
	T_ASSERT(ed_same(attrs, json_pack("{s:f, s:s}", "m", 2.5, "s",
	    "text")));
	json_decref(ev);

	/* The same again changes nothing; what is not there is not removed. */
	ED_RUN(&r, &d, 0, args);
	snprintf(want, sizeof want, "unchanged %s (rev 2)\n", id);
	T_EQ_STR(r.out, want);

	/* In order: a role changes by removing CODE:ROLE, adding it anew. */
	snprintf(args, sizeof args, "set %s --rm-actor RUS:guest --rm-actor "
	    "RUS:host --add-actor RUS:guest --add-actor EGY:guest --clear end "
	    "--clear place --clear tags --clear urls --clear attrs "
	    "--clear text --clear type", id);
	ED_RUN(&r, &d, 0, args);
	snprintf(want, sizeof want, "updated %s (rev 3)\n", id);
	T_EQ_STR(r.out, want);
	ev = ed_get(&d, id);
	T_ASSERT(ed_same(json_object_get(ev, "actors"), json_pack(
	    "[{s:s, s:s}, {s:s, s:s}]", "name", "EGY", "role", "guest",
	    "name", "RUS", "role", "guest")));
	T_EQ_STR(ed_str(ev, "title"), "New");
	T_ASSERT(json_object_get(ev, "end") == NULL);
	T_ASSERT(json_object_get(ev, "place") == NULL);
	T_ASSERT(json_object_get(ev, "tags") == NULL);
	T_ASSERT(json_object_get(ev, "urls") == NULL);
	T_ASSERT(json_object_get(ev, "attrs") == NULL);
	T_ASSERT(json_object_get(ev, "text") == NULL);
	T_ASSERT(json_object_get(ev, "type") == NULL);
	json_decref(ev);

	/* The daemon's refusal, and what a date looks like; nothing written. */
	snprintf(args, sizeof args, "set %s --start 2015-02-30", id);
	ED_RUN(&r, &d, 4, args);
	T_EQ_STR(r.err, "annals: start: 2015-02-30 is not a date"
	    ED_DATE_HINT "\n");
	T_EQ_STR(r.out, "");
	ED_RUN(&r, &d, 1, "set 999 --title x");
	T_EQ_STR(r.err, "annals: event 999 not found\n");

	snprintf(args, sizeof args, "set %s", id);
	ED_RUN(&r, &d, 2, args);
	T_ASSERTF(strstr(r.err, "nothing to change") != NULL, "%s", r.err);
	snprintf(args, sizeof args, "set %s --clear start", id);
	ED_RUN(&r, &d, 2, args);
	T_ASSERTF(strstr(r.err, "--clear start: not end,") != NULL, "%s",
	    r.err);
	snprintf(args, sizeof args, "set %s --attr novalue", id);
	ED_RUN(&r, &d, 2, args);
	T_ASSERTF(strstr(r.err, "--attr novalue: not NAME=VALUE") != NULL,
	    "%s", r.err);
	snprintf(args, sizeof args, "set %s --lat north", id);
	ED_RUN(&r, &d, 2, args);
	ED_RUN(&r, &d, 2, "set --title x");
	ED_RUN(&r, &d, 2, "set 1 2 --title x");
	ED_RUN(&r, &d, 2, "set 1 --bogus");
	ev = ed_get(&d, id);
	T_EQ_INT(json_integer_value(json_object_get(ev, "rev")), 3);
	json_decref(ev);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/* annals(1) documents get | ... | add - as a way to edit in a pipe. */
TEST(cli_get_piped_to_add_updates_the_event)
{
	struct th_daemon	 d;
	json_t			*ev;
	char			 id[32], args[512];

	ed_start(&d, id, sizeof id);
	snprintf(args, sizeof args, "%s/annals -s %s get %s | sed "
	    "'s/Year only/Piped/' | %s/annals -s %s add - >&2", t_bindir(),
	    d.sock, id, t_bindir(), d.sock);
	T_EQ_INT(system(args), 0);
	ev = ed_get(&d, id);
	T_EQ_STR(ed_str(ev, "title"), "Piped");
	T_EQ_INT(json_integer_value(json_object_get(ev, "rev")), 2);
	json_decref(ev);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * The README's get | jq ... | add -: jq prints an object over several
 * lines, which add - once refused at the first ("stdin:1: string or '}'
 * expected near end of file").
 */
TEST(cli_get_piped_through_jq_to_add_updates_the_event)
{
	struct th_daemon	 d;
	json_t			*ev;
	char			 id[32], args[512];

	if (system("command -v jq >/dev/null 2>&1") != 0)
		T_SKIP("no jq on PATH");
	ed_start(&d, id, sizeof id);
	snprintf(args, sizeof args, "%s/annals -s %s get %s | jq "
	    "'.title=\"Through jq\"' | %s/annals -s %s add - >&2", t_bindir(),
	    d.sock, id, t_bindir(), d.sock);
	T_EQ_INT(system(args), 0);
	ev = ed_get(&d, id);
	T_EQ_STR(ed_str(ev, "title"), "Through jq");
	T_EQ_INT(json_integer_value(json_object_get(ev, "rev")), 2);
	json_decref(ev);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * On a terminal, a refused edit offers the editor again: annals runs on
 * a pseudo-terminal, the editor script makes a bad date the first time
 * and fixes it the second, and we answer y.
 */
TEST(cli_edit_on_a_terminal_offers_to_edit_again)
{
	struct th_daemon	 d;
	struct pollfd		 pfd;
	json_t			*ev;
	const char		*slave;
	char			 id[32], bin[512], script[1024], buf[8192];
	size_t			 len = 0;
	ssize_t			 n;
	pid_t			 pid;
	int			 master, fd, status, answered = 0;

	ed_start(&d, id, sizeof id);
	snprintf(script, sizeof script, "if [ -e %s/once ]; then\n"
	    "\tsed -i -e 's/2015-02-30/2015-02-28/' \"$1\"\n"
	    "else\n\ttouch %s/once\n"
	    "\tsed -i -e 's/\"2015\"/\"2015-02-30\"/' \"$1\"\nfi\n", t_dir(),
	    t_dir());
	T_OK(setenv("EDITOR", ed_script(script), 1));
	snprintf(bin, sizeof bin, "%s/annals", t_bindir());

	T_ASSERT((master = posix_openpt(O_RDWR | O_NOCTTY)) != -1);
	T_OK(grantpt(master));
	T_OK(unlockpt(master));
	T_ASSERT((slave = ptsname(master)) != NULL);
	T_ASSERT((pid = fork()) != -1);
	if (pid == 0) {
		setsid();
		if ((fd = open(slave, O_RDWR)) == -1)
			_exit(126);
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		close(master);
		execl(bin, bin, "-s", d.sock, "edit", id, (char *)NULL);
		_exit(127);
	}
	pfd.fd = master;
	pfd.events = POLLIN;
	for (;;) {
		T_ASSERTF(poll(&pfd, 1, 10000) == 1, "no output: %.*s",
		    (int)len, buf);
		if ((n = read(master, buf + len, sizeof buf - 1 - len)) <= 0)
			break;	/* EIO: the child closed the terminal */
		len += n;
		buf[len] = '\0';
		if (!answered && strstr(buf, "edit again? [y/n] ") != NULL) {
			T_EQ_INT(write(master, "y\n", 2), 2);
			answered = 1;
		}
	}
	close(master);
	T_EQ_INT(waitpid(pid, &status, 0), pid);
	fprintf(stderr, "%s", buf);
	T_ASSERTF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d",
	    status);
	T_ASSERT(answered);
	T_ASSERTF(strstr(buf, "annals: start: 2015-02-30 is not a date") !=
	    NULL, "%s", buf);
	T_ASSERTF(strstr(buf, "updated ") != NULL &&
	    strstr(buf, " (rev 2)") != NULL, "%s", buf);
	ev = ed_get(&d, id);
	T_EQ_STR(ed_str(ev, "start"), "2015-02-28");
	json_decref(ev);
	T_EQ_INT(ed_kept(buf, sizeof buf), 0);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * Integers past INT64_MAX in attrs survive every way the CLI writes an
 * event: set --attr, add - and an edit that changes something else.
 */
TEST(cli_edit_set_and_add_keep_uint64_attrs)
{
	struct th_daemon	 d;
	struct ed_run		 r;
	char			 id[32], args[512];

	ed_start(&d, id, sizeof id);
	snprintf(args, sizeof args, "set %s --attr big=18446744073709551615",
	    id);
	ED_RUN(&r, &d, 0, args);
	snprintf(args, sizeof args, "--format jsonl get %s", id);
	ED_RUN(&r, &d, 0, args);
	T_ASSERTF(strstr(r.out, "\"big\":18446744073709551615") != NULL,
	    "%s", r.out);

	T_OK(setenv("EDITOR", "sed -i s/Year.only/Edited/", 1));
	snprintf(args, sizeof args, "edit %s", id);
	ED_RUN(&r, &d, 0, args);
	snprintf(args, sizeof args, "--format jsonl get %s", id);
	ED_RUN(&r, &d, 0, args);
	T_ASSERTF(strstr(r.out, "\"big\":18446744073709551615") != NULL &&
	    strstr(r.out, "\"Edited\"") != NULL, "%s", r.out);

	snprintf(args, sizeof args, "%s/annals -s %s --format jsonl get %s | "
	    "sed 's/18446744073709551615/18446744073709551614/' | "
	    "%s/annals -s %s add - >&2", t_bindir(), d.sock, id, t_bindir(),
	    d.sock);
	T_EQ_INT(system(args), 0);
	snprintf(args, sizeof args, "--format jsonl get %s", id);
	ED_RUN(&r, &d, 0, args);
	T_ASSERTF(strstr(r.out, "\"big\":18446744073709551614") != NULL,
	    "%s", r.out);
	T_EQ_INT(th_daemon_stop(&d), 0);
}
