// api.js: the REST side of tf-serve. The token comes from the page's own
// URL (?token=T) and goes on every request as "Authorization: Bearer T".

const token = new URLSearchParams(location.search).get('token') || '';

export class ApiError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

// The data of an answer {status, ok, statusText, data}, or an ApiError.
function check(r) {
	const data = r.data;
	if (!r.ok) {
		const why = data && typeof data.error === 'string' ? data.error :
			r.statusText || 'request failed';
		throw new ApiError(r.status, `${r.status} ${why}`);
	}
	if (data === null || typeof data !== 'object')
		throw new ApiError(r.status, 'not a JSON object');
	return data;
}

async function request(method, path, body) {
	const headers = { Accept: 'application/json' };
	if (token)
		headers.Authorization = 'Bearer ' + token;
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	let res;
	try {
		res = await fetch(path, {
			method, headers, cache: 'no-store',
			body: body === undefined ? undefined : JSON.stringify(body),
		});
	} catch (e) {
		throw new ApiError(0, 'server unreachable');
	}
	let data = null;
	try {
		data = await res.json();
	} catch (e) {
		data = null;
	}
	return check({ status: res.status, ok: res.ok, statusText: res.statusText, data });
}

export const getSnapshot = () => request('GET', '/api/snapshot');

// boot.js's early work (a classic script: window.tfBoot). Should the
// modules ever run first, the empty one left here tells it to do nothing.
function boot() {
	if (!window.tfBoot)
		window.tfBoot = { snapshot: null, socket: null };
	return window.tfBoot;
}

// The snapshot boot.js asked for at start the first time, a fresh one
// after.
export function takeSnapshot() {
	const b = boot();
	const p = b.snapshot;
	b.snapshot = null;
	if (!p)
		return getSnapshot();
	return p.then(check, () => {
		throw new ApiError(0, 'server unreachable');
	});
}

// The socket boot.js opened and resumed from position pos ({epoch, seq}:
// the snapshot's), with the messages it got so far, or null (none, or for
// another position). Taken once; the caller owns it afterwards.
export function takeSocket(pos) {
	const b = boot();
	const s = b.socket;
	b.socket = null;
	if (!s)
		return null;
	s.taken = true;	// boot.js keeps no more of its messages
	if (s.pos.epoch !== pos.epoch || s.pos.seq !== pos.seq) {
		s.ws.close(1000, 'unused');
		return null;
	}
	return s;
}

export function getCandles(symbol, tf, to) {
	const q = new URLSearchParams({ symbol, tf });
	if (to)
		q.set('to', String(to));
	return request('GET', '/api/candles?' + q);
}

export const getSystem = () => request('GET', '/api/system');

// Positions, round trips and profit as the server derived them from the
// fills, and the metrics over every round trip.
export const getTrading = () => request('GET', '/api/trading');
export const getMetrics = () => request('GET', '/api/metrics');

export const postControl = (action) =>
	request('POST', '/api/control/' + encodeURIComponent(action), {});

// The WebSocket's address, with the token as ?token= (a browser cannot
// set headers on a WebSocket; boot.js makes the same).
// The stream's URL; pos {epoch, seq} asks the server to resume from there
// as the connection opens, before any live event can go out (tf(7)).
export function wsUrl(pos) {
	const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
	const q = new URLSearchParams();
	if (token)
		q.set('token', token);
	if (pos) {
		q.set('resume', String(pos.seq));
		q.set('epoch', pos.epoch);
	}
	const qs = q.toString();
	return `${proto}//${location.host}/ws${qs ? '?' + qs : ''}`;
}
