// control.mjs: the bot buttons close the loop: #bot-stop asks for
// confirmation in the page's dialog (Cancel sends nothing), then POSTs
// /api/control/stop (202), tf-serve writes the control line, tf-sim (reading
// it through a FIFO) stops and announces bot_stopped, and #bot-state shows
// "stopped"; #bot-start (no confirmation) brings it back to "running". The
// buttons follow the bot's state (Start disabled while it runs, Stop while
// it is stopped) and all are disabled while a request runs; a failed
// request shows in #control-error. The bats test checks tf-serve's stdout.
import { run, check, waitFor, sleep } from './lib.mjs';

const botIs = (t, s, what, timeout) => waitFor(t, (x) => {
	const b = document.querySelector('#bot-state');
	return b && b.dataset.state === x;
}, s, what, timeout);

const disabled = (t) => t.page.evaluate(() => Object.fromEntries(
	['start', 'stop', 'restart'].map((a) =>
		[a, document.querySelector(`#bot-${a}`).disabled])));

// press t ID ACTION [CONFIRM]: clicks #ID (and the dialog's OK when it
// asks), checks the POST it makes and its 202.
async function press(t, id, action, confirm) {
	const resp = t.page.waitForResponse((r) =>
		r.url().includes(`/api/control/${action}`), { timeout: 5000 });
	await t.page.click(`#${id}`, { timeout: 5000 });
	if (confirm) {
		await waitFor(t, () => document.querySelector('#confirm').open, null,
			`#${id} opens the confirmation dialog`, 3000);
		const text = await t.page.textContent('#confirm');
		check(new RegExp(action, 'i').test(text), `the dialog names the ` +
			`action "${action}" (got "${text.trim()}")`);
		await t.page.click('#confirm-ok', { timeout: 5000 });
	}
	const r = await resp;
	const req = r.request();
	check(req.method() === 'POST', `#${id} POSTs /api/control/${action} ` +
		`(got ${req.method()})`);
	check(r.status() === 202, `POST /api/control/${action}: 202 ` +
		`(got ${r.status()})`);
	const body = await r.json();
	check(body.ok === true && body.action === action,
		`202 {"ok":true,"action":"${action}"} (got ${JSON.stringify(body)})`);
}

await run('control', async (t) => {
	const posts = [];
	t.page.on('request', (r) => {
		if (r.url().includes('/api/control/'))
			posts.push(r.url());
	});
	await botIs(t, 'running', '#bot-state[data-state="running"] (tf-sim ' +
		'starts running)');
	await waitFor(t, () => document.querySelector('#bot-start').disabled &&
		!document.querySelector('#bot-stop').disabled &&
		!document.querySelector('#bot-restart').disabled, null,
	'while running: Start disabled, Stop and Restart enabled');

	// Cancel, and Escape, send nothing.
	await t.page.click('#bot-stop', { timeout: 5000 });
	await waitFor(t, () => document.querySelector('#confirm').open, null,
		'#bot-stop opens the confirmation dialog', 3000);
	await t.page.click('#confirm-cancel', { timeout: 5000 });
	await waitFor(t, () => !document.querySelector('#confirm').open, null,
		'Cancel closes the dialog', 3000);
	await t.page.click('#bot-restart', { timeout: 5000 });
	await waitFor(t, () => document.querySelector('#confirm').open, null,
		'#bot-restart opens the confirmation dialog', 3000);
	await t.page.keyboard.press('Escape');
	await waitFor(t, () => !document.querySelector('#confirm').open, null,
		'Escape closes the dialog', 3000);
	await sleep(300);
	check(posts.length === 0, `Cancel and Escape POST nothing (got ${posts})`);

	await press(t, 'bot-stop', 'stop', true);
	await botIs(t, 'stopped', '#bot-state[data-state="stopped"] after ' +
		'#bot-stop: tf-sim announces bot_stopped');
	const text = await t.page.textContent('#bot-state');
	check(/stop/i.test(text), `#bot-state says stopped (got "${text}")`);
	await waitFor(t, () => !document.querySelector('#bot-start').disabled &&
		document.querySelector('#bot-stop').disabled, null,
	'while stopped: Start enabled, Stop disabled');

	// A slow request: every button stays disabled until it is answered.
	await t.page.route('**/api/control/start', async (r) => {
		await sleep(1500);
		await r.continue();
	});
	const done = press(t, 'bot-start', 'start', false);
	await waitFor(t, () => ['start', 'stop', 'restart'].every((a) =>
		document.querySelector(`#bot-${a}`).disabled), null,
	'every bot button disabled while the start request runs', 1400);
	await done;
	await botIs(t, 'running', '#bot-state[data-state="running"] after ' +
		'#bot-start');
	await waitFor(t, () => document.querySelector('#bot-start').disabled &&
		!document.querySelector('#bot-stop').disabled, null,
	'once answered and running: Start disabled, Stop enabled', 3000);
	await t.page.unroute('**/api/control/start');

	// A failing request shows in #control-error.
	const before = (await t.page.textContent('#control-error') || '').trim();
	check(before === '' || !(await t.page.isVisible('#control-error')),
		`#control-error is empty before any failure (got "${before}")`);
	await t.page.route('**/api/control/restart', (r) => r.fulfill({
		status: 503, contentType: 'application/json',
		body: '{"error":"shutting down"}' }));
	await t.page.click('#bot-restart', { timeout: 5000 });
	await t.page.click('#confirm-ok', { timeout: 5000 });
	await waitFor(t, () => {
		const e = document.querySelector('#control-error');
		return e && /shutting down/.test(e.textContent) && !e.hidden &&
			e.checkVisibility();
	}, null, '#control-error to show the failure of a 503 answer');
	const d = await disabled(t);
	check(!d.stop && !d.restart, `the buttons work again after a failure ` +
		`(${JSON.stringify(d)})`);
});
