// control.mjs: the bot buttons close the loop: #bot-stop POSTs
// /api/control/stop (202), tf-serve writes the control line, tf-sim (reading
// it through a FIFO) stops and announces bot_stopped, and #bot-state shows
// "stopped"; #bot-start brings it back to "running". A button is disabled
// while its request runs, and a failed request shows in #control-error.
// The bats test checks tf-serve's stdout.
import { run, check, waitFor, sleep } from './lib.mjs';

const botIs = (t, s, what, timeout) => waitFor(t, (x) => {
	const b = document.querySelector('#bot-state');
	return b && b.dataset.state === x;
}, s, what, timeout);

// press t ID ACTION: clicks #ID, checks the POST it makes and its 202.
async function press(t, id, action) {
	const [resp] = await Promise.all([
		t.page.waitForResponse((r) => r.url().includes(`/api/control/${action}`),
			{ timeout: 5000 }),
		t.page.click(`#${id}`, { timeout: 5000 }),
	]);
	const req = resp.request();
	check(req.method() === 'POST', `#${id} POSTs /api/control/${action} ` +
		`(got ${req.method()})`);
	check(resp.status() === 202, `POST /api/control/${action}: 202 ` +
		`(got ${resp.status()})`);
	const body = await resp.json();
	check(body.ok === true && body.action === action,
		`202 {"ok":true,"action":"${action}"} (got ${JSON.stringify(body)})`);
}

await run('control', async (t) => {
	await botIs(t, 'running', '#bot-state[data-state="running"] (tf-sim ' +
		'starts running)');
	await press(t, 'bot-stop', 'stop');
	await botIs(t, 'stopped', '#bot-state[data-state="stopped"] after ' +
		'#bot-stop: tf-sim announces bot_stopped');
	const text = await t.page.textContent('#bot-state');
	check(/stop/i.test(text), `#bot-state says stopped (got "${text}")`);

	// A slow request: the button stays disabled until it is answered.
	await t.page.route('**/api/control/start', async (r) => {
		await sleep(700);
		await r.continue();
	});
	const done = press(t, 'bot-start', 'start');
	await waitFor(t, () => document.querySelector('#bot-start').disabled,
		null, '#bot-start to be disabled while its request runs', 2000);
	await done;
	await botIs(t, 'running', '#bot-state[data-state="running"] after ' +
		'#bot-start');
	await waitFor(t, () => !document.querySelector('#bot-start').disabled,
		null, '#bot-start enabled again once answered', 3000);
	await t.page.unroute('**/api/control/start');

	// A failing request shows in #control-error.
	const before = (await t.page.textContent('#control-error') || '').trim();
	check(before === '' || !(await t.page.isVisible('#control-error')),
		`#control-error is empty before any failure (got "${before}")`);
	await t.page.route('**/api/control/restart', (r) => r.fulfill({
		status: 503, contentType: 'application/json',
		body: '{"error":"shutting down"}' }));
	await t.page.click('#bot-restart', { timeout: 5000 });
	await waitFor(t, () => {
		const e = document.querySelector('#control-error');
		return e && e.textContent.trim() !== '' && !e.hidden &&
			e.checkVisibility();
	}, null, '#control-error to show the failure of a 503 answer');
});
