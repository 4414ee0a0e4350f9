// trading.mjs: true numbers. tf-serve is fed only these fills (times
// relative to midnight UTC: D1 two days ago, D2 yesterday), and every
// figure below is worked out by hand from the contract
// (/work/notes/dash-api.md, man tf-serve):
//   AAA-USD  D1 10:00 buy 2 @ 100 fee 1 (a1); 10:05 buy 2 @ 110 fee 1 (a2);
//            11:00 sell 4 @ 120 fee 2 (a3)
//            -> trip 1: long 4, entry 105, exit 120, 1 h,
//               P&L 480 - 420 - 4 = +56.00 (+13.33%), fees 4.00
//   BBB-USD  D2 09:00 sell 10 @ 50 fee 0.5 (b1); 09:30 buy 10 @ 55 fee 0.5
//            (b2) -> trip 2: short 10, entry 50, exit 55, 30 m,
//               P&L 500 - 550 - 1 = −51.00 (−10.20%), fees 1.00
//   AAA-USD  D2 12:00 buy 1 @ 200 (a4); 13:00 sell 3 @ 210 fee 3 (a5)
//            -> trip 3: long 1, entry 200, exit 210, 1 h, P&L +9.00
//               (+4.50%), fee 1 (a third of 3); then short 2 @ 210 open
//   CCC-USD  an hour ago: order_placed with stop 9.5, buy 5 @ 10 fee 0.1
//            -> long 5 @ 10 open, stop 9.5
// Metrics: 3 round trips, 2 wins, 1 loss, win rate 66.67%, realized
// +14.00, fees 8.10 (every fill), profit factor 65 / 51 = 1.27, avg win
// +32.50, avg loss −51.00, best +56.00, worst −51.00, max drawdown
// realized 56 - 5 = 51.00. Daily: D1 +56.00 (1 trip), D2 −42.00 (2).
// By symbol: AAA-USD +65.00 (2, fees 7.00), BBB-USD −51.00 (1, fees
// 1.00), CCC-USD 0 trips. With AAA-USD at 205 and CCC-USD at 10.40 the
// open positions show +10.00 (+2.38%) and +2.00 (+4.00%); AAA-USD at
// 200 then makes +20.00 (+4.76%). A live sell of CCC-USD closes trip 4
// (+1.80) and the page shows the server's new figures.
import fs from 'node:fs';
import { run, check, waitFor, inject, load } from './lib.mjs';

const DAY = 86400000, H = 3600000, M = 60000;
const d0 = Math.floor(Date.now() / DAY) * DAY;
const D1 = d0 - 2 * DAY, D2 = d0 - DAY;
const now = Date.now();
const ymd = (ms) => new Date(ms).toISOString().slice(0, 10);
const fill = (sym, side, qty, price, fee, id, ts) => ({ type: 'trade_executed',
	symbol: sym, side, quantity: qty, price, ...(fee === null ? {} : { fee }),
	order_id: id, ts });

const num = (s) => Number(String(s).replace(/[,+%]/g, '').replace('−', '-'));
const metric = (t, k) => t.page.textContent(`[data-metric="${k}"]`);
const table = (t, id) => t.page.evaluate((i) => [...document.querySelectorAll(
	`#${i} tbody tr`)].map((r) => [...r.cells].map((c) => c.textContent)), id);

await run('trading', async (t) => {
	await inject([
		fill('AAA-USD', 'buy', 2, 100, 1, 'a1', D1 + 10 * H),
		fill('AAA-USD', 'buy', 2, 110, 1, 'a2', D1 + 10 * H + 5 * M),
		fill('AAA-USD', 'sell', 4, 120, 2, 'a3', D1 + 11 * H),
		fill('BBB-USD', 'sell', 10, 50, 0.5, 'b1', D2 + 9 * H),
		fill('BBB-USD', 'buy', 10, 55, 0.5, 'b2', D2 + 9 * H + 30 * M),
		fill('AAA-USD', 'buy', 1, 200, null, 'a4', D2 + 12 * H),
		fill('AAA-USD', 'sell', 3, 210, 3, 'a5', D2 + 13 * H),
		{ type: 'order_placed', symbol: 'CCC-USD', side: 'buy', quantity: 5,
			price: 10, stop: 9.5, order_id: 'c1', ts: now - H - 1000 },
		fill('CCC-USD', 'buy', 5, 10, 0.1, 'c1', now - H),
		{ type: 'price_update', symbol: 'AAA-USD', price: 205, ts: now },
		{ type: 'price_update', symbol: 'CCC-USD', price: 10.4, ts: now },
	]);
	await load(t);

	// The server's metrics, as they are.
	const want = { round_trips: '3', wins: '2', losses: '1',
		win_rate: '66.67%', realized_pnl: '+14.00', fees: '8.10',
		profit_factor: '1.27', avg_win: '+32.50', avg_loss: '−51.00',
		best: '+56.00', worst: '−51.00', max_drawdown_realized: '51.00' };
	for (const k in want) {
		const got = (await metric(t, k)).trim();
		check(got === want[k], `metric ${k}: ${want[k]} (got "${got}")`);
	}
	const cls = await t.page.getAttribute('[data-metric="realized_pnl"]', 'class');
	check(/\bpos\b/.test(cls || ''), `realized P&L in green (class "${cls}")`);

	// Open positions: AAA-USD short 2 @ 210 (last 205), CCC-USD long 5 @ 10.
	let pos = await table(t, 'positions');
	const row = (sym) => pos.find((r) => r[0] === sym);
	check(pos.length === 2, `two open positions (got ${JSON.stringify(pos)})`);
	let a = row('AAA-USD'), c = row('CCC-USD');
	check(a && a[1] === 'short' && num(a[2]) === 2 && a[3] === '210.00' &&
		a[4] === '205.00' && a[5] === '+10.00' && a[6] === '+2.38%',
	`AAA-USD: short 2 @ 210.00, last 205.00, +10.00, +2.38% (got ${a})`);
	const age = (ms) => {
		const x = Math.floor(ms / 1000), d = Math.floor(x / 86400);
		const hh = Math.floor(x % 86400 / 3600), mm = Math.floor(x % 3600 / 60);
		return d ? `${d}d ${hh}h` : `${hh}h ${mm}m`;
	};
	const ages = [0, 60000, 120000].map((x) => age(Date.now() - (D2 + 13 * H) - x));
	check(ages.includes(a[8]), `AAA-USD open since yesterday 13:00 UTC: ` +
		`age ${ages[0]} (got "${a[8]}")`);
	check(c && c[1] === 'long' && c[3] === '10.00' && c[5] === '+2.00' &&
		c[6] === '+4.00%' && c[7] === '9.50', `CCC-USD: long @ 10.00, ` +
		`+2.00, +4.00%, stop 9.50 (got ${c})`);
	check(/^(1h 0m|1h 1m|59m \d+s)$/.test(c[8]), `CCC-USD opened an hour ` +
		`ago (got "${c[8]}")`);
	// Unrealized follows the price live.
	await inject([{ type: 'price_update', symbol: 'AAA-USD', price: 200,
		ts: Date.now() }]);
	await waitFor(t, () => {
		const r = [...document.querySelectorAll('#positions tbody tr')]
			.find((x) => x.cells[0].textContent === 'AAA-USD');
		return r && r.cells[5].textContent === '+20.00' &&
			r.cells[6].textContent === '+4.76%';
	}, null, 'AAA-USD at 200: unrealized +20.00 (+4.76%)');

	// Closed round trips, newest first.
	await waitFor(t, () => document.querySelectorAll('#trips tbody tr')
		.length === 3, null, 'three closed trips in #trips');
	let trips = await table(t, 'trips');
	check(trips.length === 3, `three closed trips (got ${trips.length})`);
	const [r3, r2, r1] = trips;
	check(r1[1] === 'AAA-USD' && r1[2] === 'long' && num(r1[3]) === 4 &&
		r1[4] === '105.00' && r1[5] === '120.00' && r1[6] === '1h 0m' &&
		r1[7] === '+56.00' && r1[8] === '+13.33%' && r1[9] === '4.00' &&
		r1[11] === 'a1 a2 a3', `trip 1 as worked out (got ${r1})`);
	check(r1[0] === `${ymd(D1)} 11:00:00` && r1[10] === `${ymd(D1)} 10:00:00`,
		`trip 1 closed and opened with their dates (got ${r1[0]}, ${r1[10]})`);
	check(r2[1] === 'BBB-USD' && r2[2] === 'short' && r2[4] === '50.00' &&
		r2[5] === '55.00' && r2[6] === '30m 0s' && r2[7] === '−51.00' &&
		r2[8] === '−10.20%' && r2[9] === '1.00', `trip 2 (got ${r2})`);
	check(r3[1] === 'AAA-USD' && r3[2] === 'long' && num(r3[3]) === 1 &&
		r3[7] === '+9.00' && r3[8] === '+4.50%' && r3[9] === '1.00',
	`trip 3: the part of the cross back to 0 (got ${r3})`);

	// Sorted by P&L, then the other way.
	await t.page.click('#trips th[data-key="pnl"] button');
	trips = await table(t, 'trips');
	check(trips.map((r) => r[7]).join() === '+56.00,+9.00,−51.00',
		`P&L descending (got ${trips.map((r) => r[7])})`);
	await t.page.click('#trips th[data-key="pnl"] button');
	trips = await table(t, 'trips');
	check(trips.map((r) => r[7]).join() === '−51.00,+9.00,+56.00' &&
		await t.page.getAttribute('#trips th[data-key="pnl"]', 'aria-sort') ===
		'ascending', `P&L ascending, aria-sort (got ${trips.map((r) => r[7])})`);
	await t.page.click('#trips th[data-key="symbol"] button');
	trips = await table(t, 'trips');
	check(trips.map((r) => r[1]).join() === 'AAA-USD,AAA-USD,BBB-USD',
		`by symbol A to Z (got ${trips.map((r) => r[1])})`);

	// Filters; a filter without match says so.
	await t.page.selectOption('#trips-symbol', 'AAA-USD');
	check((await table(t, 'trips')).length === 2, 'AAA-USD: two trips');
	await t.page.selectOption('#trips-side', 'short');
	await waitFor(t, () => {
		const n = document.querySelector('.p-trips .empty-note');
		return !document.querySelector('#trips tbody tr') &&
			n.checkVisibility() && n.textContent ===
			'No closed trade matches the filter';
	}, null, 'AAA-USD short: none, and the note says so');
	await t.page.selectOption('#trips-symbol', '');
	trips = await table(t, 'trips');
	check(trips.length === 1 && trips[0][1] === 'BBB-USD', `short: the ` +
		`BBB-USD trip only (got ${trips})`);
	await t.page.selectOption('#trips-side', '');
	await t.page.click('#trips th[data-key="closed_ts"] button');

	// CSV: a real download of what is shown.
	const [dl] = await Promise.all([t.page.waitForEvent('download',
		{ timeout: 10000 }), t.page.click('#trips-csv')]);
	check(/^tf-closed-trades-\d{8}-\d{6}\.csv$/.test(dl.suggestedFilename()),
		`the file is named tf-closed-trades-DATE-TIME.csv (got ` +
		`${dl.suggestedFilename()})`);
	const csv = fs.readFileSync(await dl.path(), 'utf8').trim().split(/\r\n/);
	check(csv[0] === 'symbol,side,quantity,entry_price,exit_price,opened,' +
		'closed,duration_s,pnl,pnl_pct,fees,order_ids', `CSV header (got ` +
		`${csv[0]})`);
	const f = csv.slice(1).map((l) => l.split(','));
	const byClose = f.map((x) => x[6]);
	check(f.length === 3 && byClose.join() === [D2 + 13 * H, D2 + 9 * H + 30 * M,
		D1 + 11 * H].map((x) => new Date(x).toISOString()).join(),
	`3 rows, closed times in ISO 8601 UTC, in the order shown (got ${byClose})`);
	const t1 = f[2];
	check(t1[0] === 'AAA-USD' && t1[1] === 'long' && Number(t1[2]) === 4 &&
		Number(t1[3]) === 105 && Number(t1[4]) === 120 &&
		t1[5] === new Date(D1 + 10 * H).toISOString() && Number(t1[7]) === 3600 &&
		Number(t1[8]) === 56 && Math.abs(Number(t1[9]) - 13.3333) < 0.001 &&
		Number(t1[10]) === 4 && t1[11] === 'a1 a2 a3', `CSV trip 1 (got ${t1})`);

	// Profit: daily, by symbol, cumulative.
	await waitFor(t, () => document.querySelector('#profit-cumulative')
		.dataset.points === '3', null, 'the cumulative curve drawn');
	const daily = await table(t, 'daily');
	check(JSON.stringify(daily) === JSON.stringify([
		[ymd(D2), '2', '1', '1', '−42.00'], [ymd(D1), '1', '1', '0', '+56.00']]),
	`daily P&L: ${ymd(D2)} −42.00 (2 trips), ${ymd(D1)} +56.00 (got ` +
		`${JSON.stringify(daily)})`);
	const bars = await t.page.getAttribute('#profit-daily', 'data-bars');
	check(bars === JSON.stringify([[ymd(D1), 56], [ymd(D2), -42]]),
		`the daily bars are those days (got ${bars})`);
	const bySym = await table(t, 'by-symbol');
	const s = (sym) => bySym.find((r) => r[0] === sym) || [];
	check(s('AAA-USD').join() === 'AAA-USD,2,2,0,7.00,+65.00' &&
		s('BBB-USD').join() === 'BBB-USD,1,0,1,1.00,−51.00' &&
		bySym[0][0] === 'AAA-USD', `by symbol, best first: AAA-USD +65.00, ` +
		`BBB-USD −51.00 (got ${JSON.stringify(bySym)})`);
	const cum = await t.page.evaluate(() => [document.querySelector(
		'#profit-cumulative').dataset.points, document.querySelector(
		'#profit-cumulative').dataset.last]);
	check(cum[0] === '3' && Number(cum[1]) === 14, `cumulative realized ` +
		`P&L: 3 points ending at 14 (got ${cum})`);

	// A live fill: the page asks the server again and shows its figures.
	const before = await t.page.evaluate(() => window.tfDash.tradingFetches);
	await inject([fill('CCC-USD', 'sell', 5, 10.4, 0.1, 'c2', Date.now())]);
	await waitFor(t, () => document.querySelector('[data-metric="round_trips"]')
		.textContent === '4' && document.querySelector(
		'[data-metric="win_rate"]').textContent === '75.00%' &&
		document.querySelector('[data-metric="realized_pnl"]').textContent ===
		'+15.80', null, 'after the live sell: 4 trips, win rate 75.00%, ' +
		'realized +15.80');
	pos = await table(t, 'positions');
	check(pos.length === 1 && pos[0][0] === 'AAA-USD', `CCC-USD is flat: ` +
		`no longer listed (got ${JSON.stringify(pos)})`);
	// Tables are redrawn at most every 250 ms.
	await waitFor(t, () => {
		const r = document.querySelector('#trips tbody tr');
		return r && r.cells[1].textContent === 'CCC-USD' &&
			r.cells[7].textContent === '+1.80';
	}, null, 'the new trip on top of the closed trades: CCC-USD +1.80');
	const after = await t.page.evaluate(() => window.tfDash.tradingFetches);
	check(after > before, `GET /api/trading again after the fill ` +
		`(${before} then ${after})`);
	check(t.errors.length === 0, `no console error (${t.errors.join('; ')})`);
}, { load: false });
