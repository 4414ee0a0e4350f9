#!/usr/bin/env node
// client.js: a real WebSocket client (node `ws`) for tf's tests. Prints each
// text frame it receives as one line on stdout; what happens to the
// connection goes to stderr as "#..." lines. Always ends within --timeout.
//
//   node test/ws/client.js [options] URL
//
//   --protocol P          ask for subprotocol P (repeatable)
//   --header 'Name: v'    send a request header (repeatable)
//   --origin URL          send an Origin header
//   --ca FILE             trust FILE's certificate(s) for wss://
//   --send TEXT           send TEXT as one text frame once open (repeatable,
//                         in order)
//   --count N             stop after N frames
//   --until REGEX         stop after a frame matching REGEX
//   --timeout S           give up after S seconds (default 10): exit 124
//   --pause-reading       stop reading from the socket as soon as it opens,
//                         so TCP backs up into the server
//   --pause-after N       the same, after N frames
//   --resume-when FILE    start reading again once FILE exists
//   --resume-after K      tf.v1: after K events, disconnect, wait for
//                         --reconnect-when FILE (if given), reconnect and
//                         send {"op":"resume","epoch":E,"seq":S} for the
//                         last event seen; --count/--until then apply to
//                         the second connection
//   --reconnect-when FILE see --resume-after
//   --reconnect-delay S   wait S seconds more before reconnecting
//   --repeat N            connect and disconnect N times, one after the
//                         other (every other one without a close frame);
//                         prints "#done N"
//   --quiet               print no frames, only "#frames N" at the end
//
// stderr lines: "#open PROTOCOL" ("-" for none), "#close CODE REASON",
// "#http STATUS" (handshake refused), "#error MESSAGE", "#timeout",
// "#reconnect", "#frames N", "#binary LENGTH".
// Exit: 0 done (count/until reached, or closed by the peer when neither was
// asked), 1 closed before count/until or a connection error, 3 handshake
// refused with an HTTP status, 124 timeout, 2 usage.
'use strict';

const fs = require('fs');
const path = require('path');
const WebSocket = require(path.join(__dirname, '..', '..', 'node_modules', 'ws'));

function usage(msg) {
	process.stderr.write(`client.js: ${msg}\n`);
	process.exit(2);
}

const o = {
	protocols: [], headers: {}, origin: null, ca: null, send: [],
	count: 0, until: null, timeout: 10, pause: false, pauseAfter: 0,
	resumeWhen: null, resumeAfter: 0, reconnectWhen: null, reconnectDelay: 0, repeat: 0,
	quiet: false, url: null,
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
	const a = argv[i];
	const val = () => {
		if (i + 1 >= argv.length) usage(`missing argument for ${a}`);
		return argv[++i];
	};
	switch (a) {
	case '--protocol': o.protocols.push(val()); break;
	case '--header': {
		const h = val();
		const c = h.indexOf(':');
		if (c < 1) usage(`bad header '${h}'`);
		o.headers[h.slice(0, c).trim()] = h.slice(c + 1).trim();
		break;
	}
	case '--origin': o.origin = val(); break;
	case '--ca': o.ca = fs.readFileSync(val()); break;
	case '--send': o.send.push(val()); break;
	case '--count': o.count = Number(val()); break;
	case '--until': o.until = new RegExp(val()); break;
	case '--timeout': o.timeout = Number(val()); break;
	case '--pause-reading': o.pause = true; break;
	case '--pause-after': o.pauseAfter = Number(val()); break;
	case '--resume-when': o.resumeWhen = val(); break;
	case '--resume-after': o.resumeAfter = Number(val()); break;
	case '--reconnect-when': o.reconnectWhen = val(); break;
	case '--reconnect-delay': o.reconnectDelay = Number(val()); break;
	case '--repeat': o.repeat = Number(val()); break;
	case '--quiet': o.quiet = true; break;
	default:
		if (a.startsWith('-') || o.url) usage(`unexpected argument '${a}'`);
		o.url = a;
	}
}
if (!o.url) usage('no URL');

function note(s) {
	process.stderr.write(s + '\n');
}

let frames = 0;
let finished = false;
function finish(code) {
	if (finished) return;
	finished = true;
	if (o.quiet) note(`#frames ${frames}`);
	// stdout and stderr are synchronous for files and pipes on Linux.
	process.exit(code);
}

// Not unref'd: a paused socket alone does not keep node running.
setTimeout(() => {
	note('#timeout');
	finish(124);
}, o.timeout * 1000);

function options() {
	const opt = { headers: Object.assign({}, o.headers), maxPayload: 0 };
	if (o.origin) opt.origin = o.origin;
	if (o.ca) opt.ca = o.ca;
	opt.handshakeTimeout = o.timeout * 1000;
	return opt;
}

function whenExists(file, fn) {
	if (!file || fs.existsSync(file)) return fn();
	const t = setInterval(() => {
		if (fs.existsSync(file)) {
			clearInterval(t);
			fn();
		}
	}, 20);
}

function handshakeErrors(ws) {
	ws.on('unexpected-response', (req, res) => {
		note(`#http ${res.statusCode}`);
		res.resume();
		finish(3);
	});
	ws.on('error', (e) => {
		note(`#error ${e.message}`);
		finish(1);
	});
}

// connect: one connection. last is true for the connection whose frames
// count towards --count/--until.
function connect(extra, last, onEvent) {
	const ws = new WebSocket(o.url, o.protocols, options());
	handshakeErrors(ws);
	let wanted = false;
	ws.on('open', () => {
		note(`#open ${ws.protocol || '-'}`);
		for (const m of o.send) ws.send(m);
		for (const m of extra) ws.send(m);
		if (o.pause) {
			ws.pause();
			if (o.resumeWhen) whenExists(o.resumeWhen, () => ws.resume());
		}
	});
	ws.on('message', (data, isBinary) => {
		// A connection being left: what still arrives is never read.
		if (finished || wanted || ws.leaving) return;
		frames++;
		if (isBinary) {
			note(`#binary ${data.length}`);
		} else {
			const s = data.toString('utf8');
			if (!o.quiet) process.stdout.write(s + '\n');
			if (onEvent && onEvent(ws, s)) return;
			if (last && o.until && o.until.test(s)) wanted = true;
		}
		if (last && o.count && frames >= o.count) wanted = true;
		if (wanted) {
			ws.close(1000);
			// Do not wait long for the peer's half of the close.
			setTimeout(() => finish(0), 200).unref();
			ws.on('close', () => finish(0));
			return;
		}
		if (o.pauseAfter && frames === o.pauseAfter) {
			ws.pause();
			if (o.resumeWhen) whenExists(o.resumeWhen, () => ws.resume());
		}
	});
	ws.on('close', (code, reason) => {
		if (wanted) return;
		note(`#close ${code} ${reason.toString()}`.trimEnd());
		if (!last) return;
		finish(o.count || o.until ? 1 : 0);
	});
	return ws;
}

function resumeScript() {
	let epoch = null;
	let seq = 0;
	let events = 0;
	let done = false;
	connect([], false, (ws, s) => {
		if (done) return true;
		let m;
		try { m = JSON.parse(s); } catch (e) { return false; }
		if (m.type === 'welcome') epoch = m.epoch;
		if (m.type === 'event') {
			seq = m.seq;
			if (++events === o.resumeAfter) {
				done = true;
				ws.leaving = true;
				ws.on('close', () => whenExists(o.reconnectWhen, () => {
					setTimeout(() => {
						note('#reconnect');
						frames = 0;
						const r = JSON.stringify({ op: 'resume', epoch: epoch, seq: seq });
						connect([r], true, null);
					}, o.reconnectDelay * 1000);
				}));
				ws.close(1000);
				setTimeout(() => ws.terminate(), 500).unref();
			}
		}
		return done;
	});
}

function churn() {
	let n = 0;
	const one = () => {
		if (n === o.repeat) {
			note(`#done ${n}`);
			return finish(0);
		}
		const ws = new WebSocket(o.url, o.protocols, options());
		handshakeErrors(ws);
		ws.on('open', () => {
			for (const m of o.send) ws.send(m);
			if (n % 2) ws.terminate(); else ws.close(1000);
		});
		ws.on('close', () => {
			n++;
			setImmediate(one);
		});
	};
	one();
}

if (o.repeat) churn();
else if (o.resumeAfter) resumeScript();
else connect([], true, null);
