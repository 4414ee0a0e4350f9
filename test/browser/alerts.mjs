// alerts.mjs: the alert center's filter: with "high" chosen in
// #alert-filter only high and critical alerts show, also for alerts that
// arrive afterwards; "all" shows every one again. Alerts are injected with
// POST /api/events, one of each priority.
import { run, check, waitFor, inject } from './lib.mjs';

const PRIO = ['low', 'medium', 'high', 'critical'];
const tag = `T${process.pid}x${Date.now()}`;
const alert = (p, n = 1) => ({ type: 'alert', priority: p,
	title: `title ${p} ${n}`, message: `${tag} ${p} ${n}`,
	source: 'tf-serve-browser.bats', symbol: 'BTC-USD' });

// shown t: every li.alert the user can see: {p: data-priority, m: its
// .alert-message text, t: its .alert-title text}.
const shown = (t) => t.page.evaluate(() =>
	[...document.querySelectorAll('#alerts li.alert')]
		.filter((e) => !e.hidden && e.checkVisibility())
		.map((e) => ({ p: e.dataset.priority,
			m: (e.querySelector('.alert-message') || {}).textContent,
			t: (e.querySelector('.alert-title') || {}).textContent })));

// visible t MSGS: waits until every message of MSGS shows.
const visible = (t, msgs, what) => waitFor(t, (ms) => {
	const seen = [...document.querySelectorAll('#alerts li.alert')]
		.filter((e) => !e.hidden && e.checkVisibility())
		.map((e) => (e.querySelector('.alert-message') || {}).textContent);
	return ms.every((m) => seen.includes(m));
}, msgs, what);

async function filter(t, value, want) {
	await t.page.selectOption('#alert-filter', value, { timeout: 5000 });
	// Some alert of a priority the filter hides may still be on its way
	// out: wait for the list to settle, then judge it.
	const ok = PRIO.slice(PRIO.indexOf(want));
	await waitFor(t, (o) => [...document.querySelectorAll('#alerts li.alert')]
		.filter((e) => !e.hidden && e.checkVisibility())
		.every((e) => o.includes(e.dataset.priority)), ok,
		`#alert-filter "${value}" to show only ${ok.join(', ')} alerts`);
}

await run('alerts', async (t) => {
	const opts = await t.page.$$eval('#alert-filter option',
		(o) => o.map((e) => e.value));
	check(JSON.stringify(opts) === '["all","low","medium","high","critical"]',
		`#alert-filter offers all, low, medium, high, critical (got ${opts})`);
	const v0 = await t.page.inputValue('#alert-filter');
	check(v0 === 'all', `#alert-filter starts at "all" (got "${v0}")`);

	await inject(PRIO.map((p) => alert(p)));
	await visible(t, PRIO.map((p) => `${tag} ${p} 1`),
		'the 4 injected alerts to show under "all"');
	for (const a of (await shown(t)).filter((a) => a.m.startsWith(tag))) {
		const p = a.m.split(' ')[1];
		check(a.p === p, `the ${p} alert has data-priority="${p}" (got "${a.p}")`);
		check(a.t === `title ${p} 1`, `the ${p} alert's .alert-title is ` +
			`its title (got "${a.t}")`);
	}

	await filter(t, 'high', 'high');
	let s = await shown(t);
	let mine = s.filter((a) => a.m.startsWith(tag)).map((a) => a.p).sort();
	check(JSON.stringify(mine) === '["critical","high"]', `under "high", ` +
		`of the injected alerts the high and critical ones show (got ${mine})`);

	// Alerts arriving while the filter is on obey it too.
	await inject([alert('low', 2), alert('medium', 2), alert('critical', 2)]);
	await visible(t, [`${tag} critical 2`], 'a new critical alert to show');
	s = await shown(t);
	const bad = s.filter((a) => a.p !== 'high' && a.p !== 'critical');
	check(bad.length === 0, `under "high" nothing below high shows (got ` +
		`${JSON.stringify(bad)})`);
	check(!s.some((a) => a.m === `${tag} low 2` || a.m === `${tag} medium 2`),
		'a low or medium alert arriving under "high" does not show');

	await filter(t, 'critical', 'critical');
	mine = (await shown(t)).filter((a) => a.m.startsWith(tag)).map((a) => a.m)
		.sort();
	check(JSON.stringify(mine) ===
		JSON.stringify([`${tag} critical 1`, `${tag} critical 2`]),
		`under "critical" only the critical alerts show (got ${mine})`);

	await filter(t, 'all', 'low');
	await visible(t, [...PRIO.map((p) => `${tag} ${p} 1`), `${tag} low 2`,
		`${tag} medium 2`, `${tag} critical 2`],
		'every injected alert to show again under "all"');
});
