// feed.mjs: the events feed shows every category (orders placed and
// cancelled, fills, bot start and stop, system, patterns, predictions,
// alerts) in the page's number format, newest first; it filters by
// category and by symbol, says so when a filter matches nothing, and
// stays bounded however many events arrive.
import { run, check, waitFor, inject } from './lib.mjs';

const ts = Date.now();
const EVENTS = [
	{ type: 'bot_started', strategy: 'sma_crossover', reason: 'startup', ts },
	{ type: 'order_placed', order_id: 'o-1', symbol: 'BTC-USD', side: 'buy',
		quantity: 0.5, price: 65000.5, order_type: 'limit', ts },
	{ type: 'trade_executed', order_id: 'o-1', symbol: 'BTC-USD', side: 'buy',
		quantity: 0.5, price: 65000.5, fee: 1.25, ts },
	{ type: 'order_cancelled', order_id: 'o-2', symbol: 'ETH-USD', side: 'sell',
		quantity: 2, price: 3500, reason: 'timeout', ts },
	{ type: 'system_status', status: 'ok', cpu: 12.5, memory: 256, ts },
	{ type: 'pattern_detected', symbol: 'ETH-USD', pattern: 'double_top',
		direction: 'bearish', confidence: 0.7, entry: 3500, target: 3400,
		stop: 3550, ts },
	{ type: 'ml_prediction', model: 'm1', symbol: 'ETH-USD', price: 3500,
		predicted_price: 3480.25, direction: 'down', confidence: 0.6,
		horizon: 10, ts },
	{ type: 'alert', priority: 'medium', title: 'Note', message: 'x', ts },
	{ type: 'bot_stopped', reason: 'user', ts },
];

const feed = (t) => t.page.evaluate(() => [...document.querySelectorAll(
	'#feed tbody tr')].map((r) => [r.dataset.cat, r.cells[2].textContent,
	r.cells[3].textContent]));

await run('feed', async (t) => {
	await inject(EVENTS);
	await waitFor(t, () => document.querySelectorAll('#feed tbody tr')
		.length === 9, null, 'the 9 events in the feed');
	const f = await feed(t);
	const cats = new Set(f.map((r) => r[0]));
	for (const c of ['orders', 'fills', 'bot', 'system', 'patterns',
		'predictions', 'alerts'])
		check(cats.has(c), `the feed has a ${c} event (got ${[...cats]})`);
	check(f[0][0] === 'bot' && /^Stopped/.test(f[0][2]), `newest first: ` +
		`the bot stop on top (got ${JSON.stringify(f[0])})`);
	const fill = f.find((r) => r[0] === 'fills');
	check(fill[2] === 'BUY 0.500000 @ 65,000.50 · fee 1.25 · o-1',
		`a fill reads "BUY 0.500000 @ 65,000.50 · fee 1.25 · o-1" (got ` +
		`"${fill[2]}")`);

	await t.page.selectOption('#feed-cat', 'orders');
	await waitFor(t, () => {
		const r = [...document.querySelectorAll('#feed tbody tr')];
		return r.length === 2 && r.every((x) => x.dataset.cat === 'orders');
	}, null, 'category "orders": the placed and the cancelled order only');
	await t.page.selectOption('#feed-symbol', 'ETH-USD');
	await waitFor(t, () => {
		const r = [...document.querySelectorAll('#feed tbody tr')];
		return r.length === 1 && /^Cancelled/.test(r[0].cells[3].textContent);
	}, null, 'orders of ETH-USD: the cancelled order only');
	await t.page.selectOption('#feed-cat', 'fills');
	await waitFor(t, () => {
		const n = document.querySelector('.p-feed .empty-note');
		return !document.querySelector('#feed tbody tr') &&
			n.checkVisibility() && n.textContent === 'No event matches the filter';
	}, null, 'fills of ETH-USD: none, and the note says so');
	await t.page.selectOption('#feed-cat', '');
	await t.page.selectOption('#feed-symbol', '');

	// Bounded: 1,200 more.
	const many = [];
	for (let i = 0; i < 1200; i++)
		many.push({ type: 'system_status', status: `s${i}`, ts: ts + i });
	await inject(many);
	await waitFor(t, () => /^s1199$|Status s1199/.test(document
		.querySelector('#feed tbody tr').cells[3].textContent), null,
	'the last of 1,200 events on top of the feed');
	const n = await t.page.evaluate(() => ({
		rows: document.querySelectorAll('#feed tbody tr').length,
		foot: document.querySelector('#feed-shown').textContent }));
	const kept = Number(/of ([\d,]+) events kept/.exec(n.foot)[1].replace(/,/g, ''));
	check(n.rows === 200 && kept >= 1000 && kept <= 1125, `at most 200 rows ` +
		`and about 1,000 events kept (got ${n.rows} rows, "${n.foot}")`);
	check(t.errors.length === 0, `no console error (${t.errors.join('; ')})`);
});
