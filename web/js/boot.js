// boot.js: a classic script (no imports: it runs the moment it arrives,
// while the page is still parsed and before the modules are compiled)
// that asks tf-serve for /api/snapshot and, once it comes, opens the
// stream resuming from its seq, so the network work of the first screen
// overlaps everything else. It leaves both in window.tfBoot; api.js's
// takeSnapshot() and takeSocket() hand them over, once. The token and the
// stream's URL are api.js's rules again (no module can be imported here).
'use strict';
(function () {
	if (window.tfBoot)
		return;	// the modules ran first and asked for themselves
	const token = new URLSearchParams(location.search).get('token') || '';
	const headers = { Accept: 'application/json' };
	if (token)
		headers.Authorization = 'Bearer ' + token;
	const boot = { snapshot: null, socket: null };
	window.tfBoot = boot;
	// The answer as api.js reads it: {status, ok, statusText, data}.
	boot.snapshot = fetch('/api/snapshot', { headers, cache: 'no-store' })
		.then((res) => res.json().catch(() => null).then((data) => ({
			status: res.status, ok: res.ok, statusText: res.statusText, data,
		})));
	boot.snapshot.then((r) => {
		const snap = r.data;
		if (!r.ok || !snap || typeof snap.seq !== 'number' ||
		    snap.epoch === undefined || snap.epoch === null)
			return;	// main.js reports it
		const q = new URLSearchParams();
		if (token)
			q.set('token', token);
		q.set('resume', String(snap.seq));
		q.set('epoch', snap.epoch);
		const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
		try {
			const ws = new WebSocket(`${proto}//${location.host}/ws?${q}`, 'tf.v1');
			const s = { ws, pos: { epoch: snap.epoch, seq: snap.seq }, messages: [] };
			// Held until the stream takes the socket; bounded like its
			// queue.
			ws.onmessage = (ev) => {
				if (s.messages.length < 50000)
					s.messages.push(ev.data);
				else
					ws.close(4001, 'not taken');
			};
			boot.socket = s;
		} catch (e) {
			/* the stream connects itself */
		}
	}, () => {});	// whoever takes it handles the failure
})();
