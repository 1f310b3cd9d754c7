// The timeline page in a real browser (make test-browser): starts
// annalsd --http with the demo data, drives Debian's chromium headless
// with puppeteer-core, and checks what a person would see.
//
//   node tests/t-browser.mjs BUILD_DIR
//
// It ends with "N passed, N failed" and leaves screenshots in
// BUILD_DIR/browser/ (overview.png, timeline.png); with
// ANNALS_SCREENSHOT=path it copies the overview there too.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { bin, chromium, finish, itemTitles, launch, ok, sleep, startDaemon,
    tally, until } from './browser-common.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'annals-browser-'));
const sock = path.join(tmp, 'annalsd.sock');
const artifacts = path.join(bin, 'browser');
fs.mkdirSync(artifacts, { recursive: true });

const problems = tally.problems;

function annals(args, input) {
	return execFileSync(path.join(bin, 'annals'), ['-s', sock, ...args],
	    { input, encoding: 'utf8' });
}

/* Text as the DOM serializer writes it in an element. */
const html = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')
    .replace(/>/g, '&gt;').replace(/\u00a0/g, '&nbsp;');

/*
 * The page as chromium --dump-dom prints it, the way a person checks a
 * page from a shell: real time, no --virtual-time-budget, so the DOM is
 * taken once the load event has fired.
 */
function dumpDom(url) {
	return new Promise((resolve, reject) => {
		execFile(chromium, ['--headless', '--no-sandbox', '--disable-gpu',
		    '--disable-background-networking',
		    '--disable-component-update', '--disable-sync',
		    '--no-first-run', '--user-data-dir=' + fs.mkdtempSync(
		    path.join(tmp, 'dump-')), '--dump-dom', url],
		    { encoding: 'utf8', timeout: 60000, maxBuffer: 64 << 20 },
		    (err, out) => err ? reject(err) : resolve(out));
	});
}

/* The page has loaded what its view asks for and is quiet. */
async function settled(page) {
	await until('the page to load', () => page.evaluate(() =>
	    window.annals && window.annals.idle &&
	    window.annals.state.loads > 0));
	await sleep(400);
	await until('the page to settle', () => page.evaluate(() =>
	    window.annals.idle));
}

/*
 * The titles of the events the timeline shows in view: the item's box
 * lies within the visible part of the panel (and of the window), and
 * so does its label.  An item scrolled out of the panel, or stacked
 * under the axis, is in the DOM but not in view.
 */
async function titlesInView(page) {
	return page.evaluate(() => {
		const tl = document.getElementById('timeline');
		const p = tl.querySelector('.vis-panel.vis-center')
		    .getBoundingClientRect();
		const top = Math.max(p.top, 0), left = Math.max(p.left, 0);
		const bottom = Math.min(p.bottom, window.innerHeight);
		const right = Math.min(p.right, window.innerWidth);
		return [...tl.querySelectorAll('.vis-item-content')]
		    .filter((c) => {
			const r = c.closest('.vis-item').getBoundingClientRect();
			const t = c.getBoundingClientRect();
			return r.height > 0 && t.width > 0 &&
			    r.top >= top - 0.5 && r.bottom <= bottom + 0.5 &&
			    t.left >= left - 0.5 && t.right <= right + 0.5;
		}).map((c) => c.textContent);
	});
}

/* The scroll cues' counts, 0 for one that is hidden. */
async function cueCounts(page) {
	return page.evaluate(() => {
		const n = (b) => b && !b.hidden && b.offsetHeight > 0 ?
		    parseInt(b.textContent.replace(/^\D*/, ''), 10) : 0;
		return { above: n(document.querySelector('.cue.above')),
		    below: n(document.querySelector('.cue.below')) };
	});
}

/* The item of the timeline labelled title. */
async function itemNamed(page, title) {
	const [el] = await page.$$('xpath/.//div[contains(@class,' +
	    '"vis-item-content") and text()=' + JSON.stringify(title) + ']');
	return el;
}

/*
 * The details panel's text once want(text) holds, or as it is after ms:
 * a test then says what is missing rather than only that it waited.
 */
async function detailsText(page, want, ms = 5000) {
	let text = '';
	try {
		await until('the details', async () => {
			text = await page.$eval('#details', (e) => e.hidden ?
			    '' : e.innerText);
			return want(text);
		}, ms);
	} catch (e) {
		/* text is what the panel showed last. */
	}
	return text;
}

async function main() {
	let d = null, browser = null;
	try {
		d = await startDaemon(tmp, sock, [], annals);
		const base = d.base;
		browser = await launch(tmp);
		const page = await browser.newPage();
		await page.setViewport({ width: 1280, height: 800 });
		/*
		 * Chromium logs every 404 it gets: the details of an event
		 * deleted meanwhile are one (GET /v1/events/{id}).
		 */
		page.on('console', (m) => {
			if (m.type() === 'error' && !(/status of 404/.test(
			    m.text()) && /\/v1\/events\/\d+$/.test(
			    m.location().url || '')))
				problems.push('console: ' + m.text());
		});
		page.on('pageerror', (e) => problems.push('page: ' + e.message));
		page.on('requestfailed', (r) => {
			/* The event stream is cut when the page goes. */
			if (!r.url().includes('/v1/changes'))
				problems.push('request failed: ' + r.url());
		});

		// With no view in the URL it opens on the latest events.
		await page.goto(base + '/', { waitUntil: 'load' });
		await settled(page);
		let titles = await itemTitles(page);
		ok(titles.includes('Russia and Turkey announce a nationwide ' +
		    'ceasefire'), 'opens on the most recent events (' +
		    titles.length + ' drawn)');
		ok(new URL(page.url()).searchParams.get('from') !== null,
		    'the view is written into the URL');

		// Every event the page counts is in view (issue #14): the
		// window of the Moscow talks holds 16, stacked in 16 rows.
		await page.goto(base + '/?from=2015-01-20&to=2015-02-05',
		    { waitUntil: 'load' });
		await settled(page);
		const counted = await page.evaluate(() => ({
			summary: parseInt(document.getElementById('summary')
			    .textContent, 10),
			titles: [...window.annals.state.events.values()]
			    .map((e) => e.title) }));
		// It asks only for the keys it draws (fields=, issue #16).
		const extra = await page.evaluate(() => [...new Set(
		    [...window.annals.state.events.values()]
		    .flatMap((e) => Object.keys(e)))].filter((k) => ![
		    'id', 'start', 'end', 'type', 'title', 'text', 'place',
		    'actors', 'match', 'span'].includes(k)));
		ok(counted.titles.length > 0 && extra.length === 0,
		    'the page fetches only the keys it draws' +
		    (extra.length ? '; also ' + extra.join(', ') : ''));
		let seen = await titlesInView(page);
		const unseen = counted.titles.filter((t) => !seen.includes(t));
		ok(counted.summary === 16 && counted.titles.length === 16 &&
		    unseen.length === 0, 'the page counts ' + counted.summary +
		    ' events from 2015-01-20 to 2015-02-05 and shows ' +
		    (counted.titles.length - unseen.length) + ' in view' +
		    (unseen.length ? '; not in view: ' + unseen.join('; ') : ''));
		await page.screenshot({ path: path.join(artifacts,
		    'window.png') });

		// The events are in the page as served, so chromium --dump-dom
		// of that address has every title however fast the page's own
		// requests come back.
		const url = base + '/?from=2015-01-20&to=2015-02-05';
		const want = (await (await fetch(base + '/v1/events?' +
		    'from=2015-01-20&to=2015-02-05')).json()).events
		    .map((e) => e.title);
		const served = await (await fetch(url)).text();
		let missing = want.filter((t) => !served.includes(html(t)));
		ok(want.length === 16 && missing.length === 0, 'GET ' + url +
		    ' lists its ' + want.length + ' events' +
		    (missing.length ? '; missing: ' + missing.join('; ') : ''));
		const dom = await dumpDom(url);
		missing = want.filter((t) => !dom.includes(html(t)));
		ok(dom.includes('id="timeline"') && missing.length === 0,
		    'chromium --dump-dom of it has every title' +
		    (missing.length ? '; missing: ' + missing.join('; ') : ''));

		// A shared link shows that view: the Moscow talks of 2015.
		await page.goto(base + '/?from=2014-12-01&to=2015-02-28',
		    { waitUntil: 'load' });
		await settled(page);
		titles = await itemTitles(page);
		const all = titles.length;
		ok(titles.some((t) => t.startsWith('Moscow consultations')),
		    'the demo events of the linked view are drawn (' + all + ')');
		await page.screenshot({ path: path.join(artifacts,
		    'overview.png') });
		const classes = await page.$$eval('#timeline .vis-item',
		    (els) => els.map((e) => e.className));
		ok(classes.some((c) => c.includes('vis-range') &&
		    c.includes('prec-day')) && classes.some((c) =>
		    c.includes('prec-month')) && classes.some((c) =>
		    c.includes('prec-year')) && classes.some((c) =>
		    c.includes('uncertain')),
		    'multi-day, month, year and uncertain events look apart');

		// The histogram shows what /v1/histogram says.
		const h = await page.evaluate(async () => {
			const s = window.annals.state.histogram;
			const r = await (await fetch('/v1/histogram?' +
			    s.params)).json();
			return { page: s.buckets.map((b) => b.count),
			    api: r.buckets.map((b) => b.count),
			    params: s.params };
		});
		ok(h.api.length > 0 && JSON.stringify(h.page) ===
		    JSON.stringify(h.api), 'the histogram matches /v1/histogram?' +
		    h.params + ' (' + h.api.join(',') + ')');

		// The actor filter narrows the events to that actor's.
		await page.click('#actor', { clickCount: 3 });
		await page.type('#actor', 'SYROPP');
		await page.click('#filters button[type=submit]');
		await settled(page);
		const narrowed = await page.evaluate(() => {
			const evs = [...window.annals.state.events.values()];
			return { n: evs.length, all: evs.every((e) =>
			    e.actors.some((a) => a.name === 'SYROPP')) };
		});
		titles = await itemTitles(page);
		const direct = await page.evaluate(async () => (await (await
		    fetch('/v1/events?actor=SYROPP&from=2014-12-01&' +
		    'to=2015-02-28')).json()).events.length);
		ok(narrowed.all && narrowed.n > 0 && narrowed.n < all &&
		    titles.length === direct, 'the actor filter narrows ' + all +
		    ' events to ' + titles.length + ' of SYROPP');
		ok(new URL(page.url()).searchParams.get('actor') === 'SYROPP',
		    'the filter is in the URL');
		const summary = await page.$eval('#summary', (e) =>
		    e.textContent);
		ok(summary.includes('of SYROPP \u2014 Syria: political ' +
		    'opposition'), 'the summary names the actor: ' + summary);

		// Completion on names: a name a user gave, and CAMEO's.
		annals(['actor-name', 'HNC', 'High Negotiations Committee']);
		const completions = async (typed) => {
			await page.click('#actor', { clickCount: 3 });
			await page.type('#actor', typed);
			await until('completions for ' + typed, () =>
			    page.evaluate((t) => window.annals.state
			    .completed === t, typed));
			return page.$$eval('#actor-list option', (os) =>
			    os.map((o) => ({ value: o.value, label: o.label })));
		};
		let opts = await completions('negotiations');
		ok(opts.some((o) => o.value === 'HNC' && o.label.startsWith(
		    'HNC \u2014 High Negotiations Committee (')),
		    'typing a name a user gave offers its code: ' +
		    JSON.stringify(opts));
		opts = await completions('political opp');
		ok(opts.length > 0 && opts.some((o) => o.value === 'SYROPP' &&
		    o.label.includes('Syria: political opposition')) &&
		    opts.every((o) => o.label.toLowerCase().includes(
		    'political opp')),
		    'typing a CAMEO name offers the codes it names: ' +
		    JSON.stringify(opts));
		opts = await completions('SYR');
		ok(opts.some((o) => o.value === 'SYRGOV' &&
		    o.label.includes('Syria: government')),
		    'codes by their start come with their names: ' +
		    JSON.stringify(opts.slice(0, 3)));
		await page.click('#actor', { clickCount: 3 });
		await page.type('#actor', 'SYROPP');

		// The Text box asks the server (q=), which finds words without
		// regard to case, in the title or the text.
		await page.click('#text', { clickCount: 3 });
		await page.type('#text', 'TALKS moscow');
		await page.click('#filters button[type=submit]');
		await settled(page);
		const texted = await page.evaluate(() =>
		    window.annals.state.events.size);
		const byServer = await page.evaluate(async () => (await (await
		    fetch('/v1/events?actor=SYROPP&q=talks%20MOSCOW&' +
		    'from=2014-12-01&to=2015-02-28')).json()).events.length);
		titles = await itemTitles(page);
		ok(texted > 0 && texted < narrowed.n && texted === byServer &&
		    titles.length === byServer, 'the Text box asks the server: ' +
		    titles.length + ' of ' + narrowed.n + ' events hold "talks" ' +
		    'and "moscow"');
		ok(new URL(page.url()).searchParams.get('q') === 'TALKS moscow',
		    'the words are in the URL');
		await page.click('#text', { clickCount: 3 });
		await page.keyboard.press('Backspace');
		await page.click('#filters button[type=submit]');
		await settled(page);

		// An event added with the CLI appears without a reload.
		await page.evaluate(() => { window.notReloaded = true; });
		annals(['add', '--start', '2015-01-20', '--actor',
		    'SYROPP:source', '--type', '040', '--title',
		    'Added from the command line']);
		await until('the new event on the timeline', async () =>
		    (await itemTitles(page)).includes(
		    'Added from the command line'), 10000);
		ok(await page.evaluate(() => window.notReloaded === true),
		    'an event added through the CLI appears without reloading');

		// Its details open on a click.
		const [el] = await page.$$('xpath/.//div[contains(@class,' +
		    '"vis-item-content") and text()="Added from the command line"]');
		await el.click();
		await until('the details panel', () => page.evaluate(() =>
		    !document.getElementById('details').hidden));
		const detail = await until('the actor names in the details',
		    async () => {
			const t = await page.$eval('#details', (e) =>
			    e.innerText);
			return t.includes('SYROPP \u2014 Syria: political ' +
			    'opposition (source)') ? t : null;
		});
		ok(detail.includes('Added from the command line') &&
		    detail.includes('2015-01-20'), 'the details panel shows ' +
		    'the selected event');
		ok(new URL(page.url()).searchParams.get('sel') !== null,
		    'the selection is in the URL');

		await page.screenshot({ path: path.join(artifacts,
		    'timeline.png') });

		// A page left for another closes its change stream, also one
		// the browser keeps to come back to: six open streams would
		// hold every connection it makes to the server, and the
		// seventh page would wait for ever.  Back on a page, it
		// listens again.
		const streams = async () => (await (await fetch(base +
		    '/v1/stats')).json()).streams;
		for (let i = 0; i < 8; i++) {
			await page.goto(base + (i % 2 ? '/?from=2015-01-20&' +
			    'to=2015-02-05' : '/?from=2014-12-01&to=2015-02-28'),
			    { waitUntil: 'load' });
			await settled(page);
			if (i === 6)
				await page.evaluate(() => {
					window.leftHere = true;
				});
		}
		let open = 0;
		await until('one stream', async () => (open = await
		    streams()) === 1, 5000).catch(() => null);
		ok(open === 1, 'after 8 pages one event stream is open, the ' +
		    'last page\'s (' + open + ')');
		await page.goBack({ waitUntil: 'load' });
		await settled(page);
		annals(['add', '--start', '2015-01-21', '--actor', 'SYRGOV:source',
		    '--type', '040', '--title', 'Added after going back']);
		const back = await until('the event added after going back',
		    async () => (await itemTitles(page)).includes(
		    'Added after going back'), 10000).catch(() => false);
		const kept = await page.evaluate(() => window.leftHere === true);
		ok(back && new URL(page.url()).searchParams.get('from') ===
		    '2014-12-01', 'a page gone back to shows changes again' +
		    (kept ? ' (kept by the back/forward cache)' : ''));

		// The details panel shows the whole event, not only the keys
		// the timeline draws (fields=): tags, links, attributes,
		// source and the revision, of an event in view.
		const described = JSON.parse(annals(['add', '-'], JSON.stringify({
		    source: 'browser', key: 'described', start: '1950-03-01',
		    end: '1950-03-20', type: '042', title: 'A fully described ' +
		    'event', text: 'First text.', actors: [{ name: 'MLT',
		    role: 'source' }], place: { name: 'Valletta', country: 'MLT',
		    lat: 35.9, lon: 14.51 }, tags: ['harbour', 'visit'],
		    urls: ['https://example.org/report-1950'],
		    attrs: { reviewer: 'Camilleri', pages: 12 } }) + '\n'));
		annals(['set', String(described.id), '--text',
		    'The text as revised.']);
		const second = JSON.parse(annals(['add', '-'], JSON.stringify({
		    source: 'browser', key: 'second', start: '1950-02-08',
		    type: '043', title: 'A second event', text: 'Its own text.',
		    actors: [{ name: 'ITA', role: 'target' }],
		    tags: ['second-tag'] }) + '\n'));
		const window1950 = base + '/?from=1950-02-01&to=1950-04-30';
		await page.goto(window1950, { waitUntil: 'load' });
		await settled(page);
		await (await itemNamed(page, 'A fully described event')).click();
		let text = await detailsText(page, (t) =>
		    t.includes('revision 2'));
		const parts = {
			title: 'A fully described event',
			when: '1950-03-01 / 1950-03-20',
			precision: 'Precision\nday',
			text: 'The text as revised.',
			place: 'Valletta, MLT (35.9, 14.51)',
			tags: 'harbour, visit',
			link: 'https://example.org/report-1950',
			attributes: '"reviewer": "Camilleri"',
			source: 'browser / described',
			revision: described.id + ', revision 2'
		};
		for (const [what, want] of Object.entries(parts))
			ok(text.includes(want), 'the details of an event in view ' +
			    'show its ' + what + ': ' + JSON.stringify(want) +
			    (text.includes(want) ? '' : ' not in ' +
			    JSON.stringify(text)));
		ok(!text.includes('undefined'), 'and no "undefined"');
		ok((await page.$$eval('#details a', (as) => as.map((a) =>
		    a.href))).includes('https://example.org/report-1950'),
		    'its link is a link');

		// A click on another event before the first one's details
		// come back shows the other's, whatever answers last.
		await (await itemNamed(page, 'A second event')).click();
		await detailsText(page, (t) => t.includes('second-tag'));
		await page.setRequestInterception(true);
		let held = null;
		const heldPath = '/v1/events/' + described.id;
		const intercept = (r) => {
			if (held === null && new URL(r.url()).pathname === heldPath)
				held = r;
			else
				r.continue();
		};
		page.on('request', intercept);
		await (await itemNamed(page, 'A fully described event')).click();
		await until('the held request', () => held !== null);
		text = await detailsText(page, (t) => t.includes('Loading'));
		ok(/A fully described event\s+Loading/.test(text) &&
		    !text.includes('harbour'), 'while its details load the ' +
		    'panel says so: ' + JSON.stringify(text));
		await (await itemNamed(page, 'A second event')).click();
		text = await detailsText(page, (t) => t.includes('second-tag'));
		const late = page.waitForResponse((r) =>
		    new URL(r.url()).pathname === heldPath);
		await held.continue();
		await late;
		await sleep(300);
		text = await detailsText(page, () => true);
		page.off('request', intercept);
		await page.setRequestInterception(false);
		ok(text.includes('A second event') && text.includes('second-tag') &&
		    text.includes(second.id + ', revision 1') &&
		    !text.includes('A fully described event'), 'a late answer ' +
		    'for the event clicked first does not replace the second\'s ' +
		    'details: ' + JSON.stringify(text));
		ok(new URL(page.url()).searchParams.get('sel') ===
		    String(second.id), 'the URL selects the second event');

		// The panel follows its event: a new revision, then its
		// deletion, come on the change stream.
		annals(['set', String(second.id), '--add-tag', 'later']);
		text = await detailsText(page, (t) => t.includes('revision 2'));
		ok(text.includes(second.id + ', revision 2') &&
		    text.includes('second-tag, later'), 'the details follow a ' +
		    'change to the event shown: ' + JSON.stringify(text));
		annals(['rm', String(second.id)]);
		text = await detailsText(page, (t) => /deleted/.test(t));
		ok(/deleted/.test(text) && !text.includes('second-tag'),
		    'and say so when it is deleted: ' + JSON.stringify(text));
		await settled(page);

		// An event deleted since it was drawn: the panel says so.  The
		// stream is closed first, so that the page does not redraw.
		await page.evaluate(() => window.annals.stream.close());
		annals(['rm', String(described.id)]);
		await (await itemNamed(page, 'A fully described event')).click();
		text = await detailsText(page, (t) => /deleted/.test(t));
		ok(/deleted/.test(text) && !text.includes('First text') &&
		    !text.includes('harbour'), 'the details of an event deleted ' +
		    'since it was drawn say so: ' + JSON.stringify(text));

		// An address may select an event out of its view, or one that
		// is not stored.
		const far = await (await fetch(base + '/v1/events/3')).json();
		await page.goto(window1950 + '&sel=3', { waitUntil: 'load' });
		await settled(page);
		text = await detailsText(page, (t) => t.includes('revision'));
		ok(text.includes(far.title) && text.includes('3, revision ' +
		    far.rev) && text.includes(far.tags.join(', ')) &&
		    text.includes(far.source + ' / ' + far.key),
		    'an event out of view selected by the address is shown ' +
		    'whole: ' + JSON.stringify(text));
		await page.goto(window1950 + '&sel=999999', { waitUntil: 'load' });
		await settled(page);
		text = await detailsText(page, (t) => t.includes('no event'));
		ok(text.includes('There is no event 999999.'), 'one not stored ' +
		    'is said to be none: ' + JSON.stringify(text));

		// An actor that is an alias finds its codes' events; with
		// alias=false, kept in the address, the code of that name.
		annals(['add', '-'], [{ source: 'browser', key: 'by-code',
		    start: '1950-02-10', actors: [{ name: 'Opposition' }],
		    title: 'Of the code Opposition' }, { source: 'browser',
		    key: 'by-alias', start: '1950-02-12', actors: [{ name:
		    'SYROPP' }], title: 'Of SYROPP in 1950' }].map((e) =>
		    JSON.stringify(e) + '\n').join(''));
		annals(['alias', 'set', 'Opposition', 'SYROPP', '1900/..']);
		const listed = (p) => p.$$eval('#event-list li', (ls) =>
		    ls.map((l) => l.textContent));
		await page.goto(window1950 + '&actor=Opposition',
		    { waitUntil: 'load' });
		await settled(page);
		let drawn = await itemTitles(page);
		ok(drawn.includes('Of SYROPP in 1950') &&
		    !drawn.includes('Of the code Opposition'), 'an actor that ' +
		    'is an alias draws its codes\' events: ' +
		    JSON.stringify(drawn));
		await page.goto(window1950 + '&actor=Opposition&alias=false',
		    { waitUntil: 'load' });
		await settled(page);
		drawn = await itemTitles(page);
		const items = await listed(page);
		ok(drawn.includes('Of the code Opposition') &&
		    !drawn.includes('Of SYROPP in 1950') && items.length === 1 &&
		    items[0].includes('Of the code Opposition'), 'with ' +
		    'alias=false the code of that name, drawn and listed: ' +
		    JSON.stringify(drawn) + ' ' + JSON.stringify(items));
		ok(new URL(page.url()).searchParams.get('alias') === 'false',
		    'alias=false stays in the address');

		// With more rows than fit, the panel stops at the window's
		// bottom, says how many events are below, and its cue scrolls
		// to them without moving the time window.
		const many = [];
		for (let i = 1; i <= 120; i++)
			many.push(JSON.stringify({ source: 'crowd', key: 'c' + i,
			    start: '1900-01-01/1900-01-20', type: '010',
			    actors: [{ name: 'CROWD', role: 'source' }],
			    title: 'Crowded event ' + i }));
		annals(['add', '-'], many.join('\n') + '\n');
		await page.goto(base + '/?from=1900-01-01&to=1900-01-20',
		    { waitUntil: 'load' });
		await settled(page);
		const fits = await page.evaluate(() => document
		    .getElementById('timeline').getBoundingClientRect().bottom <=
		    window.innerHeight);
		seen = await titlesInView(page);
		let cues = await until('the scroll cue', async () => {
			const c = await cueCounts(page);
			return c.below > 0 ? c : null;
		});
		await page.screenshot({ path: path.join(artifacts,
		    'crowded.png') });
		ok(fits && seen.length >= 10 && cues.above === 0 &&
		    seen.length + cues.below === 120, '120 events: the ' +
		    'timeline fits the window with ' + seen.length + ' in view ' +
		    'and a cue for the ' + cues.below + ' below');
		const win = await page.evaluate(() =>
		    JSON.stringify(window.annals.timeline.getWindow()));
		for (let i = 0; i < 40 && cues.below > 0; i++) {
			await page.click('.cue.below');
			await sleep(150);
			cues = await cueCounts(page);
		}
		seen = await titlesInView(page);
		ok(cues.below === 0 && seen.includes('Crowded event 120') &&
		    seen.length + cues.above === 120 &&
		    await page.evaluate(() => JSON.stringify(
		    window.annals.timeline.getWindow())) === win,
		    'the cue scrolls down to the last row (' + cues.above +
		    ' above, ' + seen.length + ' in view)');
		if (process.env.ANNALS_SCREENSHOT)
			fs.copyFileSync(path.join(artifacts, 'overview.png'),
			    process.env.ANNALS_SCREENSHOT);
		ok(problems.length === 0, 'no console errors' +
		    (problems.length ? ': ' + problems.join('; ') : ''));
	} catch (e) {
		ok(false, String(e && e.stack || e));
		if (d && d.log())
			console.log('--- annalsd log ---\n' + d.log());
	}
	await finish(d, browser, tmp);
}

main();
