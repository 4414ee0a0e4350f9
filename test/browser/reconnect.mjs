// reconnect.mjs: the page rides out a restart of tf-serve. With --sync DIR
// it steps in time with the bats test:
//   it writes DIR/live      once the page is live on the first tf-serve
//                           (the test then kills tf-serve);
//   it writes DIR/reconnecting once #conn says so (the test then starts a
//                           new tf-serve on the same port, fed symbols the
//                           first one never had, --symbol NAME);
//   then it waits for #conn live again, the new stream's epoch, and data
//   of the new tf-serve on the page.
import { run, check, waitFor, signal, sleep, api, args } from './lib.mjs';

const connIs = (t, s, what, timeout) => waitFor(t, (x) => {
	const c = document.querySelector('#conn');
	return c && c.dataset.state === x;
}, s, what, timeout);

await run('reconnect', async (t) => {
	check(args.symbol, 'usage: reconnect.mjs URL --sync DIR --symbol NAME');
	await connIs(t, 'live', '#conn[data-state="live"] on the first tf-serve');
	await waitFor(t, () => window.tfDash.events > 0, null,
		'live events from the first tf-serve');
	const epoch1 = await t.page.evaluate(() => window.tfDash.epoch);
	check(epoch1, `tfDash.epoch is set (got ${epoch1})`);
	signal('live');

	await connIs(t, 'reconnecting', '#conn[data-state="reconnecting"] ' +
		'once tf-serve is gone');
	const text = await t.page.textContent('#conn');
	check(/reconnect/i.test(text), `#conn says it is reconnecting (got ` +
		`"${text}")`);
	signal('reconnecting');

	// Backoff 1, 2, 4 s: the new tf-serve starts within a second or two.
	await connIs(t, 'live', '#conn[data-state="live"] on the new tf-serve',
		20000);
	const snap = await api('/api/snapshot');
	check(snap.status === 200 && snap.body.epoch !== epoch1,
		`the new tf-serve has a new epoch (${epoch1} then ` +
		`${snap.body.epoch})`);
	await waitFor(t, (e) => window.tfDash.epoch === e, snap.body.epoch,
		`tfDash.epoch to become the new stream's ${snap.body.epoch}`);
	await waitFor(t, (s) => [...document.querySelectorAll('#symbol option')]
		.some((o) => o.value === s), args.symbol,
		`#symbol to offer ${args.symbol}, a symbol only the new tf-serve has`);
	const n1 = await t.page.evaluate(() => window.tfDash.events);
	await sleep(1000);
	const n2 = await t.page.evaluate(() => window.tfDash.events);
	check(n2 > n1, `live events flow from the new tf-serve (tfDash.events ` +
		`${n1} then ${n2} a second later)`);
	const states = await t.page.evaluate(() => window.__tf.conn);
	check(!states.includes('offline'), `#conn never went offline while ` +
		`retrying (states: ${states})`);
});
