// lib.mjs: what every browser test of the dashboard shares: one headless
// chromium per run (playwright-core, Debian's /usr/bin/chromium), a page that
// records console errors, page errors, CSP violations and dialogs, bounded
// waits that say what they waited for, and files to step in time with the
// bats test that runs the script (--sync DIR).
//
//   node test/browser/NAME.mjs URL [--sync DIR] [--out FILE]
//
// A check that fails prints "NAME: what was expected (what was seen)" on
// stderr, saves a screenshot to test/artifacts/fail-NAME.png and exits 1.
// The whole run gives up after TF_BROWSER_TIMEOUT seconds (default 25).
//
// The page's DOM contract the scripts rely on: body[data-ready="1"] once
// the first snapshot is drawn, body[data-conn] up|down; #conn[data-state]
// connecting|waiting|live|stale|reconnecting|offline; #symbol (a select),
// #timeframe button[data-tf] with aria-pressed, #chart[data-symbol]
// [data-tf][data-candles][data-markers][data-overlays][data-indicators]
// [data-volume], #ohlc (the legend), #volume-label, .levels; #last-price,
// #tape (the latest live price of any symbol: .tape-sym, .tape-price),
// #portfolio-value, [data-metric=NAME] (the server's metrics);
// #positions, #trips (th[data-key] button sorts; #trips-symbol,
// #trips-side, #trips-csv), #daily, #by-symbol, #profit-daily[data-bars],
// #profit-cumulative[data-points][data-last]; #trades tbody tr with a .pnl
// cell (pos/neg); #feed (#feed-cat, #feed-symbol); .empty-note and
// .chart-empty ("Waiting for data" until the server has data);
// #alert-filter all|low|medium|high|critical, .counts .count
// [data-priority] buttons, #alerts li.alert[data-priority][data-acked]
// with .alert-title, .alert-message, .alert-count and .ack, #ack-all,
// #toasts .toast, #sound, #notify, #tz; #bot-state[data-state]
// running|stopped|unknown, #bot-start, #bot-stop, #bot-restart (disabled
// while a POST runs, while disconnected and when the bot's state makes
// them moot), the #confirm dialog (#confirm-ok, #confirm-cancel),
// #control-error; and window.tfDash {events, rendered, firstEventAt,
// frames, lastSeq, epoch, tradingFetches, alerts, chart()}.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = process.env.TF_ARTIFACTS ||
	path.join(here, '..', 'artifacts');
const CHROMIUM = process.env.TF_CHROMIUM || '/usr/bin/chromium';

// parseArgs: URL [--sync DIR] [--out FILE] [--NAME VALUE ...]
function parseArgs(argv) {
	const a = { url: null };
	for (let i = 0; i < argv.length; i++) {
		if (argv[i].startsWith('--')) {
			a[argv[i].slice(2)] = argv[i + 1];
			i++;
		} else if (!a.url) {
			a.url = argv[i];
		}
	}
	if (!a.url || !/^http:\/\/127\.0\.0\.1:\d+\//.test(a.url)) {
		console.error('usage: node NAME.mjs http://127.0.0.1:PORT/ [--sync DIR]');
		process.exit(2);
	}
	return a;
}

export const args = parseArgs(process.argv.slice(2));
// The page's origin, for the REST calls a test makes itself.
export const origin = new URL(args.url).origin;

export class Failure extends Error {}

// check COND MSG: fails the test with MSG unless COND.
export function check(cond, msg) {
	if (!cond)
		throw new Failure(msg);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// signal NAME: creates the file NAME in the --sync directory, for the bats
// test waiting on it.
export function signal(name) {
	if (args.sync)
		fs.writeFileSync(path.join(args.sync, name), `${Date.now()}\n`);
}

// Installed in every page before its own scripts: keeps every CSP
// violation, every connection-state change (#conn data-state), so a
// short-lived state is not missed between two polls, and what the page's
// WebSockets receive (the seq of each tf.v1 event, the other messages).
function pageProbe() {
	window.__tf = { csp: [], conn: [] };
	document.addEventListener('securitypolicyviolation', (e) => {
		window.__tf.csp.push(`${e.violatedDirective} blocked ` +
			`${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
	});
	// Every tf.v1 message the page gets: event seqs, and the others.
	// seqs: those of the sockets the page used, one after the other; a
	// socket it closed unused (boot.js's, when the snapshot came too late
	// to resume on it) is not its stream.
	const socks = [];
	Object.defineProperty(window.__tf, 'seqs', { get: () =>
		[].concat(...socks.filter((x) => !x.unused).map((x) => x.seqs)) });
	window.__tf.ctl = [];
	const W = window.WebSocket;
	window.WebSocket = class extends W {
		constructor(...a) {
			super(...a);
			const me = { seqs: [], unused: false };
			socks.push(me);
			this.addEventListener('message', (e) => {
				let m;
				try {
					m = JSON.parse(e.data);
				} catch (err) {
					return;
				}
				if (m && m.type === 'event')
					me.seqs.push(m.seq);
				else if (m)
					window.__tf.ctl.push(m);
			});
			this.close = (code, reason) => {
				if (reason === 'unused')
					me.unused = true;
				return W.prototype.close.call(this, code, reason);
			};
		}
	};
	let last = null;
	const look = () => {
		const c = document.getElementById('conn');
		const s = c && c.getAttribute('data-state');
		if (s && s !== last) {
			last = s;
			window.__tf.conn.push(s);
		}
	};
	new MutationObserver(look).observe(document, {
		subtree: true, childList: true, attributes: true,
		attributeFilter: ['data-state'],
	});
}

// open NAME [options]: launches chromium, opens a page on args.url (unless
// options.load === false) and waits until the first snapshot is rendered
// (body[data-ready="1"]). options.viewport, options.context (more
// browser context options: timezoneId, acceptDownloads...) and
// options.init (a function run in the page before its own scripts). Returns the test's context t:
//   t.page, t.browser, t.errors (console errors and page errors, in order),
//   t.dialogs, t.requests (every URL the page asked for).
export async function open(name, options = {}) {
	const browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		// Nothing but 127.0.0.1 resolves: the page must ask nothing of the
		// outside world, and a test talks to this machine only.
		args: ['--no-sandbox',
			'--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
	});
	const context = await browser.newContext({
		viewport: options.viewport || { width: 1280, height: 800 },
		deviceScaleFactor: 1,
		...(options.context || {}),
	});
	const page = await context.newPage();
	const t = { name, browser, context, page, errors: [], dialogs: [],
		requests: [], responses: [] };
	page.on('console', (m) => {
		if (m.type() === 'error') {
			const l = m.location();
			t.errors.push(`console error: ${m.text()}` +
				(l && l.url ? ` (${l.url}:${l.lineNumber})` : ''));
		}
	});
	page.on('pageerror', (e) => t.errors.push(`page error: ${e.message}`));
	page.on('dialog', (d) => {
		t.dialogs.push(`${d.type()}: ${d.message()}`);
		d.dismiss().catch(() => {});
	});
	page.on('request', (r) => t.requests.push(r.url()));
	page.on('response', (r) => t.responses.push([r.status(), r.url()]));
	await page.addInitScript(pageProbe);
	if (options.init)
		await page.addInitScript(options.init);
	if (options.load !== false)
		await load(t);
	return t;
}

// load t: (re)loads the page and waits for its first snapshot.
export async function load(t, timeout = 10000) {
	t.navigatedAt = Date.now();
	await t.page.goto(args.url, { waitUntil: 'load', timeout });
	await waitFor(t, () => document.body &&
		document.body.dataset.ready === '1', null,
		'body[data-ready="1"] (the first snapshot rendered)', timeout);
}

// waitFor t FN ARG WHAT [TIMEOUT]: polls FN(ARG) in the page until it is
// truthy, at most TIMEOUT ms (default 10 s); returns its value. Fails with
// WHAT and the page's state when the time is up.
export async function waitFor(t, fn, arg, what, timeout = 10000) {
	try {
		const h = await t.page.waitForFunction(fn, arg,
			{ timeout, polling: 50 });
		return await h.jsonValue();
	} catch (e) {
		if (!/Timeout/i.test(e.message))
			throw e;
		throw new Failure(`waited ${timeout / 1000} s for ${what}`);
	}
}

// state t: what the page shows, for failure messages.
export async function state(t) {
	try {
		return await t.page.evaluate(() => {
			const q = (s) => document.querySelector(s);
			const a = (s, n) => q(s) && q(s).getAttribute(n);
			const d = window.tfDash;
			return {
				ready: document.body && document.body.dataset.ready,
				conn: [a('#conn', 'data-state'),
					q('#conn') && q('#conn').textContent.trim()],
				connHistory: window.__tf && window.__tf.conn,
				chart: q('#chart') && {
					symbol: a('#chart', 'data-symbol'),
					tf: a('#chart', 'data-tf'),
					candles: a('#chart', 'data-candles') },
				lastPrice: q('#last-price') && q('#last-price').textContent,
				tfDash: d && { events: d.events, rendered: d.rendered,
					firstEventAt: d.firstEventAt, frames: d.frames,
					lastSeq: d.lastSeq, epoch: d.epoch },
			};
		});
	} catch (e) {
		return `(page state unavailable: ${e.message})`;
	}
}

// api PATH [init]: fetch from tf-serve itself; returns { status, body }
// (body parsed as JSON when it is).
// The page's own ?token=, passed on the way the page passes it.
export const token = new URL(args.url).searchParams.get('token');

export async function api(p, init = {}) {
	const headers = { ...(init.headers || {}) };
	if (token)
		headers.Authorization = `Bearer ${token}`;
	const r = await fetch(origin + p, { ...init, headers,
		signal: AbortSignal.timeout(10000) });
	const text = await r.text();
	let body = text;
	try {
		body = JSON.parse(text);
	} catch (e) { /* not JSON: kept as text */ }
	return { status: r.status, headers: r.headers, body };
}

// inject LINES: POST /api/events with LINES (objects) as NDJSON; fails
// unless tf-serve accepts them all (202).
export async function inject(lines) {
	const body = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
	const r = await api('/api/events', { method: 'POST', body,
		headers: { 'Content-Type': 'application/x-ndjson' } });
	check(r.status === 202 && r.body && r.body.accepted === lines.length,
		`POST /api/events of ${lines.length} lines: want 202 ` +
		`{"accepted":${lines.length}}, got ${r.status} ` +
		`${JSON.stringify(r.body)}`);
	return r.body;
}

// run NAME BODY: runs BODY(t) on a fresh browser under the overall time
// limit; exit status 0 when it returns, 1 when a check fails.
export async function run(name, body, options = {}) {
	const limit = Number(process.env.TF_BROWSER_TIMEOUT || 25);
	let t = null;
	const dog = setTimeout(async () => {
		console.error(`${name}: gave up after ${limit} s`);
		if (t)
			console.error(`${name}: page state: ` +
				JSON.stringify(await Promise.race([state(t), sleep(1000)])));
		process.exit(1);
	}, limit * 1000);
	let status = 0;
	fs.rmSync(path.join(ARTIFACTS, `fail-${name}.png`), { force: true });
	try {
		t = await open(name, options);
		await body(t);
	} catch (e) {
		status = 1;
		const what = e instanceof Failure ? e.message : (e.stack || e);
		console.error(`${name}: ${what}`);
		if (t) {
			console.error(`${name}: page state: ` +
				JSON.stringify(await state(t)));
			if (t.errors.length)
				console.error(`${name}: console:\n  ` +
					t.errors.join('\n  '));
			try {
				fs.mkdirSync(ARTIFACTS, { recursive: true });
				await t.page.screenshot({ timeout: 3000,
					path: path.join(ARTIFACTS, `fail-${name}.png`) });
			} catch (err) { /* the screenshot is a bonus */ }
		}
	}
	clearTimeout(dog);
	if (t)
		await Promise.race([t.browser.close(), sleep(3000)]);
	process.exit(status);
}
