/*
 * The error vocabulary shared by daemon, library and CLI: one table maps
 * each code to its wire name and default text, so the three never drift.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "proto.h"

static const struct {
	int		 code;
	const char	*name;
	const char	*text;
} aerr_table[] = {
#define AERR_ROW(name, num, wire, text) { num, wire, text },
	PROTO_ERRORS(AERR_ROW)
#undef AERR_ROW
};

#define AERR_COUNT (sizeof aerr_table / sizeof aerr_table[0])

void
aerr_clear(struct aerr *err)
{
	err->code = AERR_OK;
	err->msg[0] = '\0';
}

/* Set the code and the message; the message says what and which value. */
void
aerr_set(struct aerr *err, int code, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL)
		return;
	err->code = code;
	va_start(ap, fmt);
	if (vsnprintf(err->msg, sizeof err->msg, fmt, ap) >=
	    (int)sizeof err->msg)
		utf8_trim(err->msg);
	va_end(ap);
}

/* Put context before the message: "start: " + "2015-02-30 is not a date". */
void
aerr_prefix(struct aerr *err, const char *fmt, ...)
{
	char	prefix[sizeof err->msg];
	size_t	plen, mlen;
	va_list	ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	plen = strlen(prefix);
	mlen = strlen(err->msg);
	if (plen + mlen >= sizeof err->msg)
		mlen = sizeof err->msg - 1 - plen;
	memmove(err->msg + plen, err->msg, mlen);
	memcpy(err->msg, prefix, plen);
	err->msg[plen + mlen] = '\0';
	utf8_trim(err->msg);
}

/* The wire name of a code; "internal" for a code nobody defined. */
const char *
aerr_name(int code)
{
	size_t	i;

	for (i = 0; i < AERR_COUNT; i++) {
		if (aerr_table[i].code == code)
			return (aerr_table[i].name);
	}
	if (code == AERR_OK)
		return ("ok");
	return ("internal");
}

const char *
aerr_text(int code)
{
	size_t	i;

	for (i = 0; i < AERR_COUNT; i++) {
		if (aerr_table[i].code == code)
			return (aerr_table[i].text);
	}
	if (code == AERR_OK)
		return ("success");
	return ("unknown error");
}

/* The code of a wire name; a name from a newer server maps to internal. */
int
aerr_from_name(const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < AERR_COUNT; i++) {
		if (strlen(aerr_table[i].name) == len &&
		    memcmp(aerr_table[i].name, name, len) == 0)
			return (aerr_table[i].code);
	}
	return (AERR_INTERNAL);
}
