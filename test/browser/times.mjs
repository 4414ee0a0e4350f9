// times.mjs: every time shows its date when it is not today, in UTC by
// default or in local time (the browser here is in Asia/Tokyo, UTC+9)
// after a click on #tz, a choice remembered across reloads; and one
// number format: thousands separators, fixed decimals per kind, a sign
// and a colour on every P&L.
import { run, check, waitFor, inject, load } from './lib.mjs';

const day = 86400000;
const now = Date.now();
// 12:00:00 UTC two days ago: 21:00:00 the same day in Tokyo.
const old = Math.floor(now / day) * day - 2 * day + 12 * 3600000;
const ymd = (ms) => new Date(ms).toISOString().slice(0, 10);

const fills = (t) => t.page.evaluate(() => [...document.querySelectorAll(
	'#trades tbody tr')].map((r) => [...r.cells].map((c) => [c.textContent,
	c.className])));

await run('times', async (t) => {
	await inject([
		{ type: 'trade_executed', order_id: 'old', symbol: 'BTC-USD',
			side: 'sell', quantity: 1234.5, price: 65000.5, fee: 1.25,
			pnl: 2, ts: old },
		{ type: 'trade_executed', order_id: 'new', symbol: 'BTC-USD',
			side: 'buy', quantity: 0.5, price: 65000.5, fee: 1234.5,
			pnl: -3.5, ts: now }]);
	await load(t);
	await waitFor(t, () => document.querySelectorAll('#trades tbody tr')
		.length === 2, null, 'the two fills');
	let f = await fills(t);
	const hhmmss = new Date(now).toISOString().slice(11, 19);
	check(f[0][0][0] === hhmmss, `today's fill shows its UTC time only ` +
		`"${hhmmss}" (got "${f[0][0][0]}")`);
	check(f[1][0][0] === `${ymd(old)} 12:00:00`, `an older fill shows its ` +
		`date: "${ymd(old)} 12:00:00" UTC (got "${f[1][0][0]}")`);
	check(await t.page.textContent('#tz') === 'UTC', 'the zone button ' +
		'says UTC by default');

	// Numbers: quantity 6 decimals below 1,000 and 2 from there, prices by
	// their size, money 2, signed and coloured P&L.
	const [, , , qty, px, fee, pnl] = f[0];
	check(qty[0] === '0.500000' && px[0] === '65,000.50' && fee[0] ===
		'1,234.50', `qty, price and fee formatted (got ${qty[0]}, ` +
		`${px[0]}, ${fee[0]})`);
	check(pnl[0] === '−3.50' && /\bneg\b/.test(pnl[1]), `a loss reads ` +
		`"−3.50" in red (got "${pnl[0]}" "${pnl[1]}")`);
	check(f[1][3][0] === '1,234.50' && f[1][6][0] === '+2.00' &&
		/\bpos\b/.test(f[1][6][1]), `a gain reads "+2.00" in green, a ` +
		`large quantity "1,234.50" (got ${f[1][3][0]}, ${f[1][6][0]})`);

	// The tape's first price is formatted without Intl (num.js's
	// plainPrice): the same text as fmtPrice, whatever the price.
	const diff = await t.page.evaluate(async () => {
		const { plainPrice, fmtPrice } = await import('/js/num.js');
		const vals = [1.005, 2.675, 0.125, 9.995, 999.995, 99999.995,
			0.00001234, 0.0000015, 1234567.891, 1e20, 0.99999999, 65000.5];
		for (let i = 0; i < 20000; i++) {
			const v = Math.random() * 10 ** (i % 14 - 7);
			vals.push(v, Number(v.toPrecision(1 + i % 10)),
				Math.round(v * 1e4) / 1e4 + 5 * 10 ** -(2 + i % 7));
		}
		let n = 0;
		for (const v of vals) {
			const a = plainPrice(v);
			if (a !== null && ++n && a !== fmtPrice(v))
				return `${v}: "${a}", not "${fmtPrice(v)}"`;
		}
		return n > 50000 ? '' : `only ${n} of ${vals.length} prices had one`;
	});
	check(diff === '', `the tape's price without Intl reads as fmtPrice ` +
		`(${diff})`);

	await t.page.click('#tz');
	await waitFor(t, (w) => document.querySelector('#trades tbody tr:last-child')
		?.cells[0].textContent === w, `${ymd(old)} 21:00:00`,
	`in local time (Tokyo) the older fill reads "${ymd(old)} 21:00:00"`);
	check(await t.page.textContent('#tz') === 'Local', 'the button says Local');
	const foot = await t.page.textContent('.footer');
	check(/local time/.test(foot), `the footer names the zone (got "${foot}")`);
	await load(t);
	await waitFor(t, (w) => document.querySelector('#trades tbody tr:last-child')
		?.cells[0].textContent === w, `${ymd(old)} 21:00:00`,
	'local time is remembered across a reload');
	f = await fills(t);
	const local = new Date(now + 9 * 3600000).toISOString().slice(11, 19);
	check(f[0][0][0] === local, `today's fill in Tokyo time "${local}" ` +
		`(got "${f[0][0][0]}")`);
	check(t.errors.length === 0, `no console error (${t.errors.join('; ')})`);
}, { load: false, context: { timezoneId: 'Asia/Tokyo' } });
