// keyboard.mjs: the dashboard works without a mouse. Tab reaches the
// timeframe buttons, the alert filter and the bot buttons, each with a
// visible focus ring; Enter or Space on a timeframe button switches the
// chart; arrow keys change the alert filter; Enter on #bot-stop opens the
// confirmation dialog with the focus on Cancel (Escape closes it), Tab
// and Enter on its OK button stop the bot (tf-sim announces bot_stopped),
// and Enter on #bot-start starts it.
import { run, check, waitFor } from './lib.mjs';

// tabTo t SEL: presses Tab until SEL has the focus (at most 80 times).
async function tabTo(t, sel) {
	for (let i = 0; i < 80; i++) {
		await t.page.keyboard.press('Tab');
		if (await t.page.evaluate((s) => document.activeElement &&
			document.activeElement.matches(s), sel))
			return;
	}
	check(false, `Tab reaches ${sel} within 80 presses`);
}

// A focused control shows it: an outline or a box-shadow ring.
const ringed = (t) => t.page.evaluate(() => {
	const s = getComputedStyle(document.activeElement);
	return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) ||
		s.boxShadow !== 'none';
});

const botIs = (t, s, what) => waitFor(t, (x) => {
	const b = document.querySelector('#bot-state');
	return b && b.dataset.state === x;
}, s, what);

await run('keyboard', async (t) => {
	await botIs(t, 'running', '#bot-state running (tf-sim starts running)');

	await tabTo(t, '#timeframe button[data-tf="5m"]');
	check(await ringed(t), 'the focused timeframe button shows a focus ring');
	await t.page.keyboard.press('Enter');
	await waitFor(t, () => document.querySelector('#chart').dataset.tf ===
		'5m', null, 'Enter on the 5m button: #chart data-tf="5m"');
	await tabTo(t, '#timeframe button[data-tf="1h"]');
	await t.page.keyboard.press('Space');
	await waitFor(t, () => document.querySelector('#chart').dataset.tf ===
		'1h' && document.querySelector('#timeframe button[data-tf="1h"]')
		.getAttribute('aria-pressed') === 'true', null,
		'Space on the 1h button: #chart data-tf="1h", aria-pressed');

	await tabTo(t, '#alert-filter');
	check(await ringed(t), 'the focused alert filter shows a focus ring');
	await t.page.keyboard.press('ArrowDown');
	await waitFor(t, () => document.querySelector('#alert-filter').value ===
		'low', null, 'ArrowDown on the alert filter chooses "low"');

	await tabTo(t, '#bot-stop');
	check(await ringed(t), 'the focused #bot-stop shows a focus ring');
	await t.page.keyboard.press('Enter');
	await waitFor(t, () => document.querySelector('#confirm').open &&
		document.activeElement.id === 'confirm-cancel', null,
	'Enter on #bot-stop: the dialog open, the focus on Cancel');
	await t.page.keyboard.press('Escape');
	await waitFor(t, () => !document.querySelector('#confirm').open &&
		document.activeElement.id === 'bot-stop', null,
	'Escape closes the dialog and gives the focus back to #bot-stop');
	await t.page.keyboard.press('Enter');
	await waitFor(t, () => document.querySelector('#confirm').open, null,
		'Enter on #bot-stop opens the dialog again');
	await t.page.keyboard.press('Tab');
	check(await t.page.evaluate(() => document.activeElement.id) ===
		'confirm-ok', 'Tab in the dialog reaches its OK button');
	check(await ringed(t), 'the focused OK button shows a focus ring');
	await t.page.keyboard.press('Enter');
	await botIs(t, 'stopped', '#bot-state stopped after confirming the stop');
	await tabTo(t, '#bot-start');
	await t.page.keyboard.press('Enter');
	await botIs(t, 'running', '#bot-state running after Enter on #bot-start');
	check(t.errors.length === 0, `no console errors (${t.errors.join('; ')})`);
});
