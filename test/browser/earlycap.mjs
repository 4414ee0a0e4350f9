// earlycap.mjs: boot.js holds the stream's messages for main.js, but not
// without end: when main.js is late (here held back by the test) and
// 50,000 messages have come, boot.js closes its socket (code 4001) with
// at most 50,000 kept; main.js, once it loads, connects again from the
// snapshot's position and the page ends live with the newest event.
// The messages boot.js dropped are not lost: the stream resumes from the
// snapshot (from tf-serve's ring, or with a gap and a fresh snapshot).
import { run, check, waitFor, inject, api, args } from './lib.mjs';

const CAP = 50000;

await run('earlycap', async (t) => {
	let release;
	const held = new Promise((r) => { release = r; });
	await t.page.route('**/js/main.js', async (route) => {
		await held;
		await route.continue();
	});
	// boot.js keeps its socket only when the snapshot came within its
	// 230 ms; on a busy machine it may not: load again, a few times.
	let holding = false;
	for (let i = 0; i < 5 && !holding; i++) {
		await t.page.goto(args.url, { waitUntil: 'domcontentloaded',
			timeout: 10000 });
		holding = await t.page.waitForFunction(() => window.tfBoot &&
			window.tfBoot.socket &&
			window.tfBoot.socket.ws.readyState === WebSocket.OPEN,
		null, { timeout: 2000, polling: 50 }).then(() => true, () => false);
	}
	check(holding, 'boot.js holding an open socket for main.js (5 loads)');
	// 60,000 events in POSTs of 10,000 (tf-serve's body limit is 1 MiB),
	// each once the page is within 15,000 of it (the test's tf-serve lets
	// a client lag 30,000): all come, no gap on the way.
	for (let i = 0; i < 60000; i += 10000) {
		const lines = [];
		for (let j = i; j < i + 10000; j++)
			lines.push({ type: 'heartbeat', n: j });
		await inject(lines);
		await waitFor(t, (n) => window.tfBoot.socket.messages.length >= n ||
			window.tfBoot.socket.ws.readyState !== WebSocket.OPEN,
		i - 5000, `boot.js to get ${i - 5000} messages`, 15000);
	}
	const last = (await api('/api/snapshot')).body.seq;
	check(Number.isInteger(last), `GET /api/snapshot has a seq (got ${last})`);
	const boot = await waitFor(t, () => {
		const s = window.tfBoot.socket;
		return s.ws.readyState >= WebSocket.CLOSING &&
			{ state: s.ws.readyState, held: s.messages.length };
	}, null, 'boot.js to close its socket, over its cap', 15000);
	check(boot.held === CAP, `boot.js kept ${CAP} messages, no more, and ` +
		`did not close before (kept ${boot.held})`);

	// The snapshot's position is out of tf-serve's ring of 30,000 by now:
	// main.js's stream gets a gap and a fresh snapshot, not 60,000 events.
	release();
	await waitFor(t, (n) => document.body.dataset.ready === '1' &&
		document.querySelector('#conn').dataset.state === 'live' &&
		window.tfDash.lastSeq >= n, last,
	`the page ready, live, and past the last injected event (seq ${last})`,
	15000);
	check(t.errors.length === 0, `no console or page error ` +
		`(${t.errors.join('; ')})`);
}, { load: false });
