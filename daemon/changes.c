/*
 * Who wants to hear about commits: subscribed connections and the HTTP
 * event streams register here, and the group commit calls
 * changes_committed() after each transaction that wrote something.
 */
#include <sys/queue.h>

#include <stdlib.h>

#include "annalsd.h"

struct listener {
	changes_cb		 fn;
	void			*arg;
	int			 gone;
	TAILQ_ENTRY(listener)	 entry;
};

static TAILQ_HEAD(, listener)	listeners = TAILQ_HEAD_INITIALIZER(listeners);
static uint64_t			announced;
static int			walking;

void
changes_listen(changes_cb fn, void *arg)
{
	struct listener	*l;

	l = xcalloc(1, sizeof *l);
	l->fn = fn;
	l->arg = arg;
	TAILQ_INSERT_TAIL(&listeners, l, entry);
}

void
changes_unlisten(changes_cb fn, void *arg)
{
	struct listener	*l, *next;

	for (l = TAILQ_FIRST(&listeners); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (l->fn != fn || l->arg != arg)
			continue;
		/* A listener may leave from inside its own callback. */
		if (walking)
			l->gone = 1;
		else {
			TAILQ_REMOVE(&listeners, l, entry);
			free(l);
		}
	}
}

void
changes_committed(void)
{
	struct listener	*l, *next;
	uint64_t	 seq = store_last_seq(server->store);

	if (seq == announced)
		return;
	announced = seq;
	walking = 1;
	TAILQ_FOREACH(l, &listeners, entry) {
		if (!l->gone)
			l->fn(l->arg, seq);
	}
	walking = 0;
	for (l = TAILQ_FIRST(&listeners); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (l->gone) {
			TAILQ_REMOVE(&listeners, l, entry);
			free(l);
		}
	}
}

void
changes_free(void)
{
	struct listener	*l;

	while ((l = TAILQ_FIRST(&listeners)) != NULL) {
		TAILQ_REMOVE(&listeners, l, entry);
		free(l);
	}
}
