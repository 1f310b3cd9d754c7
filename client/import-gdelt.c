/*
 * GDELT event rows: 1.0 historical files (57 columns), 1.0 daily files
 * (58: SOURCEURL added) and 2.0 (61: an *_ADM2Code after each
 * *_ADM1Code).  A file without a header is read by column count, which
 * may change from row to row (a file of mixed origin); one with a header
 * line (a BigQuery export) by the names in it.
 *
 * GLOBALEVENTID is the key, SQLDATE (YYYYMMDD) the day of the event,
 * Actor1 the source and Actor2 the target (by code, by name when the
 * code is empty), EventCode the type, ActionGeo_* the place, SOURCEURL
 * the URL.  Every other column goes into attrs as text: FeatureIDs are
 * numbers or letters, codes are zero-padded and GoldsteinScale and
 * coordinates are written with varying decimals, so only the counts
 * become integers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

#define GDELT_COLUMNS(X, ADM2)						\
	X("GLOBALEVENTID") X("SQLDATE") X("MonthYear") X("Year")	\
	X("FractionDate") X("Actor1Code") X("Actor1Name")		\
	X("Actor1CountryCode") X("Actor1KnownGroupCode")		\
	X("Actor1EthnicCode") X("Actor1Religion1Code")			\
	X("Actor1Religion2Code") X("Actor1Type1Code") X("Actor1Type2Code") \
	X("Actor1Type3Code") X("Actor2Code") X("Actor2Name")		\
	X("Actor2CountryCode") X("Actor2KnownGroupCode")		\
	X("Actor2EthnicCode") X("Actor2Religion1Code")			\
	X("Actor2Religion2Code") X("Actor2Type1Code") X("Actor2Type2Code") \
	X("Actor2Type3Code") X("IsRootEvent") X("EventCode")		\
	X("EventBaseCode") X("EventRootCode") X("QuadClass")		\
	X("GoldsteinScale") X("NumMentions") X("NumSources")		\
	X("NumArticles") X("AvgTone") X("Actor1Geo_Type")		\
	X("Actor1Geo_FullName") X("Actor1Geo_CountryCode")		\
	X("Actor1Geo_ADM1Code") ADM2("Actor1Geo_ADM2Code")		\
	X("Actor1Geo_Lat") X("Actor1Geo_Long") X("Actor1Geo_FeatureID")	\
	X("Actor2Geo_Type") X("Actor2Geo_FullName")			\
	X("Actor2Geo_CountryCode") X("Actor2Geo_ADM1Code")		\
	ADM2("Actor2Geo_ADM2Code") X("Actor2Geo_Lat") X("Actor2Geo_Long") \
	X("Actor2Geo_FeatureID") X("ActionGeo_Type")			\
	X("ActionGeo_FullName") X("ActionGeo_CountryCode")		\
	X("ActionGeo_ADM1Code") ADM2("ActionGeo_ADM2Code")		\
	X("ActionGeo_Lat") X("ActionGeo_Long") X("ActionGeo_FeatureID")	\
	X("DATEADDED") X("SOURCEURL")

#define GDELT_NAME(s)	s,
#define GDELT_SKIP(s)

/* 2.0, 61 columns. */
static const char *const gdelt_v2[] = {
	GDELT_COLUMNS(GDELT_NAME, GDELT_NAME)
};
/* 1.0 daily, 58 columns; the historical files lack the last one. */
static const char *const gdelt_v1[] = {
	GDELT_COLUMNS(GDELT_NAME, GDELT_SKIP)
};
_Static_assert(sizeof gdelt_v2 / sizeof gdelt_v2[0] == 61, "GDELT 2.0");
_Static_assert(sizeof gdelt_v1 / sizeof gdelt_v1[0] == 58, "GDELT 1.0");

static const char *const gdelt_ints[] = {
	"MonthYear", "Year", "IsRootEvent", "QuadClass", "NumMentions",
	"NumSources", "NumArticles", "Actor1Geo_Type", "Actor2Geo_Type",
	"ActionGeo_Type", NULL
};

static import_guess_fn	gdelt_guess;
static import_layout_fn	gdelt_layout;
static import_row_fn	gdelt_row;

const struct import_format import_gdelt_format = {
	.name = "gdelt",
	.source = "gdelt",
	.roles = {
		[IMPORT_R_ID] = "GLOBALEVENTID",
		[IMPORT_R_DATE] = "SQLDATE",
		[IMPORT_R_ACTOR1] = "Actor1Code",
		[IMPORT_R_ACTOR1NAME] = "Actor1Name",
		[IMPORT_R_ACTOR2] = "Actor2Code",
		[IMPORT_R_ACTOR2NAME] = "Actor2Name",
		[IMPORT_R_TYPE] = "EventCode",
		[IMPORT_R_PLACE] = "ActionGeo_FullName",
		[IMPORT_R_COUNTRY] = "ActionGeo_CountryCode",
		[IMPORT_R_LAT] = "ActionGeo_Lat",
		[IMPORT_R_LON] = "ActionGeo_Long",
		[IMPORT_R_URL] = "SOURCEURL",
	},
	.required = IMPORT_ROLE(IMPORT_R_ID) | IMPORT_ROLE(IMPORT_R_DATE),
	.core = IMPORT_ROLE(IMPORT_R_ID) | IMPORT_ROLE(IMPORT_R_TYPE) |
	    IMPORT_ROLE(IMPORT_R_PLACE) | IMPORT_ROLE(IMPORT_R_COUNTRY) |
	    IMPORT_ROLE(IMPORT_R_URL),
	.ints = gdelt_ints,
	.guess = gdelt_guess,
	.layout = gdelt_layout,
	.row = gdelt_row
};

/* GDELT's own file names, or the column count of one of its layouts. */
static int
gdelt_guess(const char *name, size_t n)
{
	return (import_name_ends(name, ".export.csv") || n == 57 || n == 58 ||
	    n == 61);
}

/* The column names of a file without a header, by column count. */
static int
gdelt_layout(size_t n, const char *const **names, struct aerr *err)
{
	switch (n) {
	case 57:
	case 58:
		*names = gdelt_v1;
		return (0);
	case 61:
		*names = gdelt_v2;
		return (0);
	}
	aerr_set(err, AERR_INVALID, "%zu column%s, expected 57, 58 (GDELT "
	    "1.0) or 61 (GDELT 2.0)", n, n == 1 ? "" : "s");
	return (-1);
}

/* Actor 1 or 2: the code, else the name; nothing when both are empty. */
static int
gdelt_actor(const struct import_header *h, const char *const *f,
    enum import_role code, enum import_role name, const char *role,
    struct event *ev, struct aerr *err)
{
	const char	*v;

	if ((v = import_row_value(h, f, code)) == NULL &&
	    (v = import_row_value(h, f, name)) == NULL)
		return (0);
	return (import_row_actor(ev, v, strlen(v), role, err));
}

static int
gdelt_row(const struct import_header *h, const char *const *f,
    size_t n, const struct import_opts *opts, struct event *ev,
    struct aerr *err)
{
	const char	*v;
	char		 day[16];

	if (import_row_begin(h, n, ev, err) != 0)
		return (-1);
	if (import_row_key(ev, h, opts->source,
	    import_row_value(h, f, IMPORT_R_ID), NULL, err) != 0)
		return (import_row_fail(ev));

	/* SQLDATE is YYYYMMDD; the finish checks that the day exists. */
	v = import_row_value(h, f, IMPORT_R_DATE);
	if (v == NULL || strlen(v) != 8 || strspn(v, "0123456789") != 8) {
		aerr_set(err, AERR_INVALID, "SQLDATE: \"%.64s\" is not "
		    "YYYYMMDD", v != NULL ? v : "");
		return (import_row_fail(ev));
	}
	snprintf(day, sizeof day, "%.4s-%.2s-%.2s", v, v + 4, v + 6);
	if (import_row_str(&ev->start, day, err) != 0)
		return (import_row_fail(ev));

	if (gdelt_actor(h, f, IMPORT_R_ACTOR1, IMPORT_R_ACTOR1NAME, "source",
	    ev, err) != 0 ||
	    gdelt_actor(h, f, IMPORT_R_ACTOR2, IMPORT_R_ACTOR2NAME, "target",
	    ev, err) != 0)
		return (import_row_fail(ev));
	return (import_row_rest(h, f, ev, err));
}
