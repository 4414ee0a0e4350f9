// boot.js: asks tf-serve for /api/snapshot as soon as the page starts,
// while the chart library and the other modules are still loading, and
// opens the stream (resuming from the snapshot's seq) the moment it comes,
// so the handshake and the missed events overlap the first render; main.js
// takes both (an async module script runs this early).

import { getSnapshot, wsUrl } from './api.js';

let early = getSnapshot();
let socket = null;	// {ws, pos, messages} opened here, not yet taken

early.then((snap) => {
	const pos = { epoch: snap.epoch, seq: snap.seq };
	if (typeof pos.seq !== 'number' || pos.epoch === undefined || pos.epoch === null)
		return;	// main.js reports it
	try {
		const ws = new WebSocket(wsUrl(pos), 'tf.v1');
		const s = { ws, pos, messages: [] };
		// Held until the stream takes the socket; bounded like its queue.
		ws.onmessage = (ev) => {
			if (s.messages.length < 50000)
				s.messages.push(ev.data);
			else
				ws.close(4001, 'not taken');
		};
		socket = s;
	} catch (e) {
		/* the stream connects itself */
	}
}, () => {});	// whoever takes it handles the failure

// The snapshot asked for at start the first time, a fresh one after.
export function takeSnapshot() {
	const p = early;
	early = null;
	return p || getSnapshot();
}

// The socket opened at start for position pos ({epoch, seq}), with the
// messages it got so far, or null (none, or for another position). Taken
// once; the caller owns it afterwards.
export function takeSocket(pos) {
	const s = socket;
	socket = null;
	if (!s)
		return null;
	if (s.pos.epoch !== pos.epoch || s.pos.seq !== pos.seq) {
		s.ws.onmessage = null;
		s.ws.close(1000, 'unused');
		return null;
	}
	return s;
}
