// bounded.mjs: the page's lists stay bounded: 500 alerts and 500 fills
// in one burst leave at most 200 rows each in the DOM, the newest shown;
// the 250 round trips of those fills show as 200 rows, and the CSV of the
// closed trades has every one.
import fs from 'node:fs';
import { run, check, waitFor, inject } from './lib.mjs';

const tag = `B${process.pid}x${Date.now()}`;

await run('bounded', async (t) => {
	const lines = [];
	for (let i = 1; i <= 500; i++) {
		lines.push({ type: 'alert', priority: 'medium', title: 'burst',
			message: `${tag} alert ${i}`, source: tag });
		lines.push({ type: 'trade_executed', order_id: `${tag}-${i}`,
			symbol: 'BND-USD', side: i % 2 ? 'buy' : 'sell', quantity: 0.01,
			price: 65000 + i, pnl: i % 3 - 1, ts: Date.now() });
	}
	await inject(lines);
	await waitFor(t, (m) => [...document.querySelectorAll(
		'#alerts li.alert .alert-message')].some((e) => e.textContent === m),
	`${tag} alert 500`, 'the last alert of the burst to show');
	// The burst's trades, by their rows' quantity (0.01) and price
	// (65000 + i); tf-sim's own trades go on meanwhile.
	const mine = () => t.page.evaluate(() => [...document.querySelectorAll(
		'#trades tbody tr')].map((r) => [...r.cells].map((c) =>
		Number(c.textContent.replace(/[^0-9.]/g, ''))))
		.filter((c) => c[3] === 0.01).map((c) => c[4] - 65000));
	await waitFor(t, () => /65,?500/.test(
		document.querySelector('#trades tbody').textContent), null,
	'the last trade of the burst (price 65500) in #trades');
	const ours = await mine();
	check(ours.includes(500) && !ours.includes(1), `#trades shows the ` +
		`newest trades of the burst, not the oldest (burst rows: ` +
		`${ours.length}, first ${ours[0]}, last ${ours[ours.length - 1]})`);
	const n = await t.page.evaluate(() => ({
		alerts: document.querySelectorAll('#alerts li.alert').length,
		trades: document.querySelectorAll('#trades tbody tr').length }));
	check(n.alerts <= 200 && n.alerts >= 100, `#alerts keeps at most 200 ` +
		`alerts (got ${n.alerts})`);
	check(n.trades <= 200 && n.trades >= 100, `#trades keeps at most 200 ` +
		`rows (got ${n.trades})`);
	const shownAlerts = await t.page.$$eval('#alerts .alert-message',
		(e) => e.map((x) => x.textContent));
	check(!shownAlerts.includes(`${tag} alert 1`), 'the oldest alert of ' +
		'the burst is gone from #alerts');
	// 250 round trips of BND-USD: 200 rows; the CSV has them all.
	await waitFor(t, () => /^200 rows of [\d,]+ closed trades/.test(
		document.querySelector('#trips-shown').textContent), null,
	'#trips-shown: "200 rows of N closed trades"');
	const trips = await t.page.evaluate(() => ({
		rows: document.querySelectorAll('#trips tbody tr').length,
		foot: document.querySelector('#trips-shown').textContent }));
	const all = Number(/of ([\d,]+) closed/.exec(trips.foot)[1].replace(/,/g, ''));
	check(trips.rows === 200 && all >= 250, `#trips shows 200 rows of ` +
		`${all} round trips (got ${trips.rows} rows, "${trips.foot}")`);
	const [dl] = await Promise.all([t.page.waitForEvent('download',
		{ timeout: 10000 }), t.page.click('#trips-csv')]);
	const csv = fs.readFileSync(await dl.path(), 'utf8').trim().split(/\r\n/);
	check(csv.length - 1 >= all, `the CSV has every closed trade ` +
		`(${csv.length - 1} rows for ${all})`);
	// P&L cells carry their sign as a class.
	const pnl = await t.page.$$eval('#trades tbody tr .pnl', (c) =>
		c.slice(0, 3).map((e) => [e.textContent.trim(), e.className]));
	for (const [text, cls] of pnl) {
		const v = Number(text.replace(/[^0-9.\-−]/g, '').replace('−', '-'));
		if (v > 0)
			check(/\bpos\b/.test(cls), `a positive P&L cell has class pos ` +
				`("${text}": "${cls}")`);
		if (v < 0)
			check(/\bneg\b/.test(cls), `a negative P&L cell has class neg ` +
				`("${text}": "${cls}")`);
	}
});
