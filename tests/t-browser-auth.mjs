// The timeline page against annalsd --auth-file in a real browser (make
// test-browser): the page asks for a token when the API answers 401,
// keeps it for the session, says when it is refused, reads with a
// read-only one, and follows the change stream with a ticket.
//
//   node tests/t-browser-auth.mjs BUILD_DIR
//
// It ends with "N passed, N failed".
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { bin, finish, itemTitles, launch, ok, sleep, startDaemon, tally,
    until } from './browser-common.mjs';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'annals-browser-auth-'));
const sock = path.join(tmp, 'annalsd.sock');
const READ = 'reader-0123456789abcdef0123';
const WRITE = 'writer-0123456789abcdef0123';

const problems = tally.problems;

/* The CLI with the write token. */
function annals(args, input) {
	return execFileSync(path.join(bin, 'annals'), ['-s', sock, ...args],
	    { input, encoding: 'utf8', env: { ...process.env,
	    ANNALS_TOKEN: WRITE } });
}

const tokenShown = (page) => page.evaluate(() =>
    !document.getElementById('token-form').hidden &&
    document.getElementById('token').type === 'password');

async function enterToken(page, token) {
	await page.type('#token', token);
	await page.click('#token-form button[type=submit]');
}

async function main() {
	const tokens = path.join(tmp, 'tokens');
	fs.writeFileSync(tokens, READ + ' read\n' + WRITE + ' write\n',
	    { mode: 0o600 });
	let d = null, browser = null;
	try {
		d = await startDaemon(tmp, sock, ['--auth-file', tokens], annals);
		const base = d.base;
		browser = await launch(tmp);
		const page = await browser.newPage();
		await page.setViewport({ width: 1280, height: 800 });
		/* Chromium logs every 401 it gets; those are expected. */
		page.on('console', (m) => {
			if (m.type() === 'error' && !/status of 401/.test(m.text()))
				problems.push('console: ' + m.text());
		});
		page.on('pageerror', (e) => problems.push('page: ' + e.message));
		page.on('requestfailed', (r) => {
			if (!r.url().includes('/v1/changes'))
				problems.push('request failed: ' + r.url());
		});
		const sent = [];
		page.on('request', (r) => sent.push(r.url()));

		// Without a token the page asks for one.
		const view = base + '/?from=2014-12-01&to=2015-02-28';
		await page.goto(view, { waitUntil: 'load' });
		await until('the token field', () => tokenShown(page));
		ok(/needs a token/.test(await page.$eval('#token-msg',
		    (e) => e.textContent)), 'without a token the page shows a ' +
		    'password field saying the server needs one');

		// A wrong token is refused, and the page says so.
		await enterToken(page, 'wrong-0123456789abcdef0123');
		await until('the refusal', async () => await tokenShown(page) &&
		    /refused/.test(await page.$eval('#token-msg',
		    (e) => e.textContent)));
		const msg = await page.$eval('#token-msg', (e) => e.textContent);
		ok(/not valid/.test(msg), 'a wrong token is refused with the ' +
		    'server\'s reason: ' + msg);

		// A read token shows the events.
		await enterToken(page, READ);
		await until('the events', async () => (await itemTitles(page))
		    .some((t) => t.startsWith('Moscow consultations')), 20000);
		ok(await page.evaluate(() => document.getElementById(
		    'token-form').hidden), 'with a read token the events are ' +
		    'drawn and the field goes');
		const kept = await page.evaluate(() => ({
		    session: sessionStorage.getItem('annals.token'),
		    local: localStorage.length }));
		ok(kept.session === READ && kept.local === 0, 'the token is ' +
		    'kept in sessionStorage, not localStorage');

		// The change stream opens with a ticket, and an event added
		// with the CLI appears without a reload.
		await until('the live stream', () => page.evaluate(() =>
		    window.annals.stream &&
		    window.annals.stream.readyState === 1));
		await page.evaluate(() => { window.notReloaded = true; });
		annals(['add', '--start', '2015-01-20', '--actor',
		    'SYROPP:source', '--type', '040', '--title',
		    'Added while the page holds a read token']);
		await until('the new event on the timeline', async () =>
		    (await itemTitles(page)).includes(
		    'Added while the page holds a read token'), 10000);
		ok(await page.evaluate(() => window.notReloaded === true) &&
		    sent.some((u) => /\/v1\/changes\?ticket=[\w-]{43}$/.test(u)),
		    'the stream opens with a ticket and an event added through ' +
		    'the CLI appears without reloading');

		// A stream that breaks is opened again with a new ticket.
		const before = sent.filter((u) => u.includes('ticket=')).length;
		await page.evaluate(() => window.annals.stream.onerror());
		await until('the stream again', () => page.evaluate(() =>
		    window.annals.stream &&
		    window.annals.stream.readyState === 1));
		const tickets = sent.filter((u) => u.includes('ticket='));
		ok(tickets.length === before + 1 && new Set(tickets).size ===
		    tickets.length, 'after an error the stream is opened ' +
		    'again with a new ticket');
		annals(['add', '--start', '2015-01-21', '--actor',
		    'SYROPP:source', '--type', '040', '--title',
		    'Added after the stream was opened again']);
		await until('the second new event', async () =>
		    (await itemTitles(page)).includes(
		    'Added after the stream was opened again'), 10000);
		ok(true, 'and changes keep coming through it');

		// Hidden and shown again, twice, while the first ticket is on
		// its way: one stream is opened, by the last showing, and no
		// other is left open retrying with its used ticket.
		const streams = async () => (await (await fetch(base +
		    '/v1/stats', { headers: { Authorization: 'Bearer ' +
		    READ } })).json()).streams;
		const opened = sent.length;
		const held = [];
		const hold = (r) => {
			if (r.method() === 'POST' &&
			    new URL(r.url()).pathname === '/v1/tickets')
				held.push(r);
			else
				r.continue();
		};
		await page.setRequestInterception(true);
		page.on('request', hold);
		await page.evaluate(() => {
			const go = (type) => window.dispatchEvent(
			    new PageTransitionEvent(type, { persisted: true }));
			go('pagehide');
			go('pageshow');
			go('pagehide');
			go('pageshow');
		});
		await until('both tickets asked for', () => held.length === 2);
		for (const r of held)
			await r.continue();
		await until('the stream again', () => page.evaluate(() =>
		    window.annals.stream &&
		    window.annals.stream.readyState === 1));
		await sleep(1000);
		page.off('request', hold);
		await page.setRequestInterception(false);
		let open = 0;
		await until('one stream', async () => (open = await
		    streams()) === 1, 5000).catch(() => null);
		const changes = sent.slice(opened).filter((u) =>
		    u.includes('/v1/changes')).length;
		ok(open === 1 && changes === 1, 'a page hidden and shown ' +
		    'again while it waits for its ticket opens one stream (' +
		    changes + ' opened, ' + open + ' open)');
		annals(['add', '--start', '2015-01-22', '--actor',
		    'SYROPP:source', '--type', '040', '--title',
		    'Added after the page was shown again']);
		await until('the third new event', async () =>
		    (await itemTitles(page)).includes(
		    'Added after the page was shown again'), 10000);
		ok(true, 'and changes come through that one');

		// It is kept for the session: a reload asks no more.
		await page.reload({ waitUntil: 'load' });
		await until('the events again', async () => (await
		    itemTitles(page)).length > 0, 20000);
		ok(!(await tokenShown(page)), 'after a reload the page reads ' +
		    'with the kept token');

		ok(!sent.some((u) => u.includes(READ) || u.includes(WRITE)),
		    'no token is in any address the page asked for');
		ok(problems.length === 0, 'no console errors but the 401s' +
		    (problems.length ? ': ' + problems.join('; ') : ''));
	} catch (e) {
		ok(false, String(e && e.stack || e));
		if (d && d.log())
			console.log('--- annalsd log ---\n' + d.log());
	}
	await finish(d, browser, tmp);
}

main();
