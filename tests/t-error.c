/* The error table and the message composition helpers. */
#include "test.h"
#include "../proto/proto.h"

TEST(error_names_round_trip)
{
	static const int codes[] = { AERR_INVALID, AERR_NOT_FOUND,
	    AERR_MALFORMED, AERR_UNKNOWN_METHOD, AERR_LIMIT, AERR_BAD_CURSOR,
	    AERR_DISK_FULL, AERR_UNAVAILABLE, AERR_UNAUTHORIZED,
	    AERR_INTERNAL, AERR_EXPIRED, AERR_CONFLICT, AERR_IO, AERR_PROTOCOL,
	    AERR_NOMEM };
	size_t		 i;
	const char	*name;

	for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		name = aerr_name(codes[i]);
		T_EQ_INT(aerr_from_name(name, strlen(name)), codes[i]);
		T_ASSERT(strcmp(aerr_text(codes[i]), "unknown error") != 0);
	}
	T_EQ_STR(aerr_name(AERR_NOT_FOUND), "not_found");
	T_EQ_INT(aerr_from_name("no_such_error", 13), AERR_INTERNAL);
	/* A prefix of a real name is not that name. */
	T_EQ_INT(aerr_from_name("not", 3), AERR_INTERNAL);
}

TEST(error_prefix_composes_inside_out)
{
	struct aerr	err;

	aerr_clear(&err);
	T_EQ_INT(err.code, AERR_OK);
	aerr_set(&err, AERR_INVALID, "%s is not a date", "2015-02-30");
	aerr_prefix(&err, "%s: ", "start");
	T_EQ_STR(err.msg, "start: 2015-02-30 is not a date");
	T_EQ_INT(err.code, AERR_INVALID);
}

TEST(error_message_truncates_safely)
{
	struct aerr	err;
	char		big[1000];

	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	aerr_set(&err, AERR_LIMIT, "%s", big);
	T_EQ_INT(strlen(err.msg), sizeof err.msg - 1);
	aerr_prefix(&err, "field: ");
	T_EQ_INT(strncmp(err.msg, "field: xxx", 10), 0);
	T_EQ_INT(strlen(err.msg), sizeof err.msg - 1);
}

TEST(error_truncation_keeps_utf8_whole)
{
	struct aerr	err;
	char		big[600], s[8];
	size_t		i;

	/* "é" is two bytes: whatever the cut, no half character is left. */
	for (i = 0; i + 2 < sizeof big; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[i] = '\0';
	aerr_set(&err, AERR_INVALID, "x%s", big);
	T_ASSERT(utf8_valid(err.msg, strlen(err.msg)));
	aerr_set(&err, AERR_INVALID, "%s", big);
	aerr_prefix(&err, "abc: ");
	T_ASSERT(utf8_valid(err.msg, strlen(err.msg)));

	snprintf(s, sizeof s, "ab\xe2\x82");	/* half of a euro sign */
	utf8_trim(s);
	T_EQ_STR(s, "ab");
	snprintf(s, sizeof s, "ab\xe2\x82\xac");
	utf8_trim(s);
	T_EQ_STR(s, "ab\xe2\x82\xac");
}
