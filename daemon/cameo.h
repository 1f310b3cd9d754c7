/*
 * Names composed from CAMEO actor codes (cameo.c); the tables are
 * generated from the tables in daemon/cameo/ by cameo-gen.awk.
 */
#ifndef ANNALSD_CAMEO_H
#define ANNALSD_CAMEO_H

#include <stddef.h>

struct cameo_code {
	const char	*code;		/* three capitals */
	const char	*label;
};

/* Sorted by code. */
extern const struct cameo_code	cameo_country[];
extern const size_t		cameo_ncountry;
extern const struct cameo_code	cameo_type[];
extern const size_t		cameo_ntype;

#define CAMEO_MAX_PARTS	6		/* country and five types */
#define CAMEO_MAX_NAME	512		/* bytes of a composed name */

const char *cameo_label(const struct cameo_code *, size_t, const char *);
int	 cameo_name(const char *, size_t, char *, size_t);

#endif
