/*
 * ICEWS coded event rows: TSV with a header line, "NA" for a missing
 * value.  Event IDs repeat across the full data with different dates,
 * so the key is "Event ID/Event Date" ("32889836/2018-06-01").
 *
 * Event Date is the day, Source Name the source and Target Name the
 * target, CAMEO Code the type, Event Text the title, City, Country,
 * Latitude and Longitude the place.  "NA" stays "NA" in attrs, so the
 * row reads back as it was.
 */
#include <string.h>

#include "import.h"

/* The columns of a file whose header line is missing. */
static const char *const icews_columns[] = {
	"Event ID", "Event Date", "Source Name", "Source Sectors",
	"Source Country", "Event Text", "CAMEO Code", "Intensity",
	"Target Name", "Target Sectors", "Target Country", "Story ID",
	"Sentence Number", "Publisher", "City", "District", "Province",
	"Country", "Latitude", "Longitude"
};

static const char *const icews_ints[] = {
	"Event ID", "Story ID", "Sentence Number", NULL
};

static import_guess_fn	icews_guess;
static import_layout_fn	icews_layout;
static import_row_fn	icews_row;

const struct import_format import_icews_format = {
	.name = "icews",
	.source = "icews",
	.roles = {
		[IMPORT_R_ID] = "Event ID",
		[IMPORT_R_DATE] = "Event Date",
		[IMPORT_R_ACTOR1] = "Source Name",
		[IMPORT_R_ACTOR2] = "Target Name",
		[IMPORT_R_TYPE] = "CAMEO Code",
		[IMPORT_R_TITLE] = "Event Text",
		[IMPORT_R_PLACE] = "City",
		[IMPORT_R_COUNTRY] = "Country",
		[IMPORT_R_LAT] = "Latitude",
		[IMPORT_R_LON] = "Longitude",
	},
	.required = IMPORT_ROLE(IMPORT_R_ID) | IMPORT_ROLE(IMPORT_R_DATE),
	.core = IMPORT_ROLE(IMPORT_R_TYPE) | IMPORT_ROLE(IMPORT_R_TITLE) |
	    IMPORT_ROLE(IMPORT_R_PLACE) | IMPORT_ROLE(IMPORT_R_COUNTRY),
	.ints = icews_ints,
	.missing = "NA",
	.guess = icews_guess,
	.layout = icews_layout,
	.row = icews_row
};

#define ICEWS_NCOLUMNS	(sizeof icews_columns / sizeof icews_columns[0])

/* A file named for ICEWS with its column count. */
static int
icews_guess(const char *name, size_t n)
{
	return (import_name_has(name, "icews") && n == ICEWS_NCOLUMNS);
}

static int
icews_layout(size_t n, const char *const **names, struct aerr *err)
{
	if (n != ICEWS_NCOLUMNS) {
		aerr_set(err, AERR_INVALID, "no header line, and %zu %s no "
		    "layout of icews", n, n == 1 ? "column is" : "columns are");
		return (-1);
	}
	*names = icews_columns;
	return (0);
}

static int
icews_row(const struct import_header *h, const char *const *f,
    size_t n, const struct import_opts *opts, struct event *ev,
    struct aerr *err)
{
	const char	*v, *date;

	if (import_row_begin(h, n, ev, err) != 0)
		return (-1);
	date = import_row_value(h, f, IMPORT_R_DATE);
	if (date == NULL || strlen(date) != 10 || date[4] != '-' ||
	    date[7] != '-') {
		aerr_set(err, AERR_INVALID, "Event Date: \"%.64s\" is not "
		    "YYYY-MM-DD", date != NULL ? date : "");
		return (import_row_fail(ev));
	}
	if (import_row_key(ev, h, opts->source,
	    import_row_value(h, f, IMPORT_R_ID), date, err) != 0 ||
	    import_row_str(&ev->start, date, err) != 0)
		return (import_row_fail(ev));
	if ((v = import_row_value(h, f, IMPORT_R_ACTOR1)) != NULL &&
	    import_row_actor(ev, v, strlen(v), "source", err) != 0)
		return (import_row_fail(ev));
	if ((v = import_row_value(h, f, IMPORT_R_ACTOR2)) != NULL &&
	    import_row_actor(ev, v, strlen(v), "target", err) != 0)
		return (import_row_fail(ev));
	return (import_row_rest(h, f, ev, err));
}
