// alertcenter.mjs: nothing important goes unseen. Against a tf-serve fed
// by nothing but this test's alerts:
//   - an alert already kept when the page loads counts in the tab's title
//     and gets its toast, once: dismissed, it gets none after a reload
//     (still counted until acknowledged); a live high or critical one gets
//     a toast (a high one's goes after a while, a critical one's stays
//     until dismissed);
//   - the title counts the high and critical alerts not acknowledged;
//     Acknowledge (toast or row) and "Acknowledge all" bring it down, and
//     the acknowledgements survive a reload;
//   - the count chips are labelled buttons that filter to one priority,
//     and a filter with no match says so;
//   - repeats of a low alert are grouped into one row with their count;
//   - numbers in an alert's text get the page's thousands separators;
//   - sound and browser notifications only after a click: no permission
//     asked on load, one asked by the Notify button; then a live critical
//     alert beeps and raises a notification while the page has no focus.
import { run, check, waitFor, inject, load, sleep } from './lib.mjs';

const tag = `A${process.pid}`;
const alert = (p, title, message, symbol = 'BTC-USD') => ({ type: 'alert',
	priority: p, title, message, source: tag, symbol, ts: Date.now() });

// Notification, as the page sees it: permission "default" until asked,
// then "granted"; every call recorded. The page has no focus (so that it
// notifies instead of relying on its toast).
function fakeNotifications() {
	window.__notes = { asked: 0, shown: [] };
	class FakeNotification {
		constructor(title, opts) {
			window.__notes.shown.push([title, opts && opts.body]);
		}
		static async requestPermission() {
			window.__notes.asked++;
			FakeNotification.permission = 'granted';
			return 'granted';
		}
	}
	FakeNotification.permission = 'default';
	window.Notification = FakeNotification;
	document.hasFocus = () => false;
}

const title = (t) => t.page.evaluate(() => document.title);
const rows = (t) => t.page.evaluate(() => [...document.querySelectorAll(
	'#alerts li.alert')].map((li) => ({
	p: li.dataset.priority, acked: li.dataset.acked,
	title: li.querySelector('.alert-title').textContent,
	count: li.querySelector('.alert-count').textContent,
	msg: li.querySelector('.alert-message').textContent })));
const toasts = (t) => t.page.evaluate(() => [...document.querySelectorAll(
	'#toasts .toast')].map((e) => [e.dataset.priority,
	e.querySelector('.toast-title').textContent]));

await run('alertcenter', async (t) => {
	// Kept before the page loads: counted, and a toast the user has not
	// seen yet.
	await inject([alert('critical', 'Old critical', 'from before')]);
	await load(t);
	await waitFor(t, () => document.title === '(1) tf dashboard', null,
		'the title counts the unacknowledged critical alert: "(1) tf dashboard"');
	await waitFor(t, () => [...document.querySelectorAll('#toasts .toast')]
		.map((e) => e.querySelector('.toast-title').textContent).join() ===
		'Old critical', null, 'a toast for the critical alert from before ' +
		'the page loaded');
	await t.page.click('#toasts .toast .toast-close', { timeout: 5000 });
	await waitFor(t, () => !document.querySelector('#toasts .toast'), null,
		'the toast dismissed');
	// Dismissed is not acknowledged: counted after a reload, no toast.
	await load(t);
	await waitFor(t, () => document.querySelectorAll('#alerts li.alert')
		.length === 1 && document.title === '(1) tf dashboard', null,
	'after a reload the alert is listed and still counted');
	check((await toasts(t)).length === 0, 'a toast shown once is not ' +
		'shown again after a reload');
	const asked = await t.page.evaluate(() => window.__notes.asked);
	check(asked === 0, `no notification permission asked on load (${asked})`);

	// Chips: labelled buttons.
	const chips = await t.page.$$eval('.counts .count', (b) => b.map((e) =>
		[e.tagName, e.dataset.priority, e.getAttribute('aria-label'),
			e.getAttribute('aria-pressed')]));
	check(chips.length === 4 && chips.every(([tn, p, l, a]) => tn === 'BUTTON' &&
		l && l.includes(p) && a === 'false'), `four count chips, buttons ` +
		`labelled with their priority (got ${JSON.stringify(chips)})`);

	// Sound and notifications are turned on by a click.
	await t.page.click('#sound', { timeout: 5000 });
	check(await t.page.getAttribute('#sound', 'aria-pressed') === 'true',
		'#sound pressed after a click');
	await t.page.click('#notify', { timeout: 5000 });
	await waitFor(t, () => window.__notes.asked === 1 && document
		.querySelector('#notify').getAttribute('aria-pressed') === 'true',
	null, 'one permission request after clicking #notify, and #notify on');

	// Live ones: low repeats, then a high and a critical.
	const lows = [];
	for (let i = 0; i < 5; i++)
		lows.push(alert('low', 'Pattern', `double_bottom ${i}`, 'ETH-USD'));
	await inject(lows);
	await inject([alert('high', 'Big move', 'BTC-USD rose to 65000.5, ' +
		'volume 1234567 in 10 steps'),
	alert('critical', 'Drawdown', 'equity 98765.43 below the limit')]);
	await waitFor(t, () => document.querySelectorAll('#toasts .toast')
		.length === 2, null, 'two toasts: the high and the critical alert');
	await waitFor(t, () => document.title === '(3) tf dashboard', null,
		'the title counts 3 unacknowledged high or critical alerts');
	const r = await rows(t);
	const grouped = r.filter((x) => x.title === 'Pattern');
	check(grouped.length === 1 && grouped[0].count === '×5' &&
		grouped[0].msg === 'double_bottom 4', `the 5 low repeats are one ` +
		`row "×5" showing the latest (got ${JSON.stringify(grouped)})`);
	check(r[0].p === 'critical' && r[1].p === 'high', `newest first: the ` +
		`critical, then the high (got ${r.map((x) => x.p)})`);
	const big = r.find((x) => x.title === 'Big move');
	check(big.msg === 'BTC-USD rose to 65,000.5, volume 1,234,567 in 10 steps',
		`numbers in the alert's text are formatted (got "${big.msg}")`);
	const stats = await t.page.evaluate(() => window.tfDash.alerts);
	check(stats.beeps >= 2, `a beep for each live high or critical alert ` +
		`(got ${stats.beeps})`);
	const shown = await t.page.evaluate(() => window.__notes.shown);
	check(shown.length === 2 && shown.some(([ti]) => ti === 'critical: Drawdown'),
		`a notification per live high or critical alert (got ` +
		`${JSON.stringify(shown)})`);

	// Chips filter; a filter with no match says so.
	await t.page.click('.counts .count[data-priority="high"]');
	await waitFor(t, () => [...document.querySelectorAll('#alerts li.alert')]
		.every((li) => li.dataset.priority === 'high') &&
		document.querySelectorAll('#alerts li.alert').length === 1, null,
	'the "high" chip shows the high alert only');
	await t.page.click('.counts .count[data-priority="medium"]');
	await waitFor(t, () => {
		const n = document.querySelector('.p-alerts .empty-note');
		return document.querySelectorAll('#alerts li.alert').length === 0 &&
			n.checkVisibility() && n.textContent === 'No medium alert';
	}, null, 'the "medium" chip: no row, and the note "No medium alert"');
	await t.page.click('.counts .count[data-priority="medium"]');
	await waitFor(t, () => document.querySelectorAll('#alerts li.alert')
		.length === 4, null, 'the chip clicked again: every row back');

	// The high toast goes by itself; the critical one stays.
	await sleep(8500);
	const left = await toasts(t);
	check(left.length === 1 && left[0][0] === 'critical', `after 8 s only ` +
		`the critical toast is left (got ${JSON.stringify(left)})`);
	// Acknowledged from its toast.
	await t.page.click('#toasts .toast .toast-ack', { timeout: 5000 });
	await waitFor(t, () => document.title === '(2) tf dashboard' &&
		!document.querySelector('#toasts .toast'), null,
	'the toast\'s Acknowledge: toast gone, title "(2) tf dashboard"');
	// From its row.
	await t.page.click('#alerts li.alert[data-priority="high"] .ack');
	await waitFor(t, () => document.title === '(1) tf dashboard', null,
		'a row\'s Acknowledge: title "(1) tf dashboard"');
	await t.page.click('#ack-all');
	await waitFor(t, () => document.title === 'tf dashboard' && [...document
		.querySelectorAll('#alerts li.alert')].every((l) =>
		l.dataset.acked === '1'), null,
	'"Acknowledge all": the title without a count, every row acknowledged');
	// Remembered.
	await load(t);
	await waitFor(t, () => document.querySelectorAll('#alerts li.alert')
		.length === 4, null, 'the alerts again after a reload');
	check(await title(t) === 'tf dashboard', `acknowledgements survive a ` +
		`reload (title "${await title(t)}")`);
	check((await toasts(t)).length === 0, 'no toast again for acknowledged ' +
		'alerts after a reload');
	check(await t.page.getAttribute('#sound', 'aria-pressed') === 'true',
		'the sound setting survives a reload');
	check(t.errors.length === 0, `no console error (${t.errors.join('; ')})`);
}, { load: false, init: fakeNotifications });
