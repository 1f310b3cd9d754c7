/*
 * make install into a temporary DESTDIR, then build a small program
 * against the installed library with pkg-config, run it, and uninstall.
 */
#include <sys/stat.h>

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

static int
run(const char *cmd)
{
	fprintf(stderr, "+ %s\n", cmd);
	return (system(cmd));
}

static int
exists(const char *root, const char *path)
{
	char		full[2 * PATH_MAX];
	struct stat	sb;

	snprintf(full, sizeof full, "%s%s", root, path);
	return (lstat(full, &sb) == 0);
}

TEST(install_then_build_against_it)
{
	char		 bindir[PATH_MAX], repo[PATH_MAX], build[PATH_MAX];
	char		 root[PATH_MAX], cmd[8 * PATH_MAX], out[256];
	const char	*san;
	FILE		*f;

	snprintf(bindir, sizeof bindir, "%s", t_bindir());
	snprintf(build, sizeof build, "%s", basename(bindir));
	snprintf(bindir, sizeof bindir, "%s", t_bindir());
	snprintf(repo, sizeof repo, "%s", dirname(bindir));
	snprintf(root, sizeof root, "%s/root", t_dir());
	san = strstr(build, "san") ? "-fsanitize=address,undefined" : "";

	snprintf(cmd, sizeof cmd, "make -s -C %s B=%s %s PREFIX=/usr "
	    "DESTDIR=%s install >&2", repo, build, *san ? "SAN=1" : "", root);
	T_EQ_INT(run(cmd), 0);
	T_ASSERT(exists(root, "/usr/sbin/annalsd"));
	T_ASSERT(exists(root, "/usr/bin/annals"));
	T_ASSERT(exists(root, "/usr/bin/annals-nats"));
	T_ASSERT(exists(root,
	    "/usr/lib/systemd/system/annalsd-replica@.service"));
	T_ASSERT(exists(root, "/usr/lib/systemd/system/annalsd.service"));
	T_ASSERT(exists(root, "/usr/include/annals.h"));
	T_ASSERT(exists(root, "/usr/lib/libannals.a"));
	T_ASSERT(exists(root, "/usr/lib/libannals.so.0"));
	T_ASSERT(exists(root, "/usr/share/man/man8/annalsd.8"));
	T_ASSERT(exists(root, "/usr/share/man/man1/annals.1"));
	T_ASSERT(exists(root, "/usr/share/man/man3/libannals.3"));
	T_ASSERT(exists(root, "/usr/share/bash-completion/completions/annals"));

	/*
	 * The units in contrib/systemd name /usr/local/sbin/annalsd; once
	 * installed they must start the annalsd of this PREFIX.
	 */
	snprintf(cmd, sizeof cmd, "grep -qx 'ExecStart=/usr/sbin/annalsd "
	    "--data /var/lib/annals --socket /run/annals/annalsd.sock' "
	    "%s/usr/lib/systemd/system/annalsd.service", root);
	T_EQ_INT(run(cmd), 0);
	snprintf(cmd, sizeof cmd, "grep -q '^ExecStart=/usr/sbin/annalsd ' "
	    "%s/usr/lib/systemd/system/annalsd-replica@.service", root);
	T_EQ_INT(run(cmd), 0);
	snprintf(cmd, sizeof cmd, "! grep -n /usr/local "
	    "%s/usr/lib/systemd/system/*.service >&2", root);
	T_EQ_INT(run(cmd), 0);

	/*
	 * The user the unit runs as comes from the sysusers.d entry: where
	 * systemd-sysusers looks, it creates annals with its home.
	 */
	T_ASSERT(exists(root, "/usr/lib/sysusers.d/annals.conf"));
	T_ASSERT(exists(root, "/usr/lib/tmpfiles.d/annals.conf"));
	snprintf(cmd, sizeof cmd, "mkdir -p %s/etc && systemd-sysusers "
	    "--root=%s >&2 && grep -q '^annals:x:[0-9]*:[0-9]*:.*:"
	    "/var/lib/annals:' %s/etc/passwd", root, root, root);
	T_EQ_INT(run(cmd), 0);
	snprintf(cmd, sizeof cmd, "grep -q '^d /var/lib/annals 0750 annals "
	    "annals' %s/usr/lib/tmpfiles.d/annals.conf", root);
	T_EQ_INT(run(cmd), 0);

	/* bash-completion loads it by the command's name: it must define it. */
	snprintf(cmd, sizeof cmd, "bash --norc --noprofile -c '. %s/usr/share/"
	    "bash-completion/completions/annals && complete -p annals' | "
	    "grep -qx 'complete -F _annals annals'", root);
	T_EQ_INT(run(cmd), 0);

	/* The soname is the major version. */
	snprintf(cmd, sizeof cmd, "objdump -p %s/usr/lib/libannals.so | "
	    "grep -q 'SONAME *libannals.so.0$'", root);
	T_EQ_INT(run(cmd), 0);

	f = fopen("prog.c", "w");
	T_ASSERT(f != NULL);
	fputs("#include <stdio.h>\n#include <annals.h>\n"
	    "int main(void) {\n"
	    "\tannals_ctx *c = annals_connect(\"/nonexistent/annals.sock\");\n"
	    "\tif (c == NULL) return 2;\n"
	    "\tprintf(\"%d %s\\n\", annals_errcode(c) == ANNALS_EIO,\n"
	    "\t    annals_errmsg(c));\n"
	    "\tannals_free(c);\n\treturn 0;\n}\n", f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "PKG_CONFIG_SYSROOT_DIR=%s "
	    "PKG_CONFIG_PATH=%s/usr/lib/pkgconfig sh -c 'cc %s -o prog prog.c "
	    "$(pkg-config --cflags --libs annals)' >&2", root, root, san);
	T_EQ_INT(run(cmd), 0);
	snprintf(cmd, sizeof cmd, "LD_LIBRARY_PATH=%s/usr/lib ./prog > out",
	    root);
	T_EQ_INT(run(cmd), 0);
	f = fopen("out", "r");
	T_ASSERT(f != NULL && fgets(out, sizeof out, f) != NULL);
	fclose(f);
	T_EQ_STR(out, "1 connect /nonexistent/annals.sock: No such file or "
	    "directory\n");

	snprintf(cmd, sizeof cmd, "make -s -C %s B=%s %s PREFIX=/usr "
	    "DESTDIR=%s uninstall >&2", repo, build, *san ? "SAN=1" : "", root);
	T_EQ_INT(run(cmd), 0);
	T_ASSERT(!exists(root, "/usr/sbin/annalsd"));
	T_ASSERT(!exists(root, "/usr/bin/annals-nats"));
	T_ASSERT(!exists(root, "/usr/lib/libannals.so"));
	T_ASSERT(!exists(root, "/usr/include/annals.h"));
	T_ASSERT(!exists(root,
	    "/usr/share/bash-completion/completions/annals"));
	T_ASSERT(!exists(root, "/usr/lib/systemd/system/annalsd.service"));
	T_ASSERT(!exists(root,
	    "/usr/lib/systemd/system/annalsd-replica@.service"));
	T_ASSERT(!exists(root, "/usr/lib/sysusers.d/annals.conf"));
	T_ASSERT(!exists(root, "/usr/lib/tmpfiles.d/annals.conf"));
}
