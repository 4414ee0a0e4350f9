// live.mjs: fed by `tf-sim --rate 50`, the page shows live data: the
// connection is live, events arrive and are rendered, the symbols appear,
// the chart has candles, the last price and the top bar's tape follow the
// stream.
import { run, check, waitFor, sleep, api } from './lib.mjs';

await run('live', async (t) => {
	await waitFor(t, () => {
		const c = document.querySelector('#conn');
		return c && c.dataset.state === 'live';
	}, null, '#conn[data-state="live"]');
	const conn = await t.page.textContent('#conn');
	check(/live/i.test(conn), `#conn says "Live" to humans (got "${conn}")`);
	await waitFor(t, () => window.tfDash && window.tfDash.events >= 20 &&
		window.tfDash.rendered >= 20 && window.tfDash.firstEventAt !== null &&
		window.tfDash.frames > 0, null,
		'window.tfDash: 20 live events received and rendered, ' +
		'firstEventAt set, frames > 0');
	const symbols = await waitFor(t, () => {
		const o = [...document.querySelectorAll('#symbol option')]
			.map((e) => e.value);
		return ['BTC-USD', 'ETH-USD', 'SOL-USD'].every((s) => o.includes(s))
			&& o;
	}, null, '#symbol to offer BTC-USD, ETH-USD and SOL-USD');
	check(symbols.length === 3, `#symbol offers the 3 symbols seen, no more ` +
		`(got ${symbols})`);
	const chart = await waitFor(t, () => {
		const c = document.querySelector('#chart');
		const s = document.querySelector('#symbol');
		return c && Number(c.dataset.candles) >= 1 && c.dataset.symbol ===
			s.value && { symbol: c.dataset.symbol, tf: c.dataset.tf };
	}, null, '#chart[data-candles] >= 1 for the symbol chosen in #symbol');
	check(['1s', '1m', '5m', '15m', '1h', '4h', '1d'].includes(chart.tf),
		`#chart data-tf is a timeframe (got "${chart.tf}")`);

	// The last price follows the stream: it changes, and it is the price
	// tf-serve holds for that symbol (within 2%: it moves meanwhile).
	const price = async () => (await t.page.textContent('#last-price')).trim();
	const p1 = await price();
	const num = (s) => Number(s.replace(/[^0-9.\-]/g, ''));
	check(num(p1) > 0, `#last-price shows a price (got "${p1}")`);
	await waitFor(t, (p) => document.querySelector('#last-price')
		.textContent.trim() !== p, p1, `#last-price to change from "${p1}"`);
	const p2 = await price();
	const snap = await api('/api/snapshot');
	check(snap.status === 200, `GET /api/snapshot: 200 (got ${snap.status})`);
	const want = snap.body.symbols[chart.symbol].price;
	check(Math.abs(num(p2) - want) / want < 0.02, `#last-price "${p2}" is ` +
		`${chart.symbol}'s price (tf-serve has ${want})`);

	// The tape, the first live data on the screen (before the charts),
	// goes on once the page has taken over from boot.js: a symbol's
	// live price, moving.
	const tape = () => t.page.evaluate(() => {
		const e = document.querySelector('#tape');
		return e && !e.hidden ? e.textContent.trim() : '';
	});
	const t1 = await tape();
	const [tsym, tpx] = t1.split(/\s+/);
	check(symbols.includes(tsym) && Math.abs(num(tpx) -
		snap.body.symbols[tsym].price) / num(tpx) < 0.02,
	`#tape shows a symbol's live price (got "${t1}")`);
	await waitFor(t, (x) => {
		const e = document.querySelector('#tape');
		return e.textContent.trim() !== x;
	}, t1, `#tape to change from "${t1}"`);

	// Events keep flowing: more of them a second later.
	const n1 = await t.page.evaluate(() => window.tfDash.events);
	await sleep(1000);
	const n2 = await t.page.evaluate(() => window.tfDash.events);
	check(n2 - n1 >= 20, `about 50 events a second reach the page ` +
		`(got ${n2 - n1} in 1 s)`);
	const lastSeq = await t.page.evaluate(() => window.tfDash.lastSeq);
	check(Number.isInteger(lastSeq) && lastSeq > 0,
		`tfDash.lastSeq is the stream's sequence number (got ${lastSeq})`);

	// The portfolio panel shows the engine's value.
	await waitFor(t, () => /\d/.test(
		document.querySelector('#portfolio-value').textContent), null,
		'#portfolio-value to show a number');
});
