// resume.mjs: the page loses no event: its first live event is the one
// after its snapshot's seq, and when the network drops (#conn "offline")
// and comes back, it resumes where it was: every seq once, in order, no
// gap, on the same stream.
import { run, check, waitFor, sleep, args } from './lib.mjs';

await run('resume', async (t) => {
	const snapSeqs = [];
	t.page.on('response', async (r) => {
		if (new URL(r.url()).pathname === '/api/snapshot')
			snapSeqs.push((await r.json().catch(() => ({}))).seq);
	});
	// The snapshot of this load: reload with the listener on.
	await t.page.reload({ waitUntil: 'load', timeout: 10000 });
	await waitFor(t, () => document.body.dataset.ready === '1' &&
		document.querySelector('#conn').dataset.state === 'live' &&
		window.__tf.seqs.length >= 20, null,
		'the page ready, live, with 20 events');
	check(snapSeqs.length === 1 && Number.isInteger(snapSeqs[0]),
		`one GET /api/snapshot with a seq (got ${JSON.stringify(snapSeqs)})`);
	let seqs = await t.page.evaluate(() => window.__tf.seqs);
	check(seqs[0] === snapSeqs[0] + 1, `the first live event is the one ` +
		`after the snapshot's seq ${snapSeqs[0]} (got ${seqs[0]})`);
	const epoch = await t.page.evaluate(() => window.tfDash.epoch);

	await t.context.setOffline(true);
	await waitFor(t, () => document.querySelector('#conn').dataset.state ===
		'offline', null, '#conn[data-state="offline"] with the network down');
	await sleep(1500); // tf-serve goes on: ~75 events the page misses
	await t.context.setOffline(false);
	await waitFor(t, () => document.querySelector('#conn').dataset.state ===
		'live', null, '#conn[data-state="live"] with the network back');
	const back = (await t.page.evaluate(() => window.__tf.seqs)).length;
	await waitFor(t, (n) => window.__tf.seqs.length >= n + 20, back,
		'20 more events after coming back');

	// One read of both: events keep arriving.
	let ev;
	[seqs, ev] = await t.page.evaluate(() => [window.__tf.seqs.slice(),
		window.tfDash.events]);
	const bad = [];
	for (let i = 1; i < seqs.length; i++)
		if (seqs[i] !== seqs[i - 1] + 1)
			bad.push(`${seqs[i - 1]} then ${seqs[i]}`);
	check(bad.length === 0, `every seq once and in order across the ` +
		`drop (breaks: ${bad.slice(0, 5).join(', ')})`);
	const ctl = await t.page.evaluate(() => window.__tf.ctl);
	const gaps = ctl.filter((m) => m.type === 'gap');
	check(gaps.length === 0, `no gap (got ${JSON.stringify(gaps)})`);
	check(await t.page.evaluate(() => window.tfDash.epoch) === epoch,
		'the same stream (epoch) after the drop');
	check(ev === seqs.length, `tfDash.events counts each live event once ` +
		`(${ev}, received ${seqs.length})`);
});
