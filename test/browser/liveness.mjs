// liveness.mjs: the page never looks live when it is not. Against a
// tf-serve that has had no input (fed by nothing, --stale 1):
//   - #conn says "Waiting for data" (data-state "waiting"), never "Live",
//     and every panel says "Waiting for data" instead of a blank chart;
//   - one injected price makes it live: the chart shows, the panels say
//     what they lack ("No fills yet", ...);
//   - a second later the server's stale notice turns #conn to "Stale" with
//     the age of the last event, which grows; the next event makes it live;
//   - with the network down the data dims, the bot state shows unknown and
//     every control button is disabled; a failed control's message
//     clears once the page is connected again;
//   - back to the server that is still stale, the pill goes from
//     reconnecting to stale without ever saying live.
import { run, check, waitFor, inject, sleep } from './lib.mjs';

const connIs = (t, s, what, timeout) => waitFor(t, (x) =>
	document.querySelector('#conn').dataset.state === x, s, what, timeout);

// notes t: the text of every empty-panel note and chart overlay shown.
const notes = (t) => t.page.evaluate(() => [...document.querySelectorAll(
	'.empty-note, .chart-empty')].filter((e) => e.checkVisibility())
	.map((e) => e.textContent.trim()));

await run('liveness', async (t) => {
	await connIs(t, 'waiting', '#conn[data-state="waiting"] on a server ' +
		'without data');
	const text = (await t.page.textContent('#conn')).trim();
	check(text === 'Waiting for data', `#conn says "Waiting for data" ` +
		`(got "${text}")`);
	const shown = await notes(t);
	// The price chart, the equity curve, the two profit charts, and the
	// positions, closed trades, by-symbol, daily, alerts, events, fills,
	// predictions and patterns panels.
	check(shown.length >= 13 && shown.every((s) => s === 'Waiting for data'),
		`every panel says "Waiting for data" (got ${shown.length}: ` +
		`${JSON.stringify(shown)})`);
	check(await t.page.isVisible('#chart-empty'), 'the price chart says ' +
		'it waits for data');
	// The stale notice of a server without input changes nothing.
	await sleep(1500);
	check(await t.page.getAttribute('#conn', 'data-state') === 'waiting',
		'still "waiting" after the server\'s stale notice');

	const ts = Date.now();
	await inject([{ type: 'price_update', symbol: 'LIVE-USD', price: 10.5,
		ts }]);
	await connIs(t, 'live', '#conn[data-state="live"] once an event came');
	check((await t.page.textContent('#conn')).trim() === 'Live',
		'#conn says "Live"');
	await waitFor(t, () => !document.querySelector('#chart-empty')
		.checkVisibility() && document.querySelector('#chart').dataset
		.symbol === 'LIVE-USD', null, 'the chart shows LIVE-USD');
	const after = await notes(t);
	check(!after.includes('Waiting for data') && after.includes('No fills yet') &&
		after.includes('No open position'), `with data, the panels say ` +
		`what they lack (got ${JSON.stringify(after)})`);

	// No input for a second: the server says so, the pill follows.
	await connIs(t, 'stale', '#conn[data-state="stale"] after the ' +
		'server\'s stale notice (--stale 1)', 5000);
	const age = async () => {
		const s = (await t.page.textContent('#conn')).trim();
		const m = /^Stale · last event (\d+)s ago$/.exec(s);
		check(m, `#conn reads "Stale · last event Ns ago" (got "${s}")`);
		return Number(m[1]);
	};
	const a1 = await age();
	check(a1 >= 1 && a1 <= 3, `the age of the last event is about the ` +
		`--stale time (got ${a1} s)`);
	await sleep(2200);
	const a2 = await age();
	check(a2 >= a1 + 1, `the age grows (${a1} s, then ${a2} s)`);
	const lastAt = Date.now();
	await inject([{ type: 'price_update', symbol: 'LIVE-USD', price: 10.6,
		ts: lastAt }]);
	await connIs(t, 'live', '#conn live again with the next event');
	const hist = await t.page.evaluate(() => window.__tf.conn);
	check(hist.indexOf('live') > hist.indexOf('waiting'), `"live" only ` +
		`after data came (states: ${hist})`);

	// A control that fails (nobody reads tf-serve's stdout here: the
	// test answers 503 itself).
	await t.page.route('**/api/control/start', (r) => r.fulfill({
		status: 503, contentType: 'application/json',
		body: '{"error":"no reader"}' }));
	await t.page.click('#bot-start', { timeout: 5000 });
	await waitFor(t, () => /no reader/.test(document.querySelector(
		'#control-error').textContent), null, '#control-error shows the 503');

	const seen = await t.page.evaluate(() => window.__tf.conn.length);
	const sysAsked = () => t.requests.filter((u) => /\/api\/system/.test(u)).length;
	await t.context.setOffline(true);
	const offAt = Date.now(), sys0 = sysAsked();
	await connIs(t, 'offline', '#conn offline with the network down');
	const down = await waitFor(t, () => {
		const b = document.querySelector('#bot-state');
		const op = Number(getComputedStyle(document.querySelector(
			'.p-portfolio #metrics')).opacity);
		return document.body.dataset.conn === 'down' && op < 1 &&
			b.dataset.state === 'unknown' && { op, text: b.textContent };
	}, null, 'body[data-conn="down"], dimmed data, #bot-state unknown');
	check(/unknown/i.test(down.text), `#bot-state says unknown (got ` +
		`"${down.text}")`);
	const dis = await t.page.evaluate(() => ['start', 'stop', 'restart']
		.map((a) => document.querySelector(`#bot-${a}`).disabled));
	check(dis.every(Boolean), `every control button disabled while ` +
		`disconnected (got ${dis})`);
	check(/no reader/.test(await t.page.textContent('#control-error')),
		'the failure stays shown while disconnected');
	// The server stale (--stale 1) by the time the page is back.
	// Offline for longer than the page's 5 s poll of /api/system: it asks
	// nothing while the stream is down (each failed request would be a
	// console error).
	await sleep(Math.max(lastAt + 2000, offAt + 5500) - Date.now());
	check(sysAsked() === sys0, `no /api/system request while offline ` +
		`(${sysAsked() - sys0} made)`);
	await t.context.setOffline(false);
	// Back online with no event for longer than --stale: connected, and
	// stale is the truth (the server's notice comes with the welcome).
	await connIs(t, 'stale', '#conn stale again with the network back ' +
		'and still no event', 15000);
	const back = (await t.page.evaluate(() => window.__tf.conn)).slice(seen);
	check(!back.includes('live'), `never "live" on the way back to a ` +
		`stale server: the welcome says it is stale (states: ${back})`);
	await waitFor(t, () => document.querySelector('#control-error')
		.textContent === '' && document.body.dataset.conn === 'up' &&
		!document.querySelector('#bot-start').disabled, null,
	'connected again: the old failure cleared, the buttons enabled');
	// The 503 the test made is logged by the browser; nothing else.
	const errs = t.errors.filter((e) => !/status of 503/.test(e));
	check(errs.length === 0, `no console error (${errs.join('; ')})`);
});
