// util.js: small helpers shared by the dashboard's modules: building DOM
// nodes (data always as text, never markup), number and time formatting.

// h('td', {class: 'num'}, 'text', node, ...): an element whose string
// children become text nodes, so event data can never become markup.
export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	if (attrs) {
		for (const k in attrs) {
			const v = attrs[k];
			if (v === null || v === undefined || v === false)
				continue;
			if (k === 'class')
				el.className = v;
			else if (k === 'dataset')
				Object.assign(el.dataset, v);
			else
				el.setAttribute(k, v === true ? '' : String(v));
		}
	}
	for (const c of children) {
		if (c === null || c === undefined)
			continue;
		el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
	return el;
}

// Sets an element's text only when it changed (cheap to call every frame).
export function setText(el, text) {
	const s = String(text);
	if (el.textContent !== s)
		el.textContent = s;
}

export const isNum = (x) => typeof x === 'number' && Number.isFinite(x);

// Event time to epoch ms: a number is epoch ms, a string RFC 3339; null
// when neither (the caller decides what stands in).
export function tsMs(ts) {
	if (isNum(ts))
		return ts;
	if (typeof ts === 'string') {
		const n = Date.parse(ts);
		if (Number.isFinite(n))
			return n;
	}
	return null;
}

const fmtCache = new Map();
function nf(min, max) {
	const k = min * 16 + max;
	let f = fmtCache.get(k);
	if (!f) {
		f = new Intl.NumberFormat('en-US', {
			minimumFractionDigits: min, maximumFractionDigits: max,
		});
		fmtCache.set(k, f);
	}
	return f;
}

// Decimals a price needs: 2 from 10 up, one more per decade below (max 8).
export function priceDecimals(p) {
	if (!isNum(p) || p === 0)
		return 2;
	const a = Math.abs(p);
	if (a >= 10)
		return 2;
	return Math.min(8, 2 + Math.ceil(-Math.log10(a) + 1e-9) + 1);
}

export function fmtPrice(p, decimals) {
	if (!isNum(p))
		return '—';
	const d = decimals === undefined ? priceDecimals(p) : decimals;
	return nf(d, d).format(p);
}

export function fmtNum(x, min = 0, max = 2) {
	return isNum(x) ? nf(min, max).format(x) : '—';
}

export function fmtMoney(x) {
	return isNum(x) ? nf(2, 2).format(x) : '—';
}

export function fmtSigned(x, d = 2) {
	if (!isNum(x))
		return '—';
	return (x > 0 ? '+' : x < 0 ? '−' : '') + nf(d, d).format(Math.abs(x));
}

export function fmtPct(x, d = 2) {
	return isNum(x) ? fmtSigned(x, d) + '%' : '—';
}

export function fmtQty(x) {
	if (!isNum(x))
		return '—';
	return nf(0, Math.abs(x) >= 1000 ? 2 : 8).format(x);
}

export function fmtBytes(b) {
	if (!isNum(b))
		return '—';
	const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let i = 0;
	while (b >= 1024 && i < u.length - 1) {
		b /= 1024;
		i++;
	}
	return nf(0, i ? 1 : 0).format(b) + ' ' + u[i];
}

export function fmtDuration(s) {
	if (!isNum(s) || s < 0)
		return '—';
	s = Math.floor(s);
	const d = Math.floor(s / 86400), hh = Math.floor(s % 86400 / 3600);
	const mm = Math.floor(s % 3600 / 60), ss = s % 60;
	if (d)
		return `${d}d ${hh}h`;
	if (hh)
		return `${hh}h ${mm}m`;
	if (mm)
		return `${mm}m ${ss}s`;
	return `${ss}s`;
}

const pad = (n) => (n < 10 ? '0' : '') + n;

// Times are shown in UTC, like the chart's axis.
export function fmtTime(ms) {
	if (!isNum(ms))
		return '—';
	const d = new Date(ms);
	return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

export function fmtDateTime(ms) {
	if (!isNum(ms))
		return '—';
	const d = new Date(ms);
	return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${fmtTime(ms)} UTC`;
}

// A signed value's class: pos, neg or none.
export const signClass = (x) => (isNum(x) && x > 0 ? 'pos' : isNum(x) && x < 0 ? 'neg' : '');

export const str = (x) => (x === null || x === undefined ? '' : String(x));
