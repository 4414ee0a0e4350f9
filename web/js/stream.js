// stream.js: the tf.v1 WebSocket. Connects, resumes from the position the
// page's state holds (epoch + seq), hands envelopes and gaps to its owner,
// and reconnects with backoff 1, 2, 4, 8, 16 s (then 16) when it drops.

import { wsUrl, takeSocket } from './api.js';

const BACKOFF = [1, 2, 4, 8, 16];
const PING_IDLE_MS = 20000;	// send {"op":"ping"} after this much silence
const DEAD_MS = 45000;		// and give the connection up after this much

export class Stream {
	// handlers: position() -> {epoch, seq}; resuming() (the resume is
	// sent); event(envelope); gap(msg); resumed(msg); status(state,
	// text); welcome(msg); stale(msg)
	constructor(handlers) {
		this.on = handlers;
		this.ws = null;
		this.attempt = 0;	// failed attempts since the last success
		this.retryTimer = 0;
		this.countdownTimer = 0;
		this.watchTimer = 0;
		this.lastMsgAt = 0;
		this.everLive = false;
		this.stopped = true;
		this.state = '';
		window.addEventListener('offline', () => {
			this.status('offline', 'Offline');
			if (this.ws)
				this.ws.close();
		});
		window.addEventListener('online', () => {
			if (!this.stopped && !this.ws) {
				this.attempt = 0;
				this.connectNow();
			}
		});
	}

	status(state, text) {
		this.state = state;
		this.on.status(state, text);
	}

	// Opens the connection (the owner has a position to resume from).
	start() {
		this.stopped = false;
		this.connectNow();
	}

	// Drops the connection and connects again at once (same position).
	restart() {
		if (this.ws) {
			const ws = this.ws;
			this.detach();
			ws.close(1000, 'resync');
		}
		this.attempt = 0;
		this.connectNow();
	}

	// Closes for good, and schedules nothing.
	stop() {
		this.stopped = true;
		this.clearTimers();
		if (this.ws) {
			const ws = this.ws;
			this.detach();
			ws.close(1000, 'bye');
		}
	}

	clearTimers() {
		clearTimeout(this.retryTimer);
		clearInterval(this.countdownTimer);
		clearInterval(this.watchTimer);
		this.retryTimer = this.countdownTimer = this.watchTimer = 0;
	}

	detach() {
		const ws = this.ws;
		if (!ws)
			return;
		ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
		this.ws = null;
		clearInterval(this.watchTimer);
		this.watchTimer = 0;
	}

	connectNow() {
		this.clearTimers();
		if (this.stopped)
			return;
		if (navigator.onLine === false) {
			this.status('offline', 'Offline');
			return;
		}
		if (this.state !== 'reconnecting' && !this.everLive)
			this.status('connecting', 'Connecting…');
		else
			this.status('reconnecting', 'Reconnecting…');
		let ws;
		const pos = this.on.position();
		// The socket boot.js opened for this position, if any: what it
		// got so far is replayed below, in order, after its open.
		const early = takeSocket(pos);
		try {
			ws = early ? early.ws : new WebSocket(wsUrl(pos), 'tf.v1');
		} catch (e) {
			this.scheduleRetry();
			return;
		}
		this.ws = ws;
		ws.onopen = () => {
			if (ws.protocol !== 'tf.v1') {
				// A server without the subprotocol cannot resume.
				ws.close(1002, 'tf.v1 required');
				return;
			}
			// The resume was asked on the URL: the missed events come
			// first, then "resumed" (or a gap), then live data.
			this.on.resuming();
			this.lastMsgAt = performance.now();
			this.watchTimer = setInterval(() => this.watch(), 5000);
		};
		ws.onmessage = (ev) => this.message(ev.data);
		ws.onerror = () => { /* onclose follows and decides */ };
		ws.onclose = () => {
			this.detach();
			this.scheduleRetry();
		};
		if (!early || ws.readyState === WebSocket.CONNECTING)
			return;
		// Already open (or gone): its open event has passed.
		if (ws.readyState !== WebSocket.OPEN) {
			ws.onclose();
			return;
		}
		ws.onopen();
		const held = early.messages;
		early.messages = [];	// boot.js's closures outlive them
		for (const text of held) {
			if (this.ws !== ws || ws.protocol !== 'tf.v1')
				break;	// closed while replaying, or refused
			this.message(text);
		}
	}

	watch() {
		const ws = this.ws;
		if (!ws || ws.readyState !== WebSocket.OPEN)
			return;
		const idle = performance.now() - this.lastMsgAt;
		if (idle > DEAD_MS) {
			this.detach();
			ws.close(4000, 'no answer');
			this.scheduleRetry();
		} else if (idle > PING_IDLE_MS) {
			ws.send('{"op":"ping"}');
		}
	}

	scheduleRetry() {
		if (this.stopped)
			return;
		if (navigator.onLine === false) {
			this.status('offline', 'Offline');
			return;
		}
		const delay = BACKOFF[Math.min(this.attempt, BACKOFF.length - 1)];
		this.attempt++;
		let left = delay;
		const say = () => this.status('reconnecting', `Reconnecting in ${left} s`);
		say();
		this.countdownTimer = setInterval(() => {
			left = Math.max(1, left - 1);
			say();
		}, 1000);
		this.retryTimer = setTimeout(() => this.connectNow(), delay * 1000);
	}

	message(text) {
		this.lastMsgAt = performance.now();
		let m;
		try {
			m = JSON.parse(text);
		} catch (e) {
			return;
		}
		if (!m || typeof m !== 'object')
			return;
		switch (m.type) {
		case 'event':
			this.on.event(m);
			break;
		case 'welcome':
			this.attempt = 0;
			this.everLive = true;
			// First what it says of the input's freshness, so that
			// the status never shows live for a stale server.
			this.on.welcome(m);
			this.status('live', 'Live');
			break;
		case 'gap':
			this.on.gap(m);
			break;
		case 'resumed':
			this.on.resumed(m);
			break;
		case 'stale':
			this.on.stale(m);
			break;
		default:
			break;	// heartbeat, subscribed, error: nothing to do
		}
	}
}
