// timeframe.mjs: the timeframe buttons switch the chart: clicking
// button[data-tf="5m"] makes #chart show 5m candles (data-tf, data-candles
// as tf-serve has them) and marks that button, and only it, pressed.
import { run, check, waitFor, sleep, api } from './lib.mjs';

// pressed t: the data-tf of every button whose aria-pressed is "true".
const pressed = (t) => t.page.evaluate(() =>
	[...document.querySelectorAll('#timeframe button[data-tf]')]
		.filter((b) => b.getAttribute('aria-pressed') === 'true')
		.map((b) => b.dataset.tf));

async function choose(t, tf) {
	await t.page.click(`#timeframe button[data-tf="${tf}"]`, { timeout: 5000 });
	await waitFor(t, (f) => {
		const c = document.querySelector('#chart');
		return c.dataset.tf === f && Number(c.dataset.candles) >= 1;
	}, tf, `#chart[data-tf="${tf}"] with candles after clicking ${tf}`);
	const p = await pressed(t);
	check(p.length === 1 && p[0] === tf, `after clicking ${tf}, only ` +
		`button[data-tf="${tf}"] has aria-pressed="true" (pressed: ${p})`);
}

await run('timeframe', async (t) => {
	const tfs = await t.page.$$eval('#timeframe button[data-tf]',
		(b) => b.map((e) => e.dataset.tf));
	check(JSON.stringify(tfs) === '["1s","1m","5m","15m","1h","4h","1d"]',
		`#timeframe has the buttons 1s, 1m, 5m, 15m, 1h, 4h, 1d in order ` +
		`(got ${tfs})`);
	// The chart comes once the first screen is painted (main.js), a
	// frame or more after body[data-ready].
	const c0 = await waitFor(t, () => document.querySelector('#chart')
		.dataset.tf, null, '#chart[data-tf] (the price chart made)');
	const p0 = await pressed(t);
	check(p0.length === 1 && p0[0] === c0, `at start the pressed button ` +
		`(${p0}) is the chart's timeframe (${c0})`);

	// Two seconds of 50 events/s make several 1 s candles.
	await choose(t, '1s');
	await waitFor(t, () => Number(document.querySelector('#chart')
		.dataset.candles) >= 2, null, '#chart to draw 2 or more 1s candles');

	await choose(t, '5m');
	const c = await t.page.evaluate(() => {
		const e = document.querySelector('#chart');
		return { symbol: e.dataset.symbol, candles: Number(e.dataset.candles) };
	});
	const r = await api(`/api/candles?symbol=${encodeURIComponent(c.symbol)}` +
		'&tf=5m');
	check(r.status === 200, `GET /api/candles ${c.symbol} 5m: 200 (got ` +
		`${r.status})`);
	// A new 5m candle may open between the two reads.
	check(Math.abs(r.body.candles.length - c.candles) <= 1, `#chart draws ` +
		`the ${r.body.candles.length} 5m candles tf-serve has for ` +
		`${c.symbol} (data-candles="${c.candles}")`);

	// And back: the switch works both ways, and for every timeframe.
	for (const tf of ['15m', '1h', '4h', '1d', '1m', '1s'])
		await choose(t, tf);
});
