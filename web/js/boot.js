// boot.js: a classic script at the top of the page's head (no imports: it
// runs before the rest of the page is even parsed) that starts the first
// screen's network work at once and in parallel: GET /api/snapshot and
// the tf.v1 stream. The stream is opened without a position; once the
// snapshot is in, its seq goes out as a resume message. The server holds
// a new tf.v1 client's events until its first message (250 ms at most,
// tf(7)), so the stream brings exactly the events after the snapshot, in
// order, as if it had been opened with ?resume= after it. Until main.js's
// first frame with live events (tfBoot.tapeDone), the latest live price
// goes on the top bar's tape here (tape.js): the first live data on the
// screen waits neither for the page's modules nor for its first full
// drawing. It also loads main.js (the page has no other script), once
// that price is painted: see loadMain. main.js takes the snapshot and the
// stream over (api.js's takeSnapshot() and takeSocket(), once). The token
// and the stream's URL are api.js's rules again (no module is imported
// here).
'use strict';
(function () {
	if (window.tfBoot)
		return;	// ran already (it loads main.js itself)
	// Leaves this much of the server's 250 ms hold for the resume to
	// travel: a snapshot later than that after the stream's start gets
	// the stream main.js opens itself (with ?resume=).
	const RESUME_BY_MS = 230;
	const token = new URLSearchParams(location.search).get('token') || '';
	const headers = { Accept: 'application/json' };
	if (token)
		headers.Authorization = 'Bearer ' + token;
	const boot = { snapshot: null, socket: null, tapeDone: false };
	window.tfBoot = boot;
	// main.js and its modules load once the first live price is on the
	// tape: compiling and running them takes the main thread for tens of
	// ms on a cold load (more on a busy machine), and the socket's open
	// and first message, the tape's frame and its paint would wait behind
	// them (a <script type=module> in the head runs them as soon as the
	// page is parsed). A stream without a price must not hold the page
	// up: main.js loads anyway MAIN_WAIT_MS after the resume went out,
	// at once when the snapshot or the socket failed, and at most
	// MAIN_CAP_MS after this script ran, whatever happens.
	const MAIN_WAIT_MS = 100;
	const MAIN_CAP_MS = 1000;
	let mainAsked = false;
	function loadMain() {
		if (mainAsked)
			return;
		mainAsked = true;
		const go = () => import('/js/main.js').catch((e) =>
			console.error('tf: main.js did not load:', e));
		if (document.readyState === 'loading')
			document.addEventListener('DOMContentLoaded', go);	// its DOM
		else
			go();
	}
	// window.tfDash is main.js's; firstEventAt may be set here first.
	if (!window.tfDash)
		window.tfDash = { firstEventAt: null };

	// The answer as api.js reads it: {status, ok, statusText, data}.
	boot.snapshot = fetch('/api/snapshot', { headers, cache: 'no-store',
		priority: 'high' })
		.then((res) => res.json().catch(() => null).then((data) => ({
			status: res.status, ok: res.ok, statusText: res.statusText, data,
		})));

	let ws = null;
	const q = new URLSearchParams();
	if (token)
		q.set('token', token);
	const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
	const openedAt = performance.now();
	try {
		ws = new WebSocket(`${proto}//${location.host}/ws${token ? '?' + q : ''}`,
			'tf.v1');
	} catch (e) {
		ws = null;	// the stream connects itself
	}
	if (!ws) {
		loadMain();
		return;
	}
	ws.addEventListener('close', loadMain);
	setTimeout(loadMain, MAIN_CAP_MS);
	const s = { ws, pos: null, messages: [], taken: false };
	let latest = null;	// the newest price line not on the tape yet
	let drawing = false;
	let tape = null;	// tape.js, once loaded
	// num.js too, at once: tape.js's import of it would ask for it only
	// once tape.js is in, a second round trip (one module either way).
	import('/js/num.js').catch(() => {});
	import('/js/tape.js').then((m) => {
		tape = m;
		if (latest)
			draw();
	}, () => {});

	function draw() {
		drawing = false;
		if (boot.tapeDone || !latest || !tape)
			return;	// main.js draws it from now on
		if (!tape.drawTape(latest)) {
			if (document.readyState === 'loading')
				document.addEventListener('DOMContentLoaded', later);
			return;
		}
		latest = null;
		if (window.tfDash.firstEventAt === null)
			window.tfDash.firstEventAt = performance.now();
		// After the frame that paints the tape.
		requestAnimationFrame(() => setTimeout(loadMain, 0));
	}
	function later() {
		if (!drawing) {
			drawing = true;
			requestAnimationFrame(draw);
		}
	}

	// Held until the stream takes the socket; bounded like its queue.
	// A listener, not onmessage: the tape goes on after that.
	ws.addEventListener('message', function look(ev) {
		if (boot.tapeDone) {
			ws.removeEventListener('message', look);
			return;
		}
		if (!s.taken) {
			if (s.messages.length >= 50000) {
				ws.close(4001, 'not taken');
				return;
			}
			s.messages.push(ev.data);
		}
		if (!s.pos || typeof ev.data !== 'string' ||
		    !ev.data.startsWith('{"type":"event"'))
			return;
		let m;
		try {
			m = JSON.parse(ev.data);
		} catch (e) {
			return;
		}
		if (m.seq > s.pos.seq && m.data && (m.data.type === 'price_update' ||
		    m.data.type === 'ticker_update')) {
			latest = m.data;
			later();
		}
	});
	boot.snapshot.then((r) => {
		const snap = r.data;
		if (!r.ok || !snap || typeof snap.seq !== 'number' ||
		    snap.epoch === undefined || snap.epoch === null ||
		    performance.now() - openedAt > RESUME_BY_MS ||
		    ws.readyState > WebSocket.OPEN) {
			ws.close(1000, 'unused');	// main.js reports, or connects
			loadMain();
			return;
		}
		s.pos = { epoch: snap.epoch, seq: snap.seq };
		const resume = () => {
			ws.send(JSON.stringify({ op: 'resume',
				epoch: String(snap.epoch), seq: snap.seq }));
			setTimeout(loadMain, MAIN_WAIT_MS);
		};
		if (ws.readyState === WebSocket.OPEN)
			resume();
		else
			ws.addEventListener('open', resume);
		boot.socket = s;
	}, () => {
		ws.close(1000, 'unused');	// whoever takes it handles the failure
		loadMain();
	});
})();
