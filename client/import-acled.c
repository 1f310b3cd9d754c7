/*
 * ACLED event rows, mapped by header name so that the current export
 * format and the 2020 one (other columns, another order) both work.
 *
 * event_id_cnty is the key; event_date ("2025-04-01", or "21 March 2020"
 * in the 2020 format) with time_precision gives the start: 1 is that
 * day, 2 (ACLED knows only the week) is the day marked both uncertain
 * and approximate, "2020-03-21%", whose fuzzy span reaches two days
 * either side, and 3 (only the month) is the month, "2020-03".  actor1
 * is the source and actor2 the target, each associate of
 * assoc_actor_1/2 ("; "-separated) is a "source-assoc"/"target-assoc";
 * event_type is the type, notes the text, location, country, latitude
 * and longitude the place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

static const char *const acled_ints[] = {
	"data_id", "iso", "event_id_no_cnty", "year", "time_precision",
	"inter1", "inter2", "interaction", "geo_precision", "fatalities",
	"timestamp", NULL
};

static import_row_fn	acled_row;

const struct import_format import_acled_format = {
	.name = "acled",
	.source = "acled",
	.roles = {
		[IMPORT_R_ID] = "event_id_cnty",
		[IMPORT_R_DATE] = "event_date",
		[IMPORT_R_PRECISION] = "time_precision",
		[IMPORT_R_ACTOR1] = "actor1",
		[IMPORT_R_ASSOC1] = "assoc_actor_1",
		[IMPORT_R_ACTOR2] = "actor2",
		[IMPORT_R_ASSOC2] = "assoc_actor_2",
		[IMPORT_R_TYPE] = "event_type",
		[IMPORT_R_TEXT] = "notes",
		[IMPORT_R_PLACE] = "location",
		[IMPORT_R_COUNTRY] = "country",
		[IMPORT_R_LAT] = "latitude",
		[IMPORT_R_LON] = "longitude",
	},
	.required = IMPORT_ROLE(IMPORT_R_ID) | IMPORT_ROLE(IMPORT_R_DATE),
	.core = IMPORT_ROLE(IMPORT_R_ID) | IMPORT_ROLE(IMPORT_R_TYPE) |
	    IMPORT_ROLE(IMPORT_R_TEXT) | IMPORT_ROLE(IMPORT_R_PLACE) |
	    IMPORT_ROLE(IMPORT_R_COUNTRY),
	.ints = acled_ints,
	.row = acled_row
};

static const char *const acled_months[] = {
	"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"
};

/*
 * event_date as YYYY-MM-DD into day (11 bytes and more): ISO as it is,
 * "21 March 2020" converted.  Whether the day exists is left to the
 * finish, which parses the date.
 */
static int
acled_day(const char *v, char *day, size_t size)
{
	const char	*p;
	size_t		 i, len;
	int		 d;

	if (strlen(v) == 10 && v[4] == '-' && v[7] == '-' &&
	    strspn(v, "0123456789-") == 10) {
		snprintf(day, size, "%s", v);
		return (0);
	}
	/* "D Month YYYY" or "DD Month YYYY". */
	len = strspn(v, "0123456789");
	if (len < 1 || len > 2 || v[len] != ' ')
		return (-1);
	d = atoi(v);
	p = v + len + 1;
	for (i = 0; i < 12; i++) {
		len = strlen(acled_months[i]);
		if (strncmp(p, acled_months[i], len) == 0 && p[len] == ' ')
			break;
	}
	if (i == 12)
		return (-1);
	p += len + 1;
	if (strlen(p) != 4 || strspn(p, "0123456789") != 4)
		return (-1);
	snprintf(day, size, "%s-%02zu-%02d", p, i + 1, d);
	return (0);
}

static int
acled_row(const struct import_header *h, const char *const *f,
    size_t n, const struct import_opts *opts, struct event *ev,
    struct aerr *err)
{
	const char	*v, *prec;
	char		 day[32];

	if (import_row_begin(h, n, ev, err) != 0)
		return (-1);
	if (import_row_key(ev, h, opts->source,
	    import_row_value(h, f, IMPORT_R_ID), NULL, err) != 0)
		return (import_row_fail(ev));

	v = import_row_value(h, f, IMPORT_R_DATE);
	if (v == NULL || acled_day(v, day, sizeof day) != 0) {
		aerr_set(err, AERR_INVALID, "event_date: \"%.64s\" is not a "
		    "date like 2020-03-21 or 21 March 2020", v != NULL ? v : "");
		return (import_row_fail(ev));
	}
	prec = import_row_value(h, f, IMPORT_R_PRECISION);
	if (prec == NULL || strcmp(prec, "1") == 0)
		;
	else if (strcmp(prec, "2") == 0)
		strncat(day, "%", sizeof day - strlen(day) - 1);
	else if (strcmp(prec, "3") == 0)
		day[7] = '\0';
	else {
		aerr_set(err, AERR_INVALID, "time_precision: \"%.64s\" is not "
		    "1, 2 or 3", prec);
		return (import_row_fail(ev));
	}
	if (import_row_str(&ev->start, day, err) != 0)
		return (import_row_fail(ev));

	if ((v = import_row_value(h, f, IMPORT_R_ACTOR1)) != NULL &&
	    import_row_actor(ev, v, strlen(v), "source", err) != 0)
		return (import_row_fail(ev));
	if ((v = import_row_value(h, f, IMPORT_R_ASSOC1)) != NULL &&
	    import_row_assoc(ev, v, "source-assoc", err) != 0)
		return (import_row_fail(ev));
	if ((v = import_row_value(h, f, IMPORT_R_ACTOR2)) != NULL &&
	    import_row_actor(ev, v, strlen(v), "target", err) != 0)
		return (import_row_fail(ev));
	if ((v = import_row_value(h, f, IMPORT_R_ASSOC2)) != NULL &&
	    import_row_assoc(ev, v, "target-assoc", err) != 0)
		return (import_row_fail(ev));

	return (import_row_rest(h, f, ev, err));
}
