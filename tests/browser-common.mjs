// What the browser tests (t-browser.mjs, t-browser-auth.mjs) share: the
// tally and its closing line, waiting, a free port, annalsd started on
// a temporary directory with the demo data, and chromium launched with
// the flags this machine needs (no background networking, a fresh
// profile).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'browser', 'package.json'));
const puppeteer = require('puppeteer-core');

export const root = path.resolve(here, '..');
export const bin = path.resolve(process.argv[2] || 'build');
export const chromium = process.env.CHROMIUM || '/usr/bin/chromium';

export const tally = { passed: 0, failed: 0, problems: [] };

export function ok(cond, what) {
	if (cond) {
		tally.passed++;
		console.log('ok   ' + what);
	} else {
		tally.failed++;
		console.log('FAIL ' + what);
	}
	return cond;
}

export function freePort() {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.listen(0, '127.0.0.1', () => {
			const port = s.address().port;
			s.close(() => resolve(port));
		});
	});
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export async function until(what, fn, ms = 15000) {
	const end = Date.now() + ms;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error('timed out waiting for ' + what);
		await sleep(100);
	}
}

export async function itemTitles(page) {
	return page.$$eval('#timeline .vis-item .vis-item-content',
	    (els) => els.map((e) => e.textContent));
}

/*
 * annalsd on tmp with the page and HTTP on a free port, args added, and
 * the demo events loaded through annals(args, input), the test's CLI.
 * Returns { daemon, port, base, log() }.
 */
export async function startDaemon(tmp, sock, args, annals) {
	const port = await freePort();
	const daemon = spawn(path.join(bin, 'annalsd'), ['--data',
	    path.join(tmp, 'data'), '--socket', sock, '--http',
	    '127.0.0.1:' + port, '--web', path.join(root, 'contrib', 'web'),
	    '--map-size', '64M', ...args],
	    { stdio: ['ignore', 'ignore', 'pipe'] });
	let log = '';
	daemon.stderr.on('data', (d) => { log += d; });
	const d = { daemon, port, base: 'http://127.0.0.1:' + port,
	    log: () => log };
	await until('annalsd', () => {
		try {
			annals(['ping']);
			return true;
		} catch (e) {
			return false;
		}
	}, 10000);
	annals(['add', '-'], fs.readFileSync(path.join(root, 'contrib',
	    'demo', 'events.jsonl')));
	return d;
}

export function launch(tmp) {
	return puppeteer.launch({
		executablePath: chromium,
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu',
		    '--disable-quic', '--no-first-run',
		    '--disable-background-networking',
		    '--disable-component-update', '--disable-sync',
		    '--user-data-dir=' + path.join(tmp, 'profile')]
	});
}

/* Stop what startDaemon() and launch() started; print the tally. */
export async function finish(d, browser, tmp) {
	if (browser)
		await browser.close();
	if (d) {
		d.daemon.kill('SIGTERM');
		await new Promise((r) => d.daemon.on('exit', r));
	}
	fs.rmSync(tmp, { recursive: true, force: true });
	console.log(tally.passed + ' passed, ' + tally.failed + ' failed');
	process.exit(tally.failed ? 1 : 0);
}
