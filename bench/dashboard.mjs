// dashboard.mjs: the browser and HTTP side of bench/dashboard.sh. Prints one
// line of key=value figures on stdout (like bench/wsload), notes on stderr.
//
//   node bench/dashboard.mjs first URL RUNS [URL2]
//       RUNS page loads, each in a fresh browser context (empty cache):
//       ms from navigation start to the end of the frame that painted
//       the first live event (see probe) -> runs= p50_ms= min_ms= max_ms=,
//       and the p50 of each stage on the way: doc_ms= charts_ms=
//       snapshot_ms= ready_ms= ws_open_ms= welcome_ms= event_ms= first_ms=
//       (the page's script drew it) painted_ms=; then
//       each page loaded again in its context (cache warm): warm_p50_ms=;
//       with URL2, as many loads of it in turns, on a second line; with
//       POLL_AB=1 (no URL2), URL in turns told by a binding and found by
//       Playwright's 20 ms polling (the way before 2026-12-07), the
//       polled one on the second line
//   node bench/dashboard.mjs snapshot URL N
//       N sequential GET /api/snapshot on one keep-alive connection
//       -> n= p50_ms= p99_ms= max_ms= bytes= events=
//   node bench/dashboard.mjs soak URL SECS
//       the page live for SECS s: animation frames counted with
//       requestAnimationFrame, JS heap (CDP Performance.getMetrics
//       JSHeapUsedSize) sampled every 5 s, at start and end after a
//       full garbage collection -> secs= fps= fps_min= frames_drawn=
//       events= events_per_s= heap_start_mib= heap_mid_mib= heap_end_mib= heap_max_mib=
//       fetches_per_s= (GET /api/trading and /api/metrics pairs the page
//       made again after fills) dom_nodes= (the page's elements at the end)
//       live_mid_mib= live_end_mib= code_mid_mib= code_end_mib=
//       devtools_mid_mib= devtools_end_mib= (from a heap snapshot
//       half-way and at the end: the bytes of every object still
//       reachable, and apart from them the compiled code, which only
//       grows as the engine optimizes, and DevTools' record of the
//       page's requests, which only a browser driven over DevTools keeps;
//       the page is frozen while a snapshot is taken, so those seconds
//       and frames are left out of fps); on stderr, what grew most
//       between the two snapshots
//   node bench/dashboard.mjs bare URL SECS
//       the page SECS s live in a chromium driven over bare CDP (no
//       Network domain), then a heap snapshot -> secs= events= live_mib=
//       code_mib= devtools_nodes= devtools_bytes= (what a browser without
//       DevTools open keeps of DevTools' record of requests)
import { chromium } from 'playwright-core';
import { WebSocket } from 'ws';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = process.env.TF_CHROMIUM || '/usr/bin/chromium';
const [mode, url, nArg, url2] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pct(sorted, p) {
	if (!sorted.length)
		return NaN;
	return sorted[Math.min(sorted.length - 1,
		Math.ceil(p / 100 * sorted.length) - 1)];
}

function fmt(o) {
	return Object.entries(o).map(([k, v]) =>
		`${k}=${typeof v === 'number' && !Number.isInteger(v) ?
			v.toFixed(2) : v}`).join(' ');
}

async function launch() {
	return chromium.launch({ executablePath: CHROMIUM, headless: true,
		args: ['--no-sandbox',
			'--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'] });
}

// The stages of a page load, in ms from navigation start: the document,
// the chart library (loaded once the first screen is painted, so often
// after the first live data), the snapshot (responseEnd of each), the snapshot
// rendered (body[data-ready]), the WebSocket open, its welcome, the first
// live event received, the first live event rendered by the page's script
// (window.tfDash.firstEventAt) and the end of the frame that put it on the
// screen (painted: a task queued from the next animation frame runs once
// that frame's style, layout and paint are done). The page sets
// firstEventAt once a live event's value is in the DOM: the price of a
// price_update on the top bar's tape (boot.js writes it before the page's
// modules and charts are ready, main.js after), or the first frame that
// applied live events. The tape moving with the live price is the live
// data on the screen a user sees, so that is what is measured.
const STAGES = ['doc', 'charts', 'snapshot', 'ready', 'ws_open', 'welcome',
	'event', 'first', 'painted'];

function probe() {
	window.__t = {};
	const W = window.WebSocket;
	window.WebSocket = class extends W {
		constructor(...a) {
			super(...a);
			this.addEventListener('open', () => {
				window.__t.ws_open ??= performance.now();
			});
			this.addEventListener('message', (e) => {
				if (window.__t.welcome === undefined &&
					e.data.includes('"welcome"'))
					window.__t.welcome = performance.now();
				else if (window.__t.event === undefined &&
					e.data.startsWith('{"type":"event"'))
					window.__t.event = performance.now();
			});
		}
	};
	new MutationObserver(() => {
		if (document.body && document.body.dataset.ready === '1')
			window.__t.ready ??= performance.now();
	}).observe(document, { subtree: true, attributes: true,
		attributeFilter: ['data-ready'] });
	// Whether the page's code runs in an animation frame callback: a
	// change made there is painted in that frame, else in the next one.
	let inFrame = false;
	const raf = window.requestAnimationFrame.bind(window);
	window.requestAnimationFrame = (fn) => raf((t) => {
		inFrame = true;
		try {
			fn(t);
		} finally {
			inFrame = false;
		}
	});
	const painted = () => {
		window.__t.painted ??= performance.now();
		if (window.__tfPainted)
			window.__tfPainted();
	};
	// window.tfDash.firstEventAt, watched as the page sets it.
	let dash;
	Object.defineProperty(window, 'tfDash', { configurable: true,
		get: () => dash,
		set: (d) => {
			dash = d;
			let at = d.firstEventAt;
			Object.defineProperty(d, 'firstEventAt', { enumerable: true,
				get: () => at,
				set: (v) => {
					at = v;
					if (v === null || window.__t.paintAsked)
						return;
					window.__t.paintAsked = true;
					if (inFrame)
						setTimeout(painted, 0);
					else
						raf(() => setTimeout(painted, 0));
				} });
		} });
}

// One cold load of url in a fresh context (empty cache), then the same
// page again in that context (files revalidated): the stages of the cold
// one and the warm one's first event.
// The page tells when it painted through a binding (a CDP event, nothing
// run in the page meanwhile); poll: asks it every 20 ms instead, as this
// benchmark did before 2026-12-07 (Playwright's polling runs its own
// script in the page, on the main thread the load needs).
async function firstOnce(browser, url, poll) {
	const ctx = await browser.newContext({
		viewport: { width: 1280, height: 800 } });
	let told = () => {};
	await ctx.exposeBinding('__tfPainted', () => told());
	const page = await ctx.newPage();
	await page.addInitScript(probe);
	const painted = async () => {
		if (poll)
			return page.waitForFunction(() => window.__t.painted, null,
				{ timeout: 30000, polling: 20 });
		let timer;
		const said = new Promise((resolve, reject) => {
			told = resolve;
			timer = setTimeout(() => reject(new Error(
				'no first live data in 30 s')), 30000);
		});
		return said.finally(() => clearTimeout(timer));
	};
	const p0 = painted();
	await page.goto(url, { waitUntil: 'commit', timeout: 30000 });
	await p0;
	// The chart library may come after the first live data: wait for it.
	await page.waitForFunction(() => performance.getEntriesByType('resource')
		.some((x) => /lightweight-charts/.test(x.name)), null,
	{ timeout: 10000, polling: 50 }).catch(() => {});
	// performance.now() counts from the navigation's time origin.
	const r = await page.evaluate(() => {
		const end = (re) => {
			const e = performance.getEntriesByType('resource')
				.find((x) => re.test(x.name));
			return e ? e.responseEnd : NaN;
		};
		return { ...window.__t,
			doc: performance.getEntriesByType('navigation')[0].responseEnd,
			charts: end(/lightweight-charts/), snapshot: end(/api\/snapshot/),
			first: window.tfDash.firstEventAt };
	});
	const p1 = painted();
	await page.goto(url, { waitUntil: 'commit', timeout: 30000 });
	await p1;
	r.warm = await page.evaluate(() => window.__t.painted);
	await ctx.close();
	return r;
}

function summary(rs) {
	const out = { runs: rs.length };
	for (const s of [...STAGES, 'warm']) {
		const v = rs.map((r) => r[s] ?? NaN).sort((a, b) => a - b);
		out[`${s}_ms`] = pct(v, 50);
		if (s === 'painted') {
			out.min_ms = v[0];
			out.max_ms = v[v.length - 1];
		}
	}
	out.p50_ms = out.painted_ms;
	out.warm_p50_ms = out.warm_ms;
	delete out.warm_ms;
	return out;
}

// RUNS loads of url; with url2, as many of url2 in turns with them (one
// line of figures each), so that both see the same machine.
// POLL_AB=1 and no url2: url in turns measured both ways (see firstOnce),
// the polled one on the second line.
async function first(runs, url2) {
	const browser = await launch();
	const a = [], b = [];
	const ab = !url2 && process.env.POLL_AB === '1';
	// Which of the two goes first alternates: a load just after another
	// context closed is slower (the browser still tears the old one down).
	for (let i = 0; i < runs; i++) {
		if ((url2 || ab) && i % 2)
			b.push(await firstOnce(browser, url2 || url, ab));
		a.push(await firstOnce(browser, url, false));
		if ((url2 || ab) && !(i % 2))
			b.push(await firstOnce(browser, url2 || url, ab));
	}
	await browser.close();
	return url2 || ab ? `${fmt(summary(a))}\n${fmt(summary(b))}` : summary(a);
}

function get(agent, path) {
	return new Promise((resolve, reject) => {
		const t0 = process.hrtime.bigint();
		const req = http.get(url.replace(/\/$/, '') + path, { agent },
			(res) => {
				let bytes = 0;
				const chunks = [];
				res.on('data', (c) => {
					bytes += c.length;
					chunks.push(c);
				});
				res.on('end', () => resolve({ status: res.statusCode, bytes,
					ms: Number(process.hrtime.bigint() - t0) / 1e6,
					body: Buffer.concat(chunks) }));
			});
		req.setTimeout(10000, () => req.destroy(new Error('timeout')));
		req.on('error', reject);
	});
}

async function snapshot(n) {
	const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
	const first = await get(agent, '/api/snapshot');
	if (first.status !== 200)
		throw new Error(`GET /api/snapshot: ${first.status}`);
	const snap = JSON.parse(first.body);
	const ms = [];
	let bytes = 0;
	for (let i = 0; i < n; i++) {
		const r = await get(agent, '/api/snapshot');
		if (r.status !== 200)
			throw new Error(`GET /api/snapshot: ${r.status}`);
		ms.push(r.ms);
		bytes = r.bytes;
	}
	agent.destroy();
	ms.sort((a, b) => a - b);
	return { n, p50_ms: pct(ms, 50), p99_ms: pct(ms, 99),
		max_ms: ms[ms.length - 1], bytes, seq: snap.seq,
		symbols: Object.keys(snap.symbols || {}).length };
}

// A heap snapshot's JSON (its own format: a flat array of
// meta.node_fields per node) summed by self size: {live, code, devtools}
// in MiB, devtoolsNodes, and {kinds}: bytes by type and name, to say what
// grew. devtools: DevTools' record of every request the page made
// (blink::NetworkResourcesData), kept only while a DevTools client has
// the Network domain on, as Playwright does.
function summarize(text) {
	const snap = JSON.parse(text);
	const f = snap.snapshot.meta.node_fields;
	const types = snap.snapshot.meta.node_types[0];
	const ti = f.indexOf('type'), si = f.indexOf('self_size');
	const ni = f.indexOf('name');
	let live = 0, code = 0, devtools = 0, devtoolsNodes = 0;
	const kinds = new Map();
	for (let i = 0; i < snap.nodes.length; i += f.length) {
		const type = types[snap.nodes[i + ti]];
		const size = snap.nodes[i + si];
		// Names of objects and native nodes; a string's name is its
		// text: only the type counts there.
		let kind = type;
		if (type === 'object' || type === 'native')
			kind += ' ' + snap.strings[snap.nodes[i + ni]]
				.slice(0, 60).replace(/[0-9]+/g, '#');
		kinds.set(kind, (kinds.get(kind) || 0) + size);
		if (type === 'code') {
			code += size;
		} else if (kind.startsWith('native blink::NetworkResourcesData')) {
			devtools += size;
			devtoolsNodes++;
		} else {
			live += size;
		}
	}
	return { live: live / 1048576, code: code / 1048576,
		devtools: devtools / 1048576, devtoolsNodes, kinds };
}

async function soak(secs) {
	const browser = await launch();
	const page = await browser.newPage({
		viewport: { width: 1280, height: 800 } });
	// Every animation frame the page gets, whether it draws or not.
	await page.addInitScript(() => {
		window.__rafs = 0;
		const tick = () => {
			window.__rafs++;
			requestAnimationFrame(tick);
		};
		requestAnimationFrame(tick);
	});
	const cdp = await page.context().newCDPSession(page);
	await cdp.send('Performance.enable');
	const metrics = async () => Object.fromEntries((await cdp.send(
		'Performance.getMetrics')).metrics.map((x) => [x.name, x.value]));
	const heap = async () => (await metrics()).JSHeapUsedSize / 1048576;
	await page.goto(url, { timeout: 10000 });
	await page.waitForFunction(() => window.tfDash &&
		window.tfDash.firstEventAt, null, { timeout: 10000 });
	await sleep(2000); // past the start: the charts are up
	const look = () => page.evaluate(() => ({ t: performance.now(),
		rafs: window.__rafs, frames: window.tfDash.frames,
		events: window.tfDash.events, rendered: window.tfDash.rendered,
		fetches: window.tfDash.tradingFetches || 0,
		nodes: document.getElementsByTagName('*').length }));
	// Start and end are read after a full garbage collection, so they
	// compare what the page holds, not where the collector happens to be.
	const gcHeap = async () => {
		await cdp.send('HeapProfiler.collectGarbage');
		return heap();
	};
	// What a heap snapshot finds reachable (summarize). The page does
	// not run meanwhile.
	const paused = { ms: 0, rafs: 0, TaskDuration: 0, ScriptDuration: 0,
		LayoutDuration: 0, RecalcStyleDuration: 0 };
	const liveHeap = async () => {
		const t0 = await look();
		const k0 = await metrics();
		const chunks = [];
		const add = (e) => chunks.push(e.chunk);
		cdp.on('HeapProfiler.addHeapSnapshotChunk', add);
		await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
		cdp.off('HeapProfiler.addHeapSnapshotChunk', add);
		const sum = summarize(chunks.join(''));
		const k1 = await metrics();
		const t1 = await look();
		paused.ms += t1.t - t0.t;
		paused.rafs += t1.rafs - t0.rafs;
		for (const k of Object.keys(paused))
			if (k in k1)
				paused[k] += k1[k] - k0[k];
		return Object.assign(sum, { after: t1 });
	};
	// The kinds that grew most from one snapshot to the other, on stderr.
	const grew = (a, b) => {
		const d = [...b.kinds].map(([k, v]) => [k, v - (a.kinds.get(k) || 0)])
			.sort((x, y) => y[1] - x[1]).slice(0, 8);
		process.stderr.write('dashboard.mjs: grew most between the ' +
			'snapshots (KiB): ' + d.map(([k, v]) =>
				`${k} ${(v / 1024).toFixed(1)}`).join('; ') + '\n');
	};
	const h0 = await gcHeap();
	const s0 = await look();
	const m0 = await metrics();
	let hmax = h0;
	let fpsMin = Infinity;
	let prev = s0;
	const end = Date.now() + secs * 1000;
	// Halfway, also after a full GC: a heap that only fills its bounded
	// lists in the first half is flat in the second.
	const half = Date.now() + secs * 500;
	let hmid = null, lmid = null;
	while (Date.now() < end) {
		if (hmid === null && Date.now() >= half) {
			hmid = await gcHeap();
			lmid = await liveHeap();
			prev = lmid.after;	// the frozen seconds are no 5 s window
		}
		await sleep(Math.min(5000, Math.max(0, end - Date.now())));
		const s = await look();
		fpsMin = Math.min(fpsMin, (s.rafs - prev.rafs) * 1000 / (s.t - prev.t));
		prev = s;
		const h = await heap();
		hmax = Math.max(hmax, h);
		process.stderr.write(`dashboard.mjs: ${Math.round((s.t - s0.t) /
			1000)} s: heap ${h.toFixed(1)} MiB, ${s.events} events\n`);
	}
	const s1 = await look();
	const m1 = await metrics();
	const h1 = await gcHeap();
	// Figures per second of the run leave the half-way snapshot out.
	const dt = (s1.t - s0.t) / 1000;
	const runDt = (s1.t - s0.t - paused.ms) / 1000;
	const busy = (k) => (m1[k] - m0[k] - paused[k]) / runDt;
	const fps = (s1.rafs - s0.rafs - paused.rafs) / runDt;
	const lend = await liveHeap();
	if (lmid === null)
		lmid = lend;
	else
		grew(lmid, lend);
	await browser.close();
	return { secs: dt, fps,
		fps_min: fpsMin,
		frames_drawn: s1.frames - s0.frames,
		events: s1.events - s0.events,
		events_per_s: (s1.events - s0.events) / dt,
		rendered_per_s: (s1.rendered - s0.rendered) / dt,
		fetches_per_s: (s1.fetches - s0.fetches) / dt,
		dom_nodes: s1.nodes,
		// Main-thread seconds per second of run, by kind (CDP).
		busy_script: busy('ScriptDuration'),
		busy_layout: busy('LayoutDuration'),
		busy_style: busy('RecalcStyleDuration'),
		busy_task: busy('TaskDuration'),
		heap_start_mib: h0, heap_mid_mib: hmid === null ? h1 : hmid,
		heap_end_mib: h1, heap_max_mib: Math.max(hmax, h1),
		live_mid_mib: lmid.live, live_end_mib: lend.live,
		code_mid_mib: lmid.code, code_end_mib: lend.code,
		devtools_mid_mib: lmid.devtools, devtools_end_mib: lend.devtools };
}

// The page in a chromium driven over bare CDP, with no Network domain
// on (nothing but Page, Runtime and HeapProfiler): SECS s live, then a
// heap snapshot -> secs= events= live_mib= code_mib= devtools_nodes=
// devtools_bytes= (what a browser without DevTools open holds of
// DevTools' record of requests).
async function bare(secs) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tf-bare-'));
	const ch = spawn(CHROMIUM, ['--headless', '--no-sandbox',
		'--remote-debugging-port=0', `--user-data-dir=${dir}`,
		'--window-size=1280,800',
		'--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
		'about:blank'], { stdio: ['ignore', 'ignore', 'pipe'] });
	try {
		// "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID"
		const port = await new Promise((resolve, reject) => {
			let err = '';
			const t = setTimeout(() => reject(new Error(
				'chromium gave no DevTools port')), 10000);
			ch.stderr.on('data', (d) => {
				err += d;
				const m = /DevTools listening on ws:\/\/127\.0\.0\.1:(\d+)\//.exec(err);
				if (m) {
					clearTimeout(t);
					resolve(m[1]);
				}
			});
		});
		const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
		const target = list.find((x) => x.type === 'page');
		const ws = new WebSocket(target.webSocketDebuggerUrl, { maxPayload: 2 ** 30 });
		await new Promise((r, j) => { ws.on('open', r); ws.on('error', j); });
		let id = 0;
		const waiting = new Map(), chunks = [];
		ws.on('message', (d) => {
			const m = JSON.parse(d);
			if (m.id && waiting.has(m.id)) {
				waiting.get(m.id)(m);
				waiting.delete(m.id);
			} else if (m.method === 'HeapProfiler.addHeapSnapshotChunk') {
				chunks.push(m.params.chunk);
			}
		});
		const send = (method, params = {}) => new Promise((r) => {
			waiting.set(++id, r);
			ws.send(JSON.stringify({ id, method, params }));
		});
		const events = async () => (await send('Runtime.evaluate', {
			expression: 'window.tfDash ? window.tfDash.events : 0',
			returnByValue: true })).result.result.value;
		await send('Page.navigate', { url });
		await sleep(2000);	// past the start
		const e0 = await events();
		const t0 = Date.now();
		await sleep(secs * 1000);
		const e1 = await events();
		await send('HeapProfiler.collectGarbage');
		await send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
		const sum = summarize(chunks.join(''));
		ws.close();
		return { secs: (Date.now() - t0) / 1000, events: e1 - e0,
			live_mib: sum.live, code_mib: sum.code,
			devtools_nodes: sum.devtoolsNodes,
			devtools_bytes: Math.round(sum.devtools * 1048576) };
	} finally {
		ch.kill();
		await new Promise((r) => (ch.exitCode !== null ? r() : ch.on('exit', r)));
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

const modes = { first, snapshot, soak, bare };
const local = (u) => /^http:\/\/127\.0\.0\.1:\d+\/$/.test(u);
if (!modes[mode] || !url || !local(url) || (url2 && (mode !== 'first' || !local(url2)))) {
	console.error('usage: node bench/dashboard.mjs first|snapshot|soak|bare ' +
		'http://127.0.0.1:PORT/ N [http://127.0.0.1:PORT2/ (first)]');
	process.exit(2);
}
try {
	const r = await modes[mode](Number(nArg), url2);
	console.log(typeof r === 'string' ? r : fmt(r));
	process.exit(0);
} catch (e) {
	console.error(`dashboard.mjs: ${mode}: ${e.message}`);
	process.exit(1);
}
