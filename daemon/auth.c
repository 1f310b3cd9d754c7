/*
 * Tokens: --auth-file holds one "token scope" per line (scope read or
 * write; write includes read).  When it is given, every connection must
 * present a token in hello before anything but hello and ping.  Tokens are
 * compared in constant time against every line, so neither the position
 * of a match nor the length of a common prefix shows in the timing.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annalsd.h"

#define AUTH_MAX_TOKEN	256

struct token {
	unsigned char	 text[AUTH_MAX_TOKEN];
	size_t		 len;
	int		 scope;
};

static struct token	*tokens;
static size_t		 ntokens;
static int		 enabled;

int
auth_enabled(void)
{
	return (enabled);
}

/* Read the token file; any line it cannot read is an error. */
int
auth_load(const char *path, struct aerr *err)
{
	struct stat	 sb;
	char		 line[1024], *tok, *scope, *end;
	unsigned	 lineno = 0;
	FILE		*f;

	if ((f = fopen(path, "r")) == NULL) {
		aerr_set(err, AERR_INVALID, "--auth-file %s: %s", path,
		    strerror(errno));
		return (-1);
	}
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & 004))
		log_warn("--auth-file %s is readable by everyone", path);
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		tok = line + strspn(line, " \t");
		if (*tok == '#' || *tok == '\n' || *tok == '\0')
			continue;
		end = tok + strcspn(tok, " \t\n");
		scope = end + strspn(end, " \t");
		if (*end != '\0')
			*end = '\0';
		scope[strcspn(scope, " \t\n")] = '\0';
		tokens = xreallocarray(tokens, ntokens + 1, sizeof *tokens);
		memset(&tokens[ntokens], 0, sizeof tokens[ntokens]);
		if (strlen(tok) < 16 || strlen(tok) >= AUTH_MAX_TOKEN) {
			aerr_set(err, AERR_INVALID, "%s:%u: a token must have "
			    "16 to %d characters", path, lineno,
			    AUTH_MAX_TOKEN - 1);
			fclose(f);
			return (-1);
		}
		if (strcmp(scope, "read") == 0)
			tokens[ntokens].scope = AUTH_READ;
		else if (strcmp(scope, "write") == 0)
			tokens[ntokens].scope = AUTH_WRITE;
		else {
			aerr_set(err, AERR_INVALID, "%s:%u: scope must be read "
			    "or write", path, lineno);
			fclose(f);
			return (-1);
		}
		tokens[ntokens].len = strlen(tok);
		memcpy(tokens[ntokens].text, tok, tokens[ntokens].len);
		ntokens++;
	}
	fclose(f);
	if (ntokens == 0) {
		aerr_set(err, AERR_INVALID, "--auth-file %s: no tokens", path);
		return (-1);
	}
	enabled = 1;
	return (0);
}

/* The scope a token grants, AUTH_NONE for a wrong one. */
int
auth_check(const char *given, size_t len)
{
	unsigned char	diff, c;
	size_t		i, t;
	int		scope = AUTH_NONE, match;

	if (len >= AUTH_MAX_TOKEN)
		len = AUTH_MAX_TOKEN - 1;
	for (t = 0; t < ntokens; t++) {
		diff = (unsigned char)(tokens[t].len != len);
		for (i = 0; i < AUTH_MAX_TOKEN; i++) {
			c = i < len ? (unsigned char)given[i] : 0;
			diff |= tokens[t].text[i] ^ c;
		}
		/* match is all ones when diff is 0, without a branch. */
		match = -(int)(((unsigned)diff - 1) >> 8 & 1);
		scope |= tokens[t].scope & match;
	}
	return ((scope & AUTH_WRITE) == AUTH_WRITE ? AUTH_WRITE : scope);
}

void
auth_free(void)
{
	if (tokens != NULL)
		memset(tokens, 0, ntokens * sizeof *tokens);
	free(tokens);
	tokens = NULL;
	ntokens = 0;
	enabled = 0;
}
