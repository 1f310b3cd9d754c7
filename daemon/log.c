/*
 * Logging to stderr, one line per event.  Under systemd ($JOURNAL_STREAM)
 * each line carries a <N> priority prefix for the journal; on a terminal
 * it carries the time.  Text that came from a client goes through
 * log_escape() first.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "annalsd.h"

static int	log_level = LOG_NOTICE_LVL;

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return (log_level);
}

static void __attribute__((format(printf, 3, 0)))
log_vwrite(int level, const char *errstr, const char *fmt, va_list ap)
{
	/* syslog priorities: err 3, warning 4, notice 5, info 6, debug 7 */
	static const int	 prio[] = { 3, 4, 5, 6, 7 };
	static const char	*names[] = { "error", "warning", "notice",
	    "info", "debug" };
	char			 msg[1024], stamp[32];
	struct tm		 tm;
	time_t			 now;

	if (level > log_level)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	/* Reader threads log too: one line stays one line. */
	flockfile(stderr);
	if (getenv("JOURNAL_STREAM") != NULL)
		fprintf(stderr, "<%d>", prio[level]);
	else if (isatty(STDERR_FILENO)) {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
		fprintf(stderr, "%s ", stamp);
	}
	if (errstr != NULL)
		fprintf(stderr, "annalsd: %s: %s: %s\n", names[level], msg,
		    errstr);
	else
		fprintf(stderr, "annalsd: %s: %s\n", names[level], msg);
	funlockfile(stderr);
}

#define LOG_FN(name, level)						\
void									\
name(const char *fmt, ...)						\
{									\
	va_list	ap;							\
									\
	va_start(ap, fmt);						\
	log_vwrite(level, NULL, fmt, ap);				\
	va_end(ap);							\
}

LOG_FN(log_err, LOG_ERR_LVL)
LOG_FN(log_warn, LOG_WARN_LVL)
LOG_FN(log_notice, LOG_NOTICE_LVL)
LOG_FN(log_info, LOG_INFO_LVL)
LOG_FN(log_debug, LOG_DEBUG_LVL)

/* Log with the reason errno gives and exit. */
void
fatal(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR_LVL, strerror(saved), fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR_LVL, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

/*
 * Make client-supplied text safe for one log line: control and non-ASCII
 * bytes as \xNN, at most about 80 bytes shown.
 */
const char *
log_escape(const char *s, size_t len, char *buf, size_t size)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i, o = 0;
	unsigned char		c;

	for (i = 0; i < len && o + 5 < size && i < 80; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		}
	}
	if (i < len && o + 4 < size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return (buf);
}
