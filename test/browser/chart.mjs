// chart.mjs: the price chart a trader would keep open. tf-serve is fed only
// by this test: CHT-USD has one tick a minute for 40 minutes (closes 100,
// 101, ..., 138, then 150; cumulative volume 10, 20, ..., 400), DNS-USD
// one ticker_update and one fill a second for 120 seconds (no volume).
//   - on load and on a timeframe change every candle is in view and they
//     fill the width (not squeezed at the right edge);
//   - the legend shows the last candle's change from the previous close,
//     +12.00 (+8.70%), and under the crosshair the hovered one's
//     (candle 20: +1.00, +0.84%);
//   - real volume when the events carry it (10 per candle), tick counts
//     otherwise, and the label says which;
//   - SMA 3 and EMA 3 overlays with the values worked out by hand
//     (141.67 and 143.50 at the last candle), remembered across a reload;
//     the strategy's own indicator sent as a field is drawn and shown;
//   - the price labels (last, entry, target, stop) never overlap, those
//     left out are written under the chart; the latest pattern's name is
//     not clipped; 120 fills on 120 one-second candles make fewer markers;
//   - GAP-USD (120 one-minute candles 3 minutes apart, an open long with a
//     stop, a pattern 10 candles back): the pattern's name ends before
//     the price lines' titles, and is shortened once the chart is dragged
//     to bring it under them; a new pattern does not pull the chart back;
//     the back-to-now button (#chart-now) shows while it is dragged and
//     brings the newest candles back, the name whole again.
import { run, check, waitFor, inject, load, sleep } from './lib.mjs';

const MIN = 60000;
const now = Date.now();
const base = Math.floor(now / MIN) * MIN - 39 * MIN;
const closes = [];
for (let i = 0; i < 40; i++)
	closes.push(i < 39 ? 100 + i : 150);

const info = (t) => t.page.evaluate(() => window.tfDash.chart());
const legend = (t) => t.page.textContent('#ohlc');

await run('chart', async (t) => {
	const lines = closes.map((c, i) => ({ type: 'price_update',
		symbol: 'CHT-USD', price: c, volume: 10 * (i + 1),
		ts: base + i * MIN + 1000 }));
	const sec = Math.floor(now / 1000) * 1000 - 119000;
	for (let i = 0; i < 120; i++) {
		lines.push({ type: 'ticker_update', symbol: 'DNS-USD',
			price: 50 + (i % 7) * 0.1, ts: sec + i * 1000 });
		lines.push({ type: 'trade_executed', symbol: 'DNS-USD',
			side: i % 2 ? 'sell' : 'buy', quantity: 1, price: 50,
			order_id: `d${i}`, ts: sec + i * 1000 + 10 });
	}
	// The latest pattern of CHT-USD, at its last candle, with levels
	// close to the last price (150): their labels would overlap.
	lines.push({ type: 'pattern_detected', symbol: 'CHT-USD',
		pattern: 'inverse_head_and_shoulders', direction: 'bullish',
		confidence: 0.8, entry: 150.3, target: 150.6, stop: 149.7,
		ts: base + 39 * MIN + 2000 });
	// GAP-USD: 120 one-minute candles three minutes apart (no tick in
	// between), an open long with its stop, and its latest pattern ten
	// candles before the last, with levels among the candles.
	const gapBase = Math.floor(now / MIN) * MIN - 3 * 119 * MIN;
	for (let i = 0; i < 120; i++)
		lines.push({ type: 'price_update', symbol: 'GAP-USD',
			price: 200 + (i % 20), ts: gapBase + 3 * i * MIN + 1000 });
	lines.push({ type: 'trade_executed', symbol: 'GAP-USD', side: 'buy',
		quantity: 1, price: 205, stop: 201, order_id: 'g1',
		ts: gapBase + 3 * 100 * MIN + 1500 });
	lines.push({ type: 'pattern_detected', symbol: 'GAP-USD',
		pattern: 'inverse_head_and_shoulders', direction: 'bullish',
		confidence: 0.7, entry: 215, target: 219, stop: 211,
		ts: gapBase + 3 * 109 * MIN + 2000 });
	await inject(lines);
	await load(t);
	await t.page.selectOption('#symbol', 'CHT-USD');
	await waitFor(t, () => {
		const c = document.querySelector('#chart');
		return c.dataset.symbol === 'CHT-USD' && c.dataset.candles === '40';
	}, null, 'CHT-USD on 1m with its 40 candles');
	await sleep(300);
	let i1 = await info(t);
	check(i1.from <= 0.5 && i1.to >= 39, `every candle in view on load ` +
		`(logical range ${i1.from} to ${i1.to})`);
	check(i1.x[0] !== null && i1.x[0] < i1.width * 0.2, `the candles fill ` +
		`the width: the first at x ${i1.x[0]} of ${i1.width}`);

	// The last candle: +12.00 from 138, +8.70%.
	let l = await legend(t);
	check(l.includes('C 150.00') && l.includes('+12.00 (+8.70%)'), `the ` +
		`legend shows the last close and its change "+12.00 (+8.70%)" ` +
		`(got "${l}")`);
	check(l.includes('Vol 10.000000'), `the last candle's volume is the ` +
		`rise of the cumulative field: 10 (got "${l}")`);
	check(await t.page.textContent('#volume-label') === 'Volume',
		'the bars are labelled Volume');

	// The crosshair on candle 20 (close 120, previous 119).
	const box = await t.page.locator('#chart').boundingBox();
	await t.page.mouse.move(box.x + i1.x[20], box.y + box.height / 2);
	await waitFor(t, () => document.querySelector('#ohlc').textContent
		.includes('C 120.00'), null, 'the legend follows the crosshair ' +
		'to candle 20');
	l = await legend(t);
	check(l.includes('+1.00 (+0.84%)'), `under the crosshair the change ` +
		`from the previous close, "+1.00 (+0.84%)" (got "${l}")`);
	await t.page.mouse.move(box.x + 5, box.y - 40);

	// Labels: last 150, entry 150.3, target 150.6, stop 149.7.
	i1 = await info(t);
	const ys = i1.labels.map((x) => x[1]).sort((a, b) => a - b);
	for (let i = 1; i < ys.length; i++)
		check(ys[i] - ys[i - 1] >= 19, `price labels at least 19 px apart ` +
			`(got ${JSON.stringify(i1.labels)})`);
	check(i1.labels[0][0] === 'last', `the last price keeps its label ` +
		`(got ${JSON.stringify(i1.labels)})`);
	const levels = await t.page.textContent('.p-chart .levels');
	const named = i1.labels.map((x) => x[0]);
	for (const [n, v] of [['entry', '150.30'], ['target', '150.60'],
		['stop', '149.70']])
		check(named.includes(n) || levels.includes(`${n} ${v}`), `the ` +
			`${n} level shows, on the axis or under the chart ` +
			`(labels ${named}, under: "${levels}")`);
	check(i1.named === 'inverse head and shoulders' &&
		i1.nameShown === i1.named && i1.namedX !== null &&
		i1.namedX + i1.namedWidth / 2 <= i1.width && i1.namedX -
		i1.namedWidth / 2 >= 0, `the pattern's name fits in the chart ` +
		`(centre ${i1.namedX}, ${Math.round(i1.namedWidth)} px wide, pane ` +
		`${i1.width} px)`);

	// Moving averages.
	await t.page.selectOption('#overlay-kind', 'sma');
	await t.page.fill('#overlay-period', '3');
	await t.page.click('#overlay-add');
	await t.page.selectOption('#overlay-kind', 'ema');
	await t.page.fill('#overlay-period', '3');
	await t.page.press('#overlay-period', 'Enter');
	await waitFor(t, () => document.querySelector('#chart').dataset
		.overlays === 'sma3 ema3', null, 'SMA 3 and EMA 3 on the chart');
	l = await legend(t);
	check(l.includes('SMA 3 141.67') && l.includes('EMA 3 143.50'), `the ` +
		`legend has SMA 3 141.67 and EMA 3 143.50 (got "${l}")`);

	// The strategy's indicator, sent live with a price.
	await inject([{ type: 'price_update', symbol: 'CHT-USD', price: 150,
		volume: 400, indicators: { fast: 149.5, bad: 'x' },
		ts: base + 39 * MIN + 3000 }]);
	await waitFor(t, () => document.querySelector('#chart').dataset
		.indicators === 'fast' && document.querySelector('#ohlc')
		.textContent.includes('fast 149.5'), null,
	'the indicator "fast" drawn and in the legend ("bad", not a number, not)');

	// A timeframe change fits again.
	await t.page.click('#timeframe button[data-tf="5m"]');
	await waitFor(t, () => document.querySelector('#chart').dataset.tf === '5m',
		null, 'the chart on 5m');
	await sleep(300);
	const i5 = await info(t);
	check(i5.candles >= 8 && i5.from <= 0.5 && i5.to >= i5.candles - 1,
		`on 5m every candle in view (${i5.candles} candles, range ` +
		`${i5.from} to ${i5.to})`);

	// Dense markers: 120 fills on 120 one-second candles.
	await t.page.selectOption('#symbol', 'DNS-USD');
	await t.page.click('#timeframe button[data-tf="1s"]');
	await waitFor(t, () => {
		const c = document.querySelector('#chart');
		return c.dataset.symbol === 'DNS-USD' && c.dataset.tf === '1s' &&
			Number(c.dataset.candles) >= 100;
	}, null, 'DNS-USD on 1s');
	await sleep(300);
	const m = await t.page.evaluate(() => ({
		n: Number(document.querySelector('#chart').dataset.markers),
		thin: Number(document.querySelector('#chart').dataset.thin),
		i: window.tfDash.chart() }));
	const xs = m.i.markX.filter((x) => x !== null).sort((a, b) => a - b);
	let gap = Infinity;
	for (let i = 1; i < xs.length; i++)
		gap = Math.min(gap, xs[i] - xs[i - 1]);
	check(m.thin >= 2 && xs.length <= 60 && gap >= 13, `120 fills on ` +
		`candles ${m.i.spacing} px apart make markers at most every ` +
		`14 px (${xs.length} places, closest ${gap} px apart, ${m.thin} ` +
		`candles each)`);
	check(await t.page.textContent('#volume-label') ===
		'Ticks (the events carry no volume)', 'without volume the bars ' +
		'are tick counts, and labelled so');
	check((await legend(t)).includes(' ticks'), 'the legend counts ticks');

	// The pattern's name on a chart with price lines: its box (the
	// marker's text, centred on its candle) ends before the column of
	// the lines' titles (each drawn by lightweight-charts at the pane's
	// right edge, its text plus a 1 px border and 2 x 5/12 of the font
	// size of padding wide), with candles missing between ticks; and
	// still when the chart is dragged to bring the name under the
	// titles: it is shortened (or left out), never run under them.
	await t.page.selectOption('#symbol', 'GAP-USD');
	await t.page.click('#timeframe button[data-tf="1m"]');
	await waitFor(t, () => {
		const c = document.querySelector('#chart');
		const i = window.tfDash.chart();
		return c.dataset.symbol === 'GAP-USD' && c.dataset.tf === '1m' &&
			c.dataset.candles === '120' && i.labels.some((x) =>
			x[0] === 'long entry');
	}, null, 'GAP-USD on 1m with its 120 candles and its long entry line');
	await sleep(300);
	const boxes = () => t.page.evaluate(() => {
		const i = window.tfDash.chart();
		const c = document.createElement('canvas').getContext('2d');
		c.font = i.font;
		const size = parseFloat(i.font);
		const titles = i.labels.filter((x) => x[0] !== 'last').map((x) => {
			const w = Math.ceil(c.measureText(x[0]).width) + 1 +
				2 * size / 12 * 5;
			return { name: x[0], left: i.width - w, right: i.width };
		});
		const w = c.measureText(i.nameShown).width;
		return { i, titles, name: i.nameShown, left: i.namedX - w / 2,
			right: i.namedX + w / 2,
			whole: i.namedX + c.measureText(i.named).width / 2 };
	});
	const clear = (b) => b.name === '' || (b.left >= 0 && b.titles.every(
		(x) => b.right <= x.left));
	const say = (b) => `"${b.name}" from x ${Math.round(b.left)} to ` +
		`${Math.round(b.right)}, titles ${b.titles.map((x) => `${x.name} ` +
		`from ${Math.round(x.left)}`).join(', ')} (pane ${b.i.width} px)`;
	let b = await boxes();
	check(b.titles.length >= 2 && b.name === 'inverse head and shoulders' &&
		clear(b), `on GAP-USD the pattern's name shows whole and ends ` +
		`before the price lines' titles: ${say(b)}`);
	const cb = await t.page.locator('#chart').boundingBox();
	const col = Math.min(...b.titles.map((x) => x.left));
	const y = cb.y + cb.height * 0.3;
	await t.page.mouse.move(cb.x + b.i.namedX, y);
	await t.page.mouse.down();
	await t.page.mouse.move(cb.x + col - 40, y, { steps: 5 });
	await t.page.mouse.up();
	await t.page.mouse.move(cb.x + 5, cb.y - 40);
	await sleep(300);
	b = await boxes();
	check(b.i.namedX !== null && b.whole > col && clear(b) &&
		b.name.endsWith('…') && 'inverse head and shoulders'.startsWith(
		b.name.slice(0, -1)), `dragged to where the whole name would ` +
		`reach x ${Math.round(b.whole)}, past the titles, it is ` +
		`shortened to end before them: ${say(b)}`);
	// A new pattern then does not pull the dragged chart back.
	await inject([{ type: 'pattern_detected', symbol: 'GAP-USD',
		pattern: 'double_bottom', direction: 'bullish', confidence: 0.6,
		entry: 215, target: 219, stop: 211,
		ts: gapBase + 3 * 119 * MIN + 3000 }]);
	await waitFor(t, () => window.tfDash.chart().named === 'double bottom',
		null, 'the new pattern on GAP-USD');
	await sleep(300);
	const was = b.i.from;
	b = await boxes();
	check(Math.abs(b.i.from - was) < 0.01 && clear(b), `a new pattern ` +
		`leaves the dragged chart where it is (from ${was} to ` +
		`${b.i.from}), its name clear of the titles: ${say(b)}`);

	// The back-to-now button shows while the chart is dragged away, and
	// brings the newest candles back at the same zoom with the room for
	// the (new) pattern's name made again: the name whole and clear.
	check(await t.page.isVisible('#chart-now'), '#chart-now shows on ' +
		'the dragged chart');
	const nb = await t.page.locator('#chart-now').boundingBox();
	check(nb.x >= cb.x && nb.x + nb.width <= cb.x + b.i.width &&
		nb.y >= cb.y && nb.y + nb.height <= cb.y + cb.height - 20,
	`#chart-now lies over the pane, clear of the price and time scales ` +
		`(button ${JSON.stringify(nb)}, chart ${JSON.stringify(cb)}, ` +
		`pane ${b.i.width} px wide)`);
	const spacing = b.i.spacing;
	await t.page.click('#chart-now');
	await waitFor(t, () => {
		const i = window.tfDash.chart();
		return i.nameShown === i.named && i.to >= i.candles - 1 &&
			document.querySelector('#chart-now').hidden;
	}, null, 'the newest candles in view, the name whole, #chart-now ' +
	'hidden again', 5000);
	await sleep(300);
	b = await boxes();
	check(b.name === 'double bottom' && clear(b) &&
		Math.abs(b.i.spacing - spacing) < 0.01, `back to now, the ` +
		`pattern's name shows whole, before the titles, at the same ` +
		`zoom (${spacing} -> ${b.i.spacing} px a candle): ${say(b)}`);

	// Overlays are remembered.
	await load(t);
	await waitFor(t, () => document.querySelector('#chart').dataset
		.overlays === 'sma3 ema3', null, 'the overlays again after a reload');
	await t.page.click('#overlays li:first-child .overlay-rm');
	await waitFor(t, () => document.querySelector('#chart').dataset
		.overlays === 'ema3', null, 'SMA 3 removed');
	check(t.errors.length === 0, `no console error (${t.errors.join('; ')})`);
}, { load: false });
