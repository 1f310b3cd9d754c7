/*
 * annals edit: one event as JSON in the user's editor, put back when it
 * changed.  annals set (cli-set.c) changes fields from options instead;
 * both end in cli_edit_put().
 *
 * The put is conditional on the rev that was read (check_rev), so a
 * change made meanwhile by someone else is never overwritten.  edit also
 * reads the event again after the editor exits, to tell that it changed
 * or was deleted before trying.
 */
#include <sys/wait.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int	cli_edit_exec(struct cli *, int, char **);

static const struct option cli_edit_longopts[] = {
	{ "help",	no_argument,	NULL, 'h' },
	{ NULL,		0,		NULL, 0 }
};

const struct cli_command cli_edit_command = {
	"edit",
	"ID",
	cli_edit_exec,
	cli_edit_longopts
};

/*
 * Put rec, event id's record after a change, unless it equals orig, the
 * record as it was read.  Prints what output_put() prints of an update
 * ("updated ID (rev N)" in a table) and returns the exit status; on a
 * refusal the daemon's message is printed and the status is not 0.  The
 * put is refused when the event moved from orig's rev.
 */
int
cli_edit_put(struct cli *cli, uint64_t id, json_t *orig, json_t *rec)
{
	struct json_record		 r;
	struct annals_put_result	 res;
	const char			*msg;
	char				 err[256];
	int				 rc;

	if (json_equal(orig, rec)) {
		res.id = id;
		res.rev = (uint64_t)json_integer_value(json_object_get(orig,
		    "rev"));
		res.status = ANNALS_UNCHANGED;
		output_put(cli->format, stdout, 1, &res);
		return (CLI_EXIT_OK);
	}
	if (json_record_decode(rec, &r, err, sizeof err) != 0) {
		json_record_clear(&r);
		cli_common_warn("%s", err);
		return (CLI_EXIT_ERROR);
	}
	r.ev.id = id;
	r.ev.rev = (uint64_t)json_integer_value(json_object_get(orig, "rev"));
	if (annals_put_checked(cli->ctx, &r.ev, 1, &res) == -1) {
		/* One record: "records[0]: " says nothing. */
		msg = annals_errmsg(cli->ctx);
		if (strncmp(msg, "records[0]: ", 12) == 0)
			msg += 12;
		if (annals_errcode(cli->ctx) == ANNALS_ECONFLICT)
			cli_common_warn("event %llu changed since it was read "
			    "(%s); not saved", (unsigned long long)id, msg);
		else
			cli_common_warn("%s%s", msg, cli_common_hint(msg));
		rc = cli_common_exit(annals_errcode(cli->ctx));
	} else {
		output_put(cli->format, stdout, 1, &res);
		rc = CLI_EXIT_OK;
	}
	json_record_clear(&r);
	return (rc);
}

/* $VISUAL, else $EDITOR, else vi, as other Unix tools choose. */
static const char *
cli_edit_editor(void)
{
	const char	*e;

	if ((e = getenv("VISUAL")) != NULL && *e != '\0')
		return (e);
	if ((e = getenv("EDITOR")) != NULL && *e != '\0')
		return (e);
	return ("vi");
}

/*
 * Run the editor on path through /bin/sh, so that "code -w" or
 * "emacs -nw" work; 0 when it exited 0.  Like a shell running it, we
 * ignore the keyboard's signals meanwhile: ^C is the editor's.
 */
static int
cli_edit_run(const char *editor, const char *path)
{
	struct sigaction	 ign, oint, oquit;
	char			*cmd;
	size_t			 len;
	pid_t			 pid;
	int			 status, saved;

	len = strlen(editor) + sizeof " \"$1\"";
	if ((cmd = malloc(len)) == NULL) {
		cli_common_warn("out of memory");
		return (-1);
	}
	snprintf(cmd, len, "%s \"$1\"", editor);
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		sigaction(SIGINT, &oint, NULL);
		sigaction(SIGQUIT, &oquit, NULL);
		execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *)NULL);
		_exit(127);
	}
	saved = errno;
	free(cmd);
	status = 0;
	while (pid != -1 && waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	if (pid == -1) {
		cli_common_warn("fork: %s", strerror(saved));
		return (-1);
	}
	if (WIFSIGNALED(status)) {
		cli_common_warn("editor \"%s\" killed by signal %d", editor,
		    WTERMSIG(status));
		return (-1);
	}
	if (WEXITSTATUS(status) != 0) {
		cli_common_warn("editor \"%s\" exited with status %d", editor,
		    WEXITSTATUS(status));
		return (-1);
	}
	return (0);
}

/*
 * Write the event into a new file in $TMPDIR (or /tmp) named after it,
 * for the editor; path gets its name.
 */
static int
cli_edit_file(uint64_t id, json_t *rec, char *path, size_t len)
{
	const char	*dir;
	FILE		*fp;
	int		 fd, saved;

	if ((dir = getenv("TMPDIR")) == NULL || *dir == '\0')
		dir = "/tmp";
	if ((size_t)snprintf(path, len, "%s/annals-%llu-XXXXXX.json", dir,
	    (unsigned long long)id) >= len) {
		cli_common_warn("$TMPDIR %s: too long", dir);
		return (-1);
	}
	if ((fd = mkstemps(path, 5)) == -1) {
		cli_common_warn("%s: %s", path, strerror(errno));
		return (-1);
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		saved = errno;
		close(fd);
		unlink(path);
		cli_common_warn("%s: %s", path, strerror(saved));
		return (-1);
	}
	json_record_write_pretty(fp, rec);
	if (fclose(fp) != 0) {
		cli_common_warn("%s: %s", path, strerror(errno));
		unlink(path);
		return (-1);
	}
	return (0);
}

/* Ask whether to open the editor again; only when someone can answer. */
static int
cli_edit_again(void)
{
	char	line[64];

	if (!isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
		return (0);
	fputs("annals: edit again? [y/n] ", stderr);
	if (fgets(line, sizeof line, stdin) == NULL)
		return (0);
	return (line[0] == 'y' || line[0] == 'Y');
}

/* The edited file as JSON, read as import reads it (uint64 included). */
static json_t *
cli_edit_load(const char *path, json_error_t *jerr)
{
	FILE	*fp;
	char	*buf = NULL, *nbuf;
	size_t	 n, have = 0, size = 0;
	json_t	*rec = NULL;
	int	 ok = 0;

	memset(jerr, 0, sizeof *jerr);
	if ((fp = fopen(path, "r")) != NULL) {
		for (;;) {
			if (have == size) {
				size = size == 0 ? 65536 : 2 * size;
				if ((nbuf = realloc(buf, size)) == NULL)
					break;
				buf = nbuf;
			}
			if ((n = fread(buf + have, 1, size - have, fp)) == 0) {
				ok = !ferror(fp);
				break;
			}
			have += n;
		}
		fclose(fp);
	}
	if (ok)
		rec = json_load_u64(buf, have, JSON_REJECT_DUPLICATES, jerr);
	else
		snprintf(jerr->text, sizeof jerr->text, "%s", strerror(errno));
	free(buf);
	return (rec);
}

/*
 * The edited file: read it, check it is still event id, read the event
 * again to see that nobody changed it meanwhile, and put it.  Returns
 * the exit status; *retry says whether editing again may help.
 */
static int
cli_edit_apply(struct cli *cli, uint64_t id, json_t *orig, const char *path,
    int *retry)
{
	struct annals_event	*ev;
	json_error_t		 jerr;
	json_t			*rec, *v;
	int			 rc;

	*retry = 1;
	if ((rec = cli_edit_load(path, &jerr)) == NULL) {
		cli_common_warn("%s:%d:%d: %s", path, jerr.line, jerr.column,
		    jerr.text);
		return (CLI_EXIT_ERROR);
	}
	/* Without an id the put would add a copy; with another, replace it. */
	v = json_object_get(rec, "id");
	if (json_is_object(rec) && (v == NULL || json_is_null(v)))
		json_object_set_new(rec, "id", json_integer((json_int_t)id));
	else if (json_is_object(rec) && (!json_is_integer(v) ||
	    (uint64_t)json_integer_value(v) != id)) {
		cli_common_warn("id: must stay %llu", (unsigned long long)id);
		json_decref(rec);
		return (CLI_EXIT_ERROR);
	}
	if (json_equal(orig, rec)) {
		rc = cli_edit_put(cli, id, orig, rec);
		json_decref(rec);
		return (rc);
	}

	/* The editor may have been open for longer than the idle timeout. */
	if ((rc = cli_common_connect(cli)) != 0) {
		*retry = 0;
		json_decref(rec);
		return (rc);
	}
	if (annals_get(cli->ctx, id, &ev) == -1) {
		*retry = 0;
		if (annals_errcode(cli->ctx) == ANNALS_ENOTFOUND) {
			cli_common_warn("event %llu was deleted while it was "
			    "being edited", (unsigned long long)id);
			rc = CLI_EXIT_NOTFOUND;
		} else
			rc = cli_common_fail(cli, NULL);
		json_decref(rec);
		return (rc);
	}
	if (ev->rev != (uint64_t)json_integer_value(json_object_get(orig,
	    "rev"))) {
		cli_common_warn("event %llu changed while it was being edited "
		    "(rev %lld, now rev %llu); not saved",
		    (unsigned long long)id,
		    (long long)json_integer_value(json_object_get(orig, "rev")),
		    (unsigned long long)ev->rev);
		*retry = 0;
		rc = CLI_EXIT_ERROR;
	} else {
		rc = cli_edit_put(cli, id, orig, rec);
		if (rc == CLI_EXIT_CONNECT || rc == CLI_EXIT_NOTFOUND)
			*retry = 0;
	}
	annals_event_free(ev);
	json_decref(rec);
	return (rc);
}

static int
cli_edit_exec(struct cli *cli, int argc, char **argv)
{
	const struct cli_command	*cmd = &cli_edit_command;
	struct annals_event		*ev;
	json_t				*orig;
	const char			*editor;
	char				 path[4096], err[256];
	uint64_t			 id;
	int				 ch, rc, retry;

	while ((ch = getopt_long(argc, argv, "h", cli_edit_longopts,
	    NULL)) != -1) {
		if (ch == 'h')
			return (cli_common_help(cmd));
		return (cli_common_badopt(cmd));
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		return (cli_common_usage(cmd, argc == 0 ? "no event id given" :
		    "one event at a time"));
	if (cli_common_id(argv[0], &id) == -1)
		return (cli_common_usage(cmd, "%s: not an event id", argv[0]));
	if ((rc = cli_common_connect(cli)) != 0)
		return (rc);
	if (annals_get(cli->ctx, id, &ev) == -1)
		return (cli_common_fail(cli, NULL));
	orig = json_record_encode(ev, 0, err, sizeof err);
	annals_event_free(ev);
	if (orig == NULL) {
		cli_common_warn("event %llu: %s", (unsigned long long)id, err);
		return (CLI_EXIT_ERROR);
	}
	if (cli_edit_file(id, orig, path, sizeof path) == -1) {
		json_decref(orig);
		return (CLI_EXIT_ERROR);
	}
	/* Nobody holds a connection while a person types. */
	annals_free(cli->ctx);
	cli->ctx = NULL;

	editor = cli_edit_editor();
	for (;;) {
		if (cli_edit_run(editor, path) == -1) {
			rc = CLI_EXIT_ERROR;
			retry = 0;
		} else
			rc = cli_edit_apply(cli, id, orig, path, &retry);
		if (rc == CLI_EXIT_OK) {
			unlink(path);
			break;
		}
		if (!retry || !cli_edit_again()) {
			cli_common_warn("the edited text is kept in %s", path);
			break;
		}
		annals_free(cli->ctx);
		cli->ctx = NULL;
	}
	json_decref(orig);
	return (rc);
}
