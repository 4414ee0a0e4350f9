// num.js: the page's number formats, one per kind of quantity, with no
// imports, so that boot.js can show the first live price with them before
// the page's other modules are loaded. util.js re-exports them.

export const isNum = (x) => typeof x === 'number' && Number.isFinite(x);

const fmtCache = new Map();
export function nf(min, max) {
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

// ---- numbers: one format per kind of quantity, everywhere ----------------
// Every number has thousands separators and a fixed number of decimals
// decided by its kind: money and P&L 2, percentages 2, prices by their
// size (priceDecimals), quantities 6 below 1,000 and 2 from there, counts
// none. A P&L always carries its sign (+, − or none for zero) and the
// element showing it the class pos or neg (signClass).

// Decimals a price needs: 2 from 10 up, one more per decade below (max 8).
export function priceDecimals(p) {
	if (!isNum(p) || p === 0)
		return 2;
	const a = Math.abs(p);
	if (a >= 10)
		return 2;
	return Math.min(8, 2 + Math.ceil(-Math.log10(a) + 1e-9) + 1);
}

// Prices formatted, per number of decimals: a chart formats the same
// axis labels again at every redraw, and Intl's format() costs most of
// a microsecond each time. Bounded: emptied when full.
const PRICES_KEPT = 4096;
const priceText = [];

export function fmtPrice(p, decimals) {
	if (!isNum(p))
		return '—';
	const d = decimals === undefined ? priceDecimals(p) : decimals;
	if (p === 0 || !(d >= 0 && d <= 20))
		return nf(d, d).format(p);	// -0 and 0 differ; odd decimals
	const m = priceText[d] || (priceText[d] = new Map());
	let s = m.get(p);
	if (s === undefined) {
		if (m.size >= PRICES_KEPT)
			m.clear();
		s = nf(d, d).format(p);
		m.set(p, s);
	}
	return s;
}

// fmtPrice(p)'s text without Intl, or null where it would take more care
// (p not above 0, exponent forms): the tape's first price uses it. A
// page's first Intl.NumberFormat loads ICU's number data, 25-60 ms on a
// fresh renderer of a busy 2-core machine, and the first live price would
// wait that long between its arrival and its frame. en-US as nf() has
// it: groups of three with ",", then "." and priceDecimals(p) digits,
// rounded half away from zero from the shortest decimal form of p, as
// ICU does (1.005 to 2 digits is 1.01); test/browser/times.mjs holds the
// two texts equal.
export function plainPrice(p) {
	if (!isNum(p) || !(p > 0))
		return null;
	const d = priceDecimals(p);
	const s = String(p);
	if (s.includes('e'))
		return null;
	const dot = s.indexOf('.');
	let int = dot < 0 ? s : s.slice(0, dot);
	let frac = dot < 0 ? '' : s.slice(dot + 1);
	if (frac.length > d) {
		const up = frac.charCodeAt(d) >= 53;	// '5' or more
		frac = frac.slice(0, d);
		if (up) {
			// One more in the last digit kept, carried leftwards.
			const digits = (int + frac).split('');
			let i = digits.length - 1;
			for (; i >= 0 && digits[i] === '9'; i--)
				digits[i] = '0';
			if (i < 0)
				digits.unshift('1');
			else
				digits[i] = String(Number(digits[i]) + 1);
			const all = digits.join('');
			int = all.slice(0, all.length - d);
			frac = all.slice(all.length - d);
		}
	}
	frac = frac.padEnd(d, '0');
	int = int.replace(/\B(?=(\d{3})+$)/g, ',');
	return d ? `${int}.${frac}` : int;
}

export function fmtNum(x, min = 0, max = 2) {
	return isNum(x) ? nf(min, max).format(x) : '—';
}

export const fmtCount = (x) => fmtNum(x, 0, 0);

export function fmtMoney(x) {
	return isNum(x) ? nf(2, 2).format(x) : '—';
}

export function fmtSigned(x, d = 2) {
	if (!isNum(x))
		return '—';
	// A value that rounds to zero shows no sign.
	const s = nf(d, d).format(Math.abs(x));
	if (!/[1-9]/.test(s))
		return s;
	return (x > 0 ? '+' : '−') + s;
}

// A P&L in the quote currency.
export const fmtPnl = (x) => fmtSigned(x, 2);

// A signed change in per cent (the value is already in per cent).
export function fmtPct(x, d = 2) {
	return isNum(x) ? fmtSigned(x, d) + '%' : '—';
}

// A share or rate (0.4571) as an unsigned percentage: "45.71%".
export function fmtRate(x) {
	return isNum(x) ? nf(2, 2).format(x * 100) + '%' : '—';
}

export function fmtQty(x) {
	if (!isNum(x))
		return '—';
	const d = Math.abs(x) >= 1000 ? 2 : 6;
	return nf(d, d).format(x);
}
