// util.js: small helpers shared by the dashboard's modules: building DOM
// nodes (data always as text, never markup), number and time formatting.

import { get as setting } from './settings.js';
import { nf, isNum } from './num.js';

// The numbers' formats live in num.js (boot.js uses them before any
// other module is loaded); the page imports them from here.
export {
	isNum, priceDecimals, fmtPrice, fmtNum, fmtCount, fmtMoney, fmtSigned, fmtPnl,
	fmtPct, fmtRate, fmtQty,
} from './num.js';

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

// Seconds as "2d 3h", "3h 4m", "4m 5s" or "5s".
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

// Free text from the engine (an alert's message): its numbers get the
// page's thousands separators. Only numbers that stand alone and have a
// fraction or five digits or more are touched, so years, times, dates,
// versions, addresses and identifiers stay as written.
const NUM_IN_TEXT = /(^|[\s(\[=,;:$])([-+−]?)(\d+)(\.\d+)?(?=$|[\s)\],;:%!?]|\.(?!\d))/g;
export function fmtText(s) {
	if (typeof s !== 'string' || s.length > 10000)
		return s;
	return s.replace(NUM_IN_TEXT, (all, pre, sign, int, frac) => {
		if (!frac && int.length < 5)
			return all;
		return pre + sign + int.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (frac || '');
	});
}

// ---- times: UTC or local, with the date whenever it is not today -------

const pad = (n) => (n < 10 ? '0' : '') + n;

// [year, month, day, hours, minutes, seconds] of ms in the chosen zone.
function parts(ms) {
	const d = new Date(ms);
	if (setting('tz') === 'local')
		return [d.getFullYear(), d.getMonth() + 1, d.getDate(),
			d.getHours(), d.getMinutes(), d.getSeconds()];
	return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(),
		d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
}

const dayOf = (p) => `${p[0]}-${pad(p[1])}-${pad(p[2])}`;

// The name of the zone times are shown in.
export const tzName = () => (setting('tz') === 'local' ? 'local time' : 'UTC');

// The day (YYYY-MM-DD) of ms in the chosen zone.
export const fmtDay = (ms) => (isNum(ms) ? dayOf(parts(ms)) : '—');

// "14:03:22" today, "2025-11-20 14:03:22" any other day (in the chosen
// zone: UTC or local).
export function fmtTime(ms) {
	if (!isNum(ms))
		return '—';
	const p = parts(ms);
	const t = `${pad(p[3])}:${pad(p[4])}:${pad(p[5])}`;
	return dayOf(p) === dayOf(parts(Date.now())) ? t : `${dayOf(p)} ${t}`;
}

// Always with the date and the zone: for titles and tooltips.
export function fmtDateTime(ms) {
	if (!isNum(ms))
		return '—';
	const p = parts(ms);
	return `${dayOf(p)} ${pad(p[3])}:${pad(p[4])}:${pad(p[5])} ` +
		(setting('tz') === 'local' ? 'local' : 'UTC');
}

// The same for the charts' axes, given seconds and what the tick marks.
export function fmtAxis(sec, kind) {
	const p = parts(sec * 1000);
	switch (kind) {
	case 'year':
		return String(p[0]);
	case 'month':
		return `${p[0]}-${pad(p[1])}`;
	case 'day':
		return `${pad(p[1])}-${pad(p[2])}`;
	case 'seconds':
		return `${pad(p[3])}:${pad(p[4])}:${pad(p[5])}`;
	default:
		return `${pad(p[3])}:${pad(p[4])}`;
	}
}

// A signed value's class: pos, neg or none.
export const signClass = (x) => (isNum(x) && x > 0 ? 'pos' : isNum(x) && x < 0 ? 'neg' : '');

export const str = (x) => (x === null || x === undefined ? '' : String(x));

// ---- notes of empty panels ---------------------------------------------------

// What an empty panel's note (.empty-note, .chart-empty) says: "Waiting
// for data" while the server has had no event (body[data-has-data="0"]),
// else its data-nomatch text when its data-state is "nomatch" (a filter
// hides everything), else its data-empty text ("No fills yet").
export function drawNote(el) {
	if (!el)
		return;
	const why = document.body.dataset.hasData !== '1' ? 'Waiting for data' :
		el.dataset.state === 'nomatch' && el.dataset.nomatch ? el.dataset.nomatch :
		el.dataset.empty || 'Nothing yet';
	setText(el, why);
}

// ---- lists -------------------------------------------------------------------

// Rows shown at most by any list of the page.
export const ROWS = 200;

// A table body or list that shows a List's newest items, newest first,
// adding only the new ones each frame.
export class ListView {
	constructor(container, row, accept) {
		this.el = container;
		this.row = row;			// item -> element
		this.accept = accept || null;	// item -> show it?
		this.version = -1;
		this.added = 0;
	}
	rebuild(list) {
		const out = [];
		const a = list.items;
		for (let i = a.length - 1; i >= 0 && out.length < ROWS; i--)
			if (!this.accept || this.accept(a[i]))
				out.push(this.row(a[i]));
		this.el.replaceChildren(...out);
		this.version = list.version;
		this.added = list.added;
	}
	draw(list) {
		const fresh = list.added - this.added;
		if (list.version !== this.version || fresh > Math.min(ROWS, list.items.length)) {
			this.rebuild(list);
			return;
		}
		if (fresh <= 0)
			return;
		const a = list.items;
		const frag = document.createDocumentFragment();
		for (let i = a.length - 1; i >= a.length - fresh; i--)
			if (!this.accept || this.accept(a[i]))
				frag.append(this.row(a[i]));
		this.el.prepend(frag);
		while (this.el.childElementCount > ROWS)
			this.el.lastElementChild.remove();
		this.added = list.added;
	}
}

