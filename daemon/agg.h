/*
 * Aggregations answered inside the daemon (histogram, top_actors,
 * co_actors): the store side in store-agg.c, the methods in m-*.c.  The
 * HTTP API runs the same methods (dispatch_local), so both give the same
 * answer to the same parameters.
 */
#ifndef ANNALSD_AGG_H
#define ANNALSD_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "annalsd.h"

#define AGG_COUNT_OVERLAP 0		/* every bucket its span meets */
#define AGG_COUNT_START	1		/* the bucket of its start */

#define AGG_MAX_BUCKETS	100000
#define AGG_DEFAULT_ACTORS 10

struct agg_hist {
	int		 by;		/* DATE_BY_* */
	int		 mode;		/* AGG_COUNT_* */
	int64_t		 first;		/* absolute number of bucket 0 */
	size_t		 n;
	uint64_t	*counts;
	uint64_t	 total;		/* distinct events counted */
};

struct agg_count {
	char		*name;
	uint64_t	 count;
};

struct agg_list {
	struct agg_count *items;
	size_t		 n;
	uint64_t	 events;	/* co_actors: events of the actor */
};

/* store-agg.c */
int	 store_histogram(struct store *, const struct query *,
	     struct agg_hist *, struct aerr *);
int	 store_top_actors(struct store *, const struct query *,
	     const char *, uint32_t, struct agg_list *, struct aerr *);
int	 store_co_actors(struct store *, const struct query *, uint32_t,
	     struct agg_list *, struct aerr *);
void	 agg_list_free(struct agg_list *);
void	 agg_hist_free(struct agg_hist *);
int64_t	 agg_bucket_of(int, int64_t);
int64_t	 agg_bucket_start(int, int64_t);
void	 agg_bucket_label(int, int64_t, char *, size_t);

/* m-histogram.c, m-top-actors.c, m-co-actors.c */
int	 agg_params(const msgpack_object *, const char *const *,
	     const char *const *, msgpack_object *, struct aerr *);
int	 agg_limit(const msgpack_object *, uint32_t *, struct aerr *);
void	 agg_pack_actors(msgpack_packer *, const struct agg_list *);
void	 agg_reply(struct request *, int (*)(const msgpack_object *,
	     msgpack_packer *, struct aerr *));

#endif
