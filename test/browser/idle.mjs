// idle.mjs: with the server's staleness off (tf-serve --stale 0), an idle
// feed still never looks live. Against a tf-serve fed by nothing, the page
// opened as /?stale=2 (its own limit, in seconds, when the server does
// not judge):
//   - one injected price makes it live; two seconds without another, the
//     pill reads "Stale · last event Ns ago" with a title saying the
//     server does not tell; the next event makes it live again;
//   - loaded again while the feed is idle, it goes from connecting to
//     stale without ever saying live (the welcome tells the age of the
//     last input).
import { run, check, waitFor, inject, sleep, args } from './lib.mjs';

const connIs = (t, s, what, timeout) => waitFor(t, (x) =>
	document.querySelector('#conn').dataset.state === x, s, what, timeout);

const price = (p) => ({ type: 'price_update', symbol: 'IDLE-USD', price: p,
	ts: Date.now() });

await run('idle', async (t) => {
	const url = new URL(args.url);
	url.searchParams.set('stale', '2');
	await t.page.goto(url.href, { waitUntil: 'load' });
	await connIs(t, 'waiting', '#conn "waiting" on a server without data');
	await inject([price(10)]);
	await connIs(t, 'live', '#conn live once an event came');
	await connIs(t, 'stale', '#conn stale after 2 s without an event ' +
		'(?stale=2; the server\'s --stale is 0)', 6000);
	const s = (await t.page.textContent('#conn')).trim();
	check(/^Stale · last event \d+s ago$/.test(s), `#conn reads "Stale · ` +
		`last event Ns ago" (got "${s}")`);
	const title = await t.page.getAttribute('#conn', 'title');
	check(/does not tell/.test(title), `its title says the server does ` +
		`not tell (got "${title}")`);
	await inject([price(11)]);
	await connIs(t, 'live', '#conn live again with the next event');

	// Idle again, then loaded anew: never live on the way.
	await sleep(2500);
	await t.page.goto(url.href, { waitUntil: 'load' });
	await connIs(t, 'stale', '#conn stale after a reload on an idle feed');
	await sleep(300);
	const hist = await t.page.evaluate(() => window.__tf.conn);
	check(!hist.includes('live'), `never "live" after the reload (states: ` +
		`${hist})`);
	check(t.errors.length === 0, `no console error (${t.errors.join('; ')})`);
}, { load: false });
