// api.js: the REST side of tf-serve. The token comes from the page's own
// URL (?token=T) and goes on every request as "Authorization: Bearer T".

const token = new URLSearchParams(location.search).get('token') || '';

export class ApiError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
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
	if (!res.ok) {
		const why = data && typeof data.error === 'string' ? data.error :
			res.statusText || 'request failed';
		throw new ApiError(res.status, `${res.status} ${why}`);
	}
	if (data === null || typeof data !== 'object')
		throw new ApiError(res.status, 'not a JSON object');
	return data;
}

export const getSnapshot = () => request('GET', '/api/snapshot');

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
// set headers on a WebSocket).
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
