/*
 * make run's script (contrib/run.sh), as a new user meets it: the first
 * run says what it loaded, and a second one, while the first still
 * runs, says so and exits instead of claiming the first's daemon.
 */
#include <sys/types.h>
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

TEST(run_sh_tells_what_it_loaded_and_refuses_a_second_run)
{
	char	 bindir[PATH_MAX], repo[PATH_MAX], script[PATH_MAX + 32];
	char	 contrib[PATH_MAX + 32], link[PATH_MAX], first[PATH_MAX];
	char	 second[PATH_MAX];
	char	*s;
	pid_t	 pid, pid2;
	int	 i, status, port = th_free_port();

	snprintf(bindir, sizeof bindir, "%s", t_bindir());
	snprintf(repo, sizeof repo, "%s", dirname(bindir));
	snprintf(script, sizeof script, "%s/contrib/run.sh", repo);
	/* The script reads contrib/demo from its directory: the test's. */
	snprintf(contrib, sizeof contrib, "%s/contrib", repo);
	snprintf(link, sizeof link, "%s/contrib", t_dir());
	T_OK(symlink(contrib, link));
	snprintf(first, sizeof first, "%s/first.out", t_dir());
	snprintf(second, sizeof second, "%s/second.out", t_dir());

	pid = run_sh_start(script, first, port);
	T_ASSERT(pid > 0);
	if (!wait_for_text(first, "Press Ctrl-C", pid)) {
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		s = th_slurp(first, NULL);
		T_ASSERTF(0, "make run did not start:\n%s", s);
	}
	s = th_slurp(first, NULL);
	T_ASSERTF(strstr(s, "with the demo events loaded\n(events 78, actors "
	    "47).\n") != NULL, "%s", s);
	free(s);

	/* A second run, the first still serving: refused, bounded. */
	pid2 = run_sh_start(script, second, port);
	T_ASSERT(pid2 > 0);
	for (i = 0; i < 300 && waitpid(pid2, &status, WNOHANG) != pid2; i++)
		usleep(100000);
	if (i == 300) {
		kill(pid2, SIGKILL);
		waitpid(pid2, &status, 0);
	}
	s = th_slurp(second, NULL);
	T_ASSERTF(i < 300 && WIFEXITED(status) && WEXITSTATUS(status) == 1,
	    "the second run: status %d:\n%s", status, s);
	T_ASSERTF(strstr(s, "an annalsd already answers on "
	    "var/annalsd.sock") != NULL && strstr(s, "is running") == NULL,
	    "%s", s);
	free(s);

	/* Ctrl-C, or here SIGTERM, stops the first and its daemon. */
	kill(pid, SIGTERM);
	for (i = 0; i < 300 && waitpid(pid, &status, WNOHANG) != pid; i++)
		usleep(100000);
	if (i == 300) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	T_ASSERTF(i < 300, "make run did not stop on SIGTERM");
	T_ASSERT(th_raw_connect("var/annalsd.sock") == -1);
}
