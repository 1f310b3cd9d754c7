/*
 * The Annals timeline page: a histogram (uPlot) over a zoomable timeline
 * (vis-timeline) of the events in view, filters, a details panel, and
 * live updates from the server's change stream.  Everything it shows
 * comes from the daemon's /v1 API; the view lives in the URL.
 */
'use strict';

(function () {
	const DAY = 86400000;
	const PAGE = 1000;
	/*
	 * The keys of an event the timeline and the list draw (label, item,
	 * listItem).  The details panel fetches the whole event (select()),
	 * with its tags, links, attributes, source and rev.  The Text box's
	 * words are found by the server (q=), not in these keys.
	 */
	const DRAWN = 'id,start,end,type,title,text,place,actors';

	const $ = (id) => document.getElementById(id);
	const state = {
		from: null, to: null,		/* the window, ms */
		actor: '', type: '', text: '',
		alias: null,			/* the address's alias=, kept */
		sel: null,
		events: new Map(),		/* id -> event in view */
		more: false,			/* the window holds more events */
		histogram: null,		/* {params, buckets, total} */
		busy: 0,
		loads: 0,
		changes: 0,			/* changes seen on the stream */
		completed: null			/* what the completions are for */
	};
	/* For people poking around and for the browser test. */
	window.annals = { state: state, idle: false };

	function esc(s) {
		return String(s).replace(/[&<>"']/g, (c) => ({
			'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;',
			"'": '&#39;'
		})[c]);
	}

	/* A day as the API writes dates: YYYY-MM-DD, years signed. */
	function day(ms) {
		const d = new Date(ms);
		const y = d.getUTCFullYear();
		const ys = (y < 0 ? '-' : '') + String(Math.abs(y)).padStart(4, '0');
		return ys + '-' + String(d.getUTCMonth() + 1).padStart(2, '0') +
		    '-' + String(d.getUTCDate()).padStart(2, '0');
	}

	/* The first instant of YYYY, YYYY-MM or YYYY-MM-DD; NaN otherwise. */
	function parseDate(s, end) {
		const m = /^(-?\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/.exec(s.trim());
		if (!m)
			return NaN;
		const y = +m[1], mo = m[2] ? +m[2] - 1 : 0, d = m[3] ? +m[3] : 1;
		const t = new Date(Date.UTC(2000, mo, d));
		t.setUTCFullYear(y);
		if (!end)
			return t.getTime();
		/* The end of the period written: next day, month or year. */
		if (m[3])
			t.setUTCDate(t.getUTCDate() + 1);
		else if (m[2])
			t.setUTCMonth(t.getUTCMonth() + 1);
		else
			t.setUTCFullYear(y + 1);
		return t.getTime();
	}

	/*
	 * The token, when the server requires one (annalsd --auth-file):
	 * asked for when a call answers 401, kept for this tab's session
	 * only (sessionStorage, never localStorage), sent as a header.
	 */
	const TOKEN = 'annals.token';
	let asking = false;

	function headers(token) {
		const h = { Accept: 'application/json' };
		if (token)
			h.Authorization = 'Bearer ' + token;
		return h;
	}

	/* Show the token field, saying why: none given, or had refused. */
	function askToken(had, detail) {
		if (asking)
			return;
		sessionStorage.removeItem(TOKEN);
		asking = true;
		clearTimeout(relisten);
		if (window.annals.stream)
			window.annals.stream.close();
		$('live').classList.remove('on');
		$('token-msg').textContent = had ?
		    'The token was refused: ' + detail + '.' :
		    'This server needs a token to show its events.';
		$('token-form').hidden = false;
		$('token').focus();
	}

	async function api(path, method) {
		const token = sessionStorage.getItem(TOKEN);
		const r = await fetch(path, { method: method || 'GET',
		    headers: headers(token) });
		const body = await r.json();
		/* A late answer to a token since replaced is not asking. */
		if (r.status === 401 && token === sessionStorage.getItem(TOKEN))
			askToken(token !== null, body.detail || r.statusText);
		if (!r.ok) {
			const e = new Error(body.detail || r.statusText);
			e.status = r.status;
			throw e;
		}
		return body;
	}

	function filterParams() {
		const p = new URLSearchParams();
		if (state.actor)
			p.set('actor', state.actor);
		if (state.type)
			p.set('type', state.type);
		if (state.text)
			p.set('q', state.text);
		/*
		 * alias=false (an actor is a code, not an alias) has no
		 * field: it is kept from the address as given, so that the
		 * page asks what the list annalsd served with it shows.
		 */
		if (state.alias !== null)
			p.set('alias', state.alias);
		return p;
	}

	/* The view in the address bar, so that a link shows the same. */
	function saveView() {
		const p = filterParams();
		p.set('from', day(state.from));
		p.set('to', day(state.to - 1));
		if (state.sel !== null)
			p.set('sel', state.sel);
		history.replaceState(null, '', '?' + p.toString());
	}

	function bucketSize(ms) {
		if (ms <= 120 * DAY)
			return 'day';
		if (ms <= 3 * 366 * DAY)
			return 'week';
		if (ms <= 40 * 366 * DAY)
			return 'month';
		return 'year';
	}

	/* ---- the timeline ---- */

	/*
	 * Rows stack down from the axis and the panel grows with them, up
	 * to what fits in the window; past that it scrolls (wheel, drag or
	 * the cues below), and Ctrl+wheel or a pinch zooms.
	 */
	const items = new vis.DataSet();
	const timeline = new vis.Timeline($('timeline'), items, {
		maxHeight: maxHeight(),
		verticalScroll: true,
		zoomKey: 'ctrlKey',
		stack: true,
		showCurrentTime: false,
		zoomMin: 3600 * 1000,
		zoomMax: 3000 * 365 * DAY,
		orientation: 'top',
		margin: { axis: 4, item: { horizontal: 2, vertical: 3 } },
		tooltip: { followMouse: true, overflowMethod: 'cap' }
	});
	window.annals.timeline = timeline;
	window.annals.items = items;

	/* The most the timeline may take: the rest of the window, or 260px. */
	function maxHeight() {
		const top = $('timeline').getBoundingClientRect().top +
		    window.scrollY;
		const below = $('legend').offsetHeight + 24;
		return Math.max(260, Math.floor(window.innerHeight - top - below));
	}

	/* The part of the timeline that holds the items. */
	function panel() {
		return $('timeline').querySelector('.vis-panel.vis-center');
	}

	/*
	 * The cues: how many events lie above and below the part of the
	 * panel in view, as buttons that scroll to them.
	 */
	const cues = { above: cue('above', -1), below: cue('below', 1) };

	function cue(where, dir) {
		const b = document.createElement('button');
		b.type = 'button';
		b.className = 'cue ' + where;
		b.hidden = true;
		/*
		 * Scroll as the wheel does: vis-timeline has no call for it, and
		 * its scroll bar may have no width (overlay scroll bars).
		 */
		b.addEventListener('click', () => {
			const p = panel();
			p.dispatchEvent(new WheelEvent('wheel', { bubbles: true,
			    cancelable: true, deltaMode: 0,
			    deltaY: dir * Math.max(40, p.clientHeight * 0.8) }));
		});
		$('timeline').appendChild(b);
		return b;
	}

	function drawCues() {
		const el = panel();
		if (!el)
			return;
		const p = el.getBoundingClientRect();
		let above = 0, below = 0;
		/* An item is a .vis-item with a label (not a box's line or dot). */
		el.querySelectorAll('.vis-item-content').forEach((c) => {
			const r = c.closest('.vis-item').getBoundingClientRect();
			if (r.top < p.top - 0.5)
				above++;
			else if (r.bottom > p.bottom + 0.5)
				below++;
		});
		const set = (b, n, arrow, text) => {
			b.hidden = n === 0;
			b.textContent = arrow + ' ' + n + (n === 1 ? ' event ' :
			    ' events ') + text;
		};
		set(cues.above, above, '\u25b2', 'above');
		set(cues.below, below, '\u25bc', 'below');
		cues.above.style.top = (el.offsetTop + 4) + 'px';
		cues.below.style.top = (el.offsetTop + el.offsetHeight -
		    cues.below.offsetHeight - 4) + 'px';
	}

	let cueFrame = 0;
	timeline.on('changed', () => {
		cancelAnimationFrame(cueFrame);
		cueFrame = requestAnimationFrame(drawCues);
	});

	function uncertain(ev) {
		return /[?~%]/.test((ev.start || '') + (ev.end || ''));
	}

	function label(ev) {
		return ev.title || ev.type || ('event ' + ev.id);
	}

	/* One event as a timeline item, drawn over the span it covers. */
	function item(ev) {
		const s = ev.span || {};
		const fuzzy = uncertain(ev) || s.lo === null || s.hi === null;
		let lo = fuzzy ? s.flo : s.lo, hi = fuzzy ? s.fhi : s.hi;
		/* Open ends reach to the edge of the view. */
		if (lo === null || lo === undefined)
			lo = Math.min(state.from, s.hi !== null ? s.hi : state.from);
		if (hi === null || hi === undefined)
			hi = Math.max(state.to, lo + DAY);
		const exact = s.precision === 'day' || s.precision === 'time';
		const it = {
			id: ev.id,
			content: esc(label(ev)),
			title: esc((ev.start || '') + (ev.end ? ' / ' + ev.end : '') +
			    ' \u2014 ' + label(ev)),
			className: 'prec-' + (s.precision || 'none') +
			    (fuzzy ? ' uncertain' : '') +
			    (ev.match === 'possible' ? ' possible' : '')
		};
		if (exact && !fuzzy && hi - lo < DAY) {
			it.type = 'box';
			it.start = lo;
		} else {
			it.type = 'range';
			it.start = lo;
			it.end = hi + 1000;
		}
		return it;
	}

	function drawItems() {
		const shown = [], lis = [];
		state.events.forEach((ev) => {
			shown.push(item(ev));
			lis.push(listItem(ev));
		});
		items.clear();
		items.add(shown);
		if (state.sel !== null && items.get(state.sel))
			timeline.setSelection([state.sel]);
		if (state.more) {
			const li = document.createElement('li');
			li.className = 'more';
			li.textContent = 'and more: the first ' + PAGE +
			    ' are listed';
			lis.push(li);
		}
		$('event-list').replaceChildren(...lis);
		$('list-count').textContent = 'The ' + (shown.length === 1 ?
		    'event' : shown.length + ' events') + ' in view, as a list';
		return shown.length;
	}

	/*
	 * The list under the timeline, as the server writes it into the
	 * page for an address with a window (http_api_page): the first
	 * paint, and a reader without scripts, have the events in it.
	 */
	function listItem(ev) {
		const li = document.createElement('li');
		const t = document.createElement('time');
		li.dataset.id = ev.id;
		t.textContent = ev.start + (ev.end ? ' / ' + ev.end : '');
		li.append(t, ' ' + label(ev));
		return li;
	}

	$('event-list').addEventListener('click', (e) => {
		const li = e.target.closest('li[data-id]');
		if (!li)
			return;
		timeline.setSelection([Number(li.dataset.id)]);
		select(Number(li.dataset.id));
	});

	/* ---- the histogram ---- */

	let plot = null;

	function drawHistogram(h) {
		const xs = [], ys = [];
		const b = h.buckets;
		for (let i = 0; i < b.length; i++) {
			const t0 = b[i].time;
			const t1 = i + 1 < b.length ? b[i + 1].time :
			    t0 + (i > 0 ? t0 - b[i - 1].time : DAY);
			xs.push((t0 + t1) / 2000);
			ys.push(b[i].count);
		}
		const el = $('histogram');
		const width = el.clientWidth || 800;
		const opts = {
			width: width,
			height: 130,
			legend: { show: false },
			cursor: { drag: { x: false, y: false }, points: { show: false } },
			scales: {
				x: { time: true, range: () => [state.from / 1000,
				    state.to / 1000] },
				y: { range: (u, min, max) => [0, Math.max(1, max)] }
			},
			axes: [{ size: 28 }, { size: 44 }],
			series: [{}, {
				label: 'events',
				stroke: '#2f6db5',
				fill: 'rgba(47,109,181,0.55)',
				paths: uPlot.paths.bars({ size: [0.9, 80] }),
				points: { show: false }
			}]
		};
		if (plot)
			plot.destroy();
		plot = new uPlot(opts, [xs, ys], el);
		/* A click on a bar zooms the timeline to its period. */
		plot.over.addEventListener('click', () => {
			const i = plot.cursor.idx;
			if (i === null || i === undefined || !b[i])
				return;
			const t1 = i + 1 < b.length ? b[i + 1].time :
			    b[i].time + (i > 0 ? b[i].time - b[i - 1].time : DAY);
			timeline.setWindow(b[i].time, t1);
		});
	}

	/* ---- loading ---- */

	async function load() {
		state.busy++;
		window.annals.idle = false;
		const p = filterParams();
		p.set('from', day(state.from));
		p.set('to', day(state.to - 1));
		const hp = new URLSearchParams(p);
		hp.set('by', bucketSize(state.to - state.from));
		p.set('limit', PAGE);
		p.set('span', 'true');
		p.set('fields', DRAWN);
		try {
			const [evs, h] = await Promise.all([
			    api('/v1/events?' + p.toString()),
			    api('/v1/histogram?' + hp.toString())]);
			state.events = new Map(evs.events.map((e) => [e.id, e]));
			state.more = evs.next !== null;
			state.histogram = { params: hp.toString(),
			    buckets: h.buckets, total: h.total };
			const shown = drawItems();
			drawHistogram(h);
			timeline.setOptions({ maxHeight: maxHeight() });
			if (state.actor && !state.actor.endsWith('*'))
				await learnLabels([state.actor]);
			$('summary').textContent = h.total + ' events' +
			    (state.actor ? ' of ' + named(state.actor) : '') +
			    ' from ' +
			    day(state.from) + ' to ' + day(state.to - 1) +
			    (state.more ? '; the first ' + PAGE + ' are drawn' : '') +
			    (state.text ? ' holding \u201c' + state.text +
			    '\u201d (' + shown + ' drawn)' : '') +
			    '. Click a bar or Ctrl+wheel to zoom, an event ' +
			    'for details.';
		} catch (e) {
			$('summary').textContent = 'Cannot load: ' + e.message;
		}
		state.loads++;
		$('from').value = day(state.from);
		$('to').value = day(state.to - 1);
		saveView();
		if (--state.busy === 0)
			window.annals.idle = true;
	}

	let timer = null;
	function loadSoon(ms) {
		clearTimeout(timer);
		window.annals.idle = false;
		timer = setTimeout(load, ms);
	}

	timeline.on('rangechanged', (props) => {
		state.from = props.start.getTime();
		state.to = props.end.getTime();
		loadSoon(200);
	});

	/* ---- details ---- */

	/* ---- actor names, from the actor dictionary ---- */

	/* code -> its label ("Syria: government"), or null: none. */
	const labels = new Map();

	/* Learn the labels of codes not known yet, from /v1/actors/{code}. */
	async function learnLabels(codes) {
		const want = [...new Set(codes)].filter((c) => c &&
		    !labels.has(c));
		await Promise.all(want.map(async (c) => {
			const r = await api('/v1/actors/' +
			    encodeURIComponent(c)).catch(() => null);
			labels.set(c, r && r.label ? r.label : null);
		}));
	}

	/* A code with its label beside it, when it has one. */
	function named(code) {
		const l = labels.get(code);
		return l ? code + ' \u2014 ' + l : code;
	}

	function actorsText(ev) {
		return (ev.actors || []).map((a) => named(a.name) +
		    (a.role ? ' (' + a.role + ')' : '')).join(', ');
	}

	function row(dl, name, value, html) {
		if (value === undefined || value === null || value === '')
			return;
		const dt = document.createElement('dt');
		const dd = document.createElement('dd');
		dt.textContent = name;
		if (html)
			dd.appendChild(value);
		else
			dd.textContent = value;
		dl.append(dt, dd);
	}

	/* The event the panel is about, even while it says only a note. */
	let detailId = null;

	/* The panel saying only a note about event id: loading, or gone. */
	function showNote(id, title, note) {
		const h = document.createElement('h2');
		const p = document.createElement('p');
		h.textContent = title || ('Event ' + id);
		p.className = 'note';
		p.textContent = note;
		$('detail-body').replaceChildren(h, p);
		detailId = id;
		$('details').hidden = false;
	}

	function showDetails(ev) {
		const body = $('detail-body');
		body.replaceChildren();
		const h = document.createElement('h2');
		h.textContent = ev.title || ('Event ' + ev.id);
		const dl = document.createElement('dl');
		row(dl, 'When', ev.start + (ev.end ? ' / ' + ev.end : ''));
		if (ev.span)
			row(dl, 'Precision', ev.span.precision +
			    (uncertain(ev) ? ', uncertain' : ''));
		if (ev.actors && ev.actors.length) {
			const span = document.createElement('span');
			span.className = 'actors';
			span.textContent = actorsText(ev);
			row(dl, 'Actors', span, true);
			learnLabels(ev.actors.map((a) => a.name)).then(() => {
				span.textContent = actorsText(ev);
			});
		}
		row(dl, 'Type', ev.type);
		if (ev.place)
			row(dl, 'Place', [ev.place.name, ev.place.country]
			    .filter(Boolean).join(', ') +
			    (ev.place.lat !== undefined ? ' (' + ev.place.lat +
			    ', ' + ev.place.lon + ')' : ''));
		row(dl, 'Tags', (ev.tags || []).join(', '));
		row(dl, 'Text', ev.text);
		if (ev.urls && ev.urls.length) {
			const span = document.createElement('span');
			ev.urls.forEach((u) => {
				if (!/^https?:\/\//i.test(u))
					return;
				const a = document.createElement('a');
				a.href = u;
				a.textContent = u;
				a.rel = 'noopener noreferrer';
				a.target = '_blank';
				span.append(a, document.createElement('br'));
			});
			row(dl, 'Links', span, true);
		}
		if (ev.attrs) {
			const pre = document.createElement('pre');
			pre.textContent = JSON.stringify(ev.attrs, null, 1);
			row(dl, 'Attributes', pre, true);
		}
		row(dl, 'Source', ev.source ? ev.source + ' / ' + ev.key : '');
		row(dl, 'Id', ev.id + ', revision ' + ev.rev);
		body.append(h, dl);
		detailId = ev.id;
		$('details').hidden = false;
	}

	/*
	 * Show event id whole, from /v1/events/{id}: the timeline's events
	 * hold only the keys it draws.  Each selection is numbered, and the
	 * answer for one that a later one (or closing the panel) replaced
	 * is dropped, so that a slow answer never shows the event clicked
	 * before.
	 */
	let selection = 0;

	async function select(id) {
		const n = ++selection;
		state.sel = id;
		saveView();
		if (id === null) {
			$('details').hidden = true;
			return;
		}
		const drawn = state.events.get(id);
		const title = drawn ? label(drawn) : null;
		/* Already shown (a change to it came): no flash of a note. */
		const shown = !$('details').hidden && detailId === id;
		if (!shown)
			showNote(id, title, 'Loading\u2026');
		let ev = null, why = null;
		try {
			ev = await api('/v1/events/' + id);
		} catch (e) {
			why = e;
		}
		if (n !== selection)
			return;
		if (ev !== null) {
			/*
			 * Only a range answers with the span (span=true): the
			 * drawn one's, while its dates are the same.
			 */
			if (drawn && drawn.span && drawn.start === ev.start &&
			    drawn.end === ev.end)
				ev.span = drawn.span;
			showDetails(ev);
		} else if (why.status === 404)
			showNote(id, title, drawn || shown ?
			    'This event was deleted.' :
			    'There is no event ' + id + '.');
		else
			showNote(id, title, 'Cannot load this event: ' +
			    why.message + '.');
	}

	timeline.on('select', (props) => {
		select(props.items.length ? props.items[0] : null);
	});
	$('close').addEventListener('click', () => {
		timeline.setSelection([]);
		select(null);
	});

	/* ---- filters ---- */

	$('filters').addEventListener('submit', (e) => {
		e.preventDefault();
		state.actor = $('actor').value.trim();
		state.type = $('type').value.trim();
		state.text = $('text').value.trim();
		const f = parseDate($('from').value, false);
		const t = parseDate($('to').value, true);
		if (!isNaN(f) && !isNaN(t) && f < t) {
			state.from = f;
			state.to = t;
			timeline.setWindow(f, t, { animation: false });
		}
		loadSoon(0);
	});
	/* The server finds the words (q=): its index, not the page's. */
	$('text').addEventListener('input', () => {
		state.text = $('text').value.trim();
		loadSoon(300);
	});

	/*
	 * Actor completion: the codes starting with what is typed, and
	 * those whose label (a user's name, or CAMEO's) holds it, each
	 * shown with its label.
	 */
	let completing = null;
	$('actor').addEventListener('input', () => {
		const prefix = $('actor').value.replace(/\*$/, '').trim();
		clearTimeout(completing);
		if (!prefix)
			return;
		completing = setTimeout(async () => {
			const q = encodeURIComponent(prefix);
			const pages = await Promise.all(['prefix', 'match'].map(
			    (k) => api('/v1/actors?limit=20&' + k + '=' + q)
			    .catch(() => null)));
			const found = new Map();
			pages.forEach((r) => r && r.actors.forEach((a) => {
				labels.set(a.name, a.label || null);
				found.set(a.name, a);
			}));
			const list = $('actor-list');
			list.replaceChildren(...[...found.values()].map((a) => {
				const o = document.createElement('option');
				o.value = a.name;
				o.label = named(a.name) + ' (' + a.count + ')';
				return o;
			}));
			state.completed = prefix;
		}, 150);
	});

	/* ---- live updates ---- */

	/*
	 * An EventSource cannot send the token: with one, the stream is
	 * opened with a ticket from POST /v1/tickets, good for one opening
	 * within a minute.  So on an error the page does not let the
	 * EventSource retry with its used ticket; it gets a new one and
	 * goes on after the last change it saw.
	 *
	 * The ticket is awaited, and meanwhile the page may be hidden or
	 * listen again (pagehide, pageshow): each call, and each hiding,
	 * starts a new generation, and a call whose ticket comes back in
	 * a later one opens nothing.  Else both calls would open a stream,
	 * and the one not kept in window.annals.stream would stay open,
	 * retrying for ever with its used ticket.
	 */
	let lastSeq = null;
	let relisten = null;
	let generation = 0;

	async function listen() {
		const gen = ++generation;
		clearTimeout(relisten);
		if (window.annals.stream)
			window.annals.stream.close();
		window.annals.stream = null;
		let url = '/v1/changes';
		const token = sessionStorage.getItem(TOKEN);
		if (token) {
			let t;
			try {
				t = await api('/v1/tickets', 'POST');
			} catch (e) {
				if (gen === generation && !asking)
					relisten = setTimeout(listen, 5000);
				return;
			}
			if (gen !== generation)
				return;
			url += '?ticket=' + encodeURIComponent(t.ticket);
			if (lastSeq !== null)
				url += '&since=' + encodeURIComponent(lastSeq);
		}
		const es = new EventSource(url);
		es.onopen = () => $('live').classList.add('on');
		es.onerror = () => {
			$('live').classList.remove('on');
			if (!token || es !== window.annals.stream)
				return;
			es.close();
			if (!asking)
				relisten = setTimeout(listen, 1000);
		};
		const changed = (e) => {
			if (e.lastEventId)
				lastSeq = e.lastEventId;
			state.changes++;
			/* The panel follows its event: a new revision, or gone. */
			let c = null;
			try {
				c = JSON.parse(e.data);
			} catch (x) {
				/* Not one to follow. */
			}
			if (c && c.id === state.sel && !$('details').hidden)
				select(state.sel);
			loadSoon(150);
		};
		es.addEventListener('put', changed);
		es.addEventListener('delete', changed);
		window.annals.stream = es;
	}

	/*
	 * A page left for another may be kept to come back to (the
	 * back/forward cache), and Chromium keeps its stream open: six of
	 * them hold every connection it makes to one server, and the next
	 * page's requests wait for ever.  So the stream closes when the
	 * page is left, and opens again, with the view reloaded for the
	 * changes missed, when it is shown again.
	 */
	window.addEventListener('pagehide', () => {
		generation++;
		clearTimeout(relisten);
		if (window.annals.stream)
			window.annals.stream.close();
		window.annals.stream = null;
		$('live').classList.remove('on');
	});
	window.addEventListener('pageshow', (e) => {
		if (!e.persisted || asking)
			return;
		listen();
		loadSoon(0);
	});

	$('token-form').addEventListener('submit', (e) => {
		e.preventDefault();
		const t = $('token').value.trim();
		if (!t)
			return;
		sessionStorage.setItem(TOKEN, t);
		$('token').value = '';
		$('token-form').hidden = true;
		asking = false;
		start();
	});

	/* ---- start ---- */

	async function start() {
		const q = new URLSearchParams(location.search);
		state.actor = q.get('actor') || '';
		state.type = q.get('type') || '';
		state.text = q.get('q') || '';
		state.alias = q.get('alias');
		state.sel = q.get('sel') !== null ? Number(q.get('sel')) : null;
		$('actor').value = state.actor;
		$('type').value = state.type;
		$('text').value = state.text;
		let f = parseDate(q.get('from') || '', false);
		let t = parseDate(q.get('to') || '', true);
		if (isNaN(f) || isNaN(t) || f >= t) {
			/* No view given: open on the latest events stored. */
			const p = filterParams();
			p.set('order', 'desc');
			p.set('limit', '40');
			p.set('span', 'true');
			/* Only the spans are wanted, which come with any fields. */
			p.set('fields', 'start');
			const r = await api('/v1/events?' + p.toString())
			    .catch(() => ({ events: [] }));
			const starts = r.events.map((e) => e.span &&
			    (e.span.lo !== null ? e.span.lo : e.span.hi))
			    .filter((x) => x !== null && x !== undefined);
			if (starts.length) {
				const hi = Math.max(...starts), lo = Math.min(...starts);
				const pad = Math.max((hi - lo) * 0.08, 3 * DAY);
				f = lo - pad;
				t = hi + pad;
			} else {
				t = Date.now();
				f = t - 365 * DAY;
			}
		}
		$('from').value = day(f);
		$('to').value = day(t - 1);
		state.from = f;
		state.to = t;
		timeline.setWindow(f, t, { animation: false });
		await load();
		if (asking)
			return;
		if (state.sel !== null)
			select(state.sel);
		listen();
	}

	window.addEventListener('resize', () => {
		timeline.setOptions({ maxHeight: maxHeight() });
		if (plot)
			plot.setSize({ width: $('histogram').clientWidth,
			    height: 130 });
	});
	start();
})();
