/*
 * make run's script (contrib/run.sh), as a new user meets it: the first
 * run says what it loaded, and a second one, while the first still
 * runs, says so and exits instead of claiming the first's daemon.  A
 * later run keeps the store, with the user's edits and deletions.  A
 * busy HTTP port makes it take the next; a data directory held by
 * another annalsd stops it at once, with annalsd's message, rather than
 * on every port in turn.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "test.h"

/*
 * The path of contrib/run.sh.  The script reads contrib/demo from its
 * directory, the test's, so contrib is linked there.
 */
static const char *
run_sh_setup(void)
{
	static char	script[PATH_MAX + 32];
	char		bindir[PATH_MAX], repo[PATH_MAX];
	char		contrib[PATH_MAX + 32], link[PATH_MAX];

	snprintf(bindir, sizeof bindir, "%s", t_bindir());
	snprintf(repo, sizeof repo, "%s", dirname(bindir));
	snprintf(script, sizeof script, "%s/contrib/run.sh", repo);
	snprintf(contrib, sizeof contrib, "%s/contrib", repo);
	snprintf(link, sizeof link, "%s/contrib", t_dir());
	T_OK(symlink(contrib, link));
	return (script);
}

/* Start sh run.sh BINDIR in the test's directory, output to out. */
static pid_t
run_sh_start(const char *script, const char *out, int port)
{
	char	portstr[16];
	pid_t	pid;
	int	fd;

	snprintf(portstr, sizeof portstr, "%d", port);
	/* There before the child writes: th_slurp() wants it. */
	th_write(out, "", 0);
	if ((pid = fork()) != 0)
		return (pid);
	if ((fd = open(out, O_WRONLY | O_APPEND)) == -1 ||
	    dup2(fd, 1) == -1 || dup2(fd, 2) == -1 ||
	    setenv("ANNALS_HTTP_PORT", portstr, 1) == -1)
		_exit(127);
	execlp("sh", "sh", script, t_bindir(), (char *)NULL);
	_exit(127);
}

/* Wait up to 30 s for path to hold what; whether it does. */
static int
wait_for_text(const char *path, const char *what, pid_t pid)
{
	char	*s;
	int	 i, found = 0, status;

	for (i = 0; i < 300 && !found; i++) {
		s = th_slurp(path, NULL);
		found = s != NULL && strstr(s, what) != NULL;
		free(s);
		if (!found && waitpid(pid, &status, WNOHANG) == pid)
			break;
		if (!found)
			usleep(100000);
	}
	return (found);
}

/* Wait up to 30 s for pid to exit, then kill it; whether it exited. */
static int
run_sh_wait(pid_t pid, int *status)
{
	int	i;

	for (i = 0; i < 300 && waitpid(pid, status, WNOHANG) != pid; i++)
		usleep(100000);
	if (i < 300)
		return (1);
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return (0);
}

/* Start run.sh and wait until it serves; the pid. */
static pid_t
run_sh_serve(const char *script, const char *out, int port)
{
	char	*s;
	pid_t	 pid;
	int	 status;

	pid = run_sh_start(script, out, port);
	T_ASSERT(pid > 0);
	if (!wait_for_text(out, "Press Ctrl-C", pid)) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		s = th_slurp(out, NULL);
		T_ASSERTF(0, "make run did not start:\n%s", s);
	}
	return (pid);
}

/* annals -s var/annalsd.sock ARGS..., expecting status want. */
static void
run_annals(struct th_run *r, int want, const char **args)
{
	th_annals(r, "var/annalsd.sock", NULL, args);
	T_ASSERTF(r->status == want, "annals %s: exit %d, wanted %d: %s",
	    args[0], r->status, want, r->err);
}

/* A run of make run that must end at once with status 1: what it said. */
static char *
run_sh_refused(const char *script, const char *out, int port)
{
	pid_t	 pid = run_sh_start(script, out, port);
	char	*s;
	int	 exited, status;

	T_ASSERT(pid > 0);
	exited = run_sh_wait(pid, &status);
	s = th_slurp(out, NULL);
	T_ASSERTF(exited && WIFEXITED(status) && WEXITSTATUS(status) == 1,
	    "make run: status %d:\n%s", status, s);
	return (s);
}

/* Ctrl-C, or here SIGTERM, stops make run and its daemon. */
static void
run_sh_stop(pid_t pid)
{
	int	status;

	kill(pid, SIGTERM);
	T_ASSERTF(run_sh_wait(pid, &status), "make run did not stop on "
	    "SIGTERM");
}

/*
 * Serve with run.sh on a directory of its own, which makes a new store:
 * it says that it loaded the demo events.  The script's pid.
 */
static pid_t
run_sh_first(const char *script, const char *out, int port)
{
	pid_t	 pid = run_sh_serve(script, out, port);
	char	*s = th_slurp(out, NULL);

	T_ASSERTF(strstr(s, "with the demo events loaded\n(events 78, actors "
	    "47).\n") != NULL, "%s", s);
	free(s);
	return (pid);
}

TEST(run_sh_tells_what_it_loaded_and_refuses_a_second_run)
{
	const char	*script;
	char		 first[PATH_MAX], second[PATH_MAX];
	char		*s;
	pid_t		 pid;
	int		 port = th_free_port();

	script = run_sh_setup();
	snprintf(first, sizeof first, "%s/first.out", t_dir());
	snprintf(second, sizeof second, "%s/second.out", t_dir());

	pid = run_sh_first(script, first, port);

	/* A second run, the first still serving: refused, bounded. */
	s = run_sh_refused(script, second, port);
	T_ASSERTF(strstr(s, "an annalsd already answers on "
	    "var/annalsd.sock") != NULL && strstr(s, "is running") == NULL,
	    "%s", s);
	free(s);

	run_sh_stop(pid);
	T_ASSERT(th_raw_connect("var/annalsd.sock") == -1);
}

/*
 * An edit and a deletion made while make run serves survive the next
 * make run: the demo events go into a new store only, and the second
 * run says that it kept the store.
 */
TEST(run_sh_keeps_the_store_of_an_earlier_run)
{
	const char	*script;
	const char	*set[] = { "set", "5", "--title", "MY EDIT", NULL };
	const char	*rm[] = { "rm", "2", NULL };
	const char	*get5[] = { "--format", "jsonl", "get", "5", NULL };
	const char	*get2[] = { "get", "2", NULL };
	const char	*get79[] = { "get", "79", NULL };
	char		 first[PATH_MAX], second[PATH_MAX];
	char		*s;
	struct th_run	 r;
	pid_t		 pid;
	int		 port = th_free_port();

	script = run_sh_setup();
	snprintf(first, sizeof first, "%s/first.out", t_dir());
	snprintf(second, sizeof second, "%s/second.out", t_dir());

	pid = run_sh_first(script, first, port);
	run_annals(&r, 0, set);
	th_run_free(&r);
	run_annals(&r, 0, rm);
	th_run_free(&r);
	run_sh_stop(pid);

	pid = run_sh_serve(script, second, port);
	s = th_slurp(second, NULL);
	T_ASSERTF(strstr(s, "with the store kept from an earlier run\n"
	    "(events 77, actors 47); to start again from the demo events,\n"
	    "stop it and remove var/data.\n") != NULL &&
	    strstr(s, "demo events loaded") == NULL, "%s", s);
	free(s);
	run_annals(&r, 0, get5);
	T_ASSERTF(strstr(r.out, "\"title\":\"MY EDIT\"") != NULL, "%s",
	    r.out);
	th_run_free(&r);
	run_annals(&r, 1, get2);
	th_run_free(&r);
	/* Not loaded again: event 2 would be back as 79. */
	run_annals(&r, 1, get79);
	th_run_free(&r);
	run_sh_stop(pid);
}

/*
 * var/data held by an annalsd started by hand on another socket: the
 * port was never the problem, so run.sh shows annalsd's message once
 * and exits, instead of trying the next nine ports to the same end.
 */
TEST(run_sh_stops_at_a_data_directory_in_use)
{
	struct th_daemon	 d;
	const char		*script;
	char			 other[PATH_MAX], data[PATH_MAX];
	char			 out[PATH_MAX];
	const char		*extra[] = { "--data", data, NULL };
	char			*s, *p;
	int			 n, port = th_free_port();

	script = run_sh_setup();
	snprintf(other, sizeof other, "%s/other", t_dir());
	snprintf(data, sizeof data, "%s/var/data", t_dir());
	snprintf(out, sizeof out, "%s/run.out", t_dir());
	T_OK(mkdir(other, 0755));
	T_OK(mkdir("var", 0755));
	/* Its own socket, other/annalsd.sock; the later --data wins. */
	T_OK(th_daemon_start_in(&d, other, extra));

	s = run_sh_refused(script, out, port);
	for (n = 0, p = s; (p = strstr(p, "data directory var/data is in "
	    "use by another annalsd")) != NULL; p++)
		n++;
	T_ASSERTF(n == 1, "the message %d times:\n%s", n, s);
	T_ASSERTF(strstr(s, "is running") == NULL, "%s", s);
	free(s);
	T_ASSERT(access("var/annalsd.fifo", F_OK) == -1);
	T_EQ_INT(th_daemon_stop(&d), 0);
}

/*
 * Its HTTP port taken, annalsd fails as it does for a held directory:
 * this failure, and only this one, sends run.sh on to the next port.
 */
TEST(run_sh_takes_the_next_port_when_one_is_busy)
{
	const char	*script;
	char		 out[PATH_MAX], busy[64];
	char		*s;
	pid_t		 pid;
	int		 fd, port = th_free_port();

	script = run_sh_setup();
	snprintf(out, sizeof out, "%s/run.out", t_dir());
	snprintf(busy, sizeof busy, "http://127.0.0.1:%d/", port);
	T_ASSERT((fd = th_tcp_listen(port)) != -1);

	pid = run_sh_serve(script, out, port);
	s = th_slurp(out, NULL);
	T_ASSERTF(strstr(s, "Address already in use") != NULL &&
	    strstr(s, "The timeline page: http://127.0.0.1:") != NULL &&
	    strstr(s, busy) == NULL, "%s", s);
	free(s);
	/* The log is on the terminal, and in var/annalsd.log too. */
	T_ASSERTF(wait_for_text("var/annalsd.log", "annalsd: notice: annalsd ",
	    pid), "no start line in var/annalsd.log");
	run_sh_stop(pid);
	close(fd);
}
