// trading.js: the panels of what the server derived from the fills
// (lib/dash.c, GET /api/trading): open positions with their age and live
// unrealized P&L, the closed round trips (sortable, filterable, exported
// as CSV) and the profit tables. The page computes no realized P&L, win
// rate or round trip: it shows the server's.

import {
	h, setText, isNum, tsMs, fmtPrice, priceDecimals, fmtMoney, fmtPnl, fmtPct, fmtQty,
	fmtCount, fmtTime, fmtDateTime, fmtDuration, fmtDay, signClass, str, drawNote, ROWS,
} from './util.js';
import { livePosition } from './state.js';

const $ = (id) => document.getElementById(id);

const numCell = (text, cls) => h('td', { class: 'num' + (cls ? ' ' + cls : '') }, text);
const pnlCell = (x, text) => h('td', { class: 'num pnl ' + signClass(x) }, text);
const sideCell = (side) => h('td', { class: 'side ' + (side === 'long' || side === 'buy' ? 'pos' :
	side === 'short' || side === 'sell' ? 'neg' : '') }, side);

// A price with the decimals of its symbol (its latest price decides), so
// that a column of one symbol's prices lines up.
function pxOf(state, sym) {
	const e = state.symbols.get(sym);
	const d = e && isNum(e.price) ? priceDecimals(e.price) : undefined;
	return (p) => fmtPrice(p, d);
}

// ---- open positions ---------------------------------------------------------

export class PositionsView {
	constructor() {
		this.tbody = $('positions').tBodies[0];
		this.rows = new Map();	// symbol -> {tr, cells}
		this.key = '';
	}

	// Draws the server's positions with the latest prices; cheap enough
	// to call on every price of a held symbol and once a second (age).
	draw(state) {
		const list = state.trading ? state.trading.positions : [];
		const key = list.map((p) => `${p.symbol}|${p.side}|${p.opened_ts}`).join('\n');
		if (key !== this.key) {
			this.key = key;
			this.rows.clear();
			this.tbody.replaceChildren(...list.map((p) => {
				const c = {
					qty: numCell(''), entry: numCell(''), last: numCell(''),
					upnl: numCell('', 'pnl'), upct: numCell('', 'pnl'),
					stop: numCell(''), age: numCell('', 'age'),
				};
				const tr = h('tr', { dataset: { symbol: str(p.symbol) } },
					h('th', { scope: 'row' }, str(p.symbol)), sideCell(str(p.side)),
					c.qty, c.entry, c.last, c.upnl, c.upct, c.stop, c.age);
				this.rows.set(p.symbol, { tr, c });
				return tr;
			}));
		}
		const now = Date.now() + state.clockSkew;
		let total = 0, some = false;
		for (const p of list) {
			const r = this.rows.get(p.symbol);
			if (!r)
				continue;
			const px = pxOf(state, p.symbol);
			const live = livePosition(p, state.symbols.get(p.symbol));
			setText(r.c.qty, fmtQty(p.quantity));
			setText(r.c.entry, px(p.avg_entry));
			setText(r.c.last, px(live.last));
			setText(r.c.upnl, fmtPnl(live.upnl));
			setText(r.c.upct, fmtPct(live.upct));
			for (const [el, v] of [[r.c.upnl, live.upnl], [r.c.upct, live.upct]]) {
				el.classList.toggle('pos', isNum(v) && v > 0);
				el.classList.toggle('neg', isNum(v) && v < 0);
			}
			setText(r.c.stop, isNum(p.stop) ? px(p.stop) : '—');
			const opened = tsMs(p.opened_ts);
			setText(r.c.age, opened === null ? '—' : fmtDuration((now - opened) / 1000));
			r.c.age.title = opened === null ? '' : 'opened ' + fmtDateTime(opened);
			if (isNum(live.upnl)) {
				total += live.upnl;
				some = true;
			}
		}
		const el = $('positions-total');
		setText(el, some ? `unrealized ${fmtPnl(total)}` : '');
		el.classList.toggle('pos', some && total > 0.005);
		el.classList.toggle('neg', some && total < -0.005);
		return list.length;
	}
}

// ---- closed round trips -------------------------------------------------------

const TEXT_KEYS = new Set(['symbol', 'side', 'order_ids']);

function sortValue(t, key) {
	const v = t[key];
	if (key === 'order_ids')
		return Array.isArray(v) ? v.map(str).join(' ') : '';
	if (TEXT_KEYS.has(key))
		return str(v);
	return isNum(v) ? v : tsMs(v) ?? -Infinity;
}

const tripKey = (t) => `${str(t.symbol)}|${str(t.side)}|${str(t.opened_ts)}|${str(t.closed_ts)}`;

// Makes parent's children the nodes, in order, moving only those out of
// place: new rows on top go in, those pushed past the end go out.
function place(parent, nodes) {
	let cur = parent.firstChild;
	for (const n of nodes) {
		if (n === cur) {
			cur = cur.nextSibling;
			continue;
		}
		parent.insertBefore(n, cur);
	}
	while (cur) {
		const next = cur.nextSibling;
		cur.remove();
		cur = next;
	}
}

export class TripsView {
	constructor(onChange) {
		this.table = $('trips');
		this.tbody = this.table.tBodies[0];
		this.sort = { key: 'closed_ts', dir: -1 };
		this.filter = { symbol: '', side: '' };
		this.key = null;
		this.shown = [];
		// The row of each trip drawn (by tripKey): a closed trip never
		// changes, so a redraw makes rows only for new trips and moves
		// the others (a new trip used to rebuild all 200 rows).
		this.made = new Map();
		this.day = '';
		this.onChange = onChange;
		for (const th of this.table.tHead.rows[0].cells) {
			const b = th.querySelector('button');
			if (!b)
				continue;
			b.addEventListener('click', () => {
				const k = th.dataset.key;
				this.sort = { key: k, dir: this.sort.key === k ? -this.sort.dir :
					TEXT_KEYS.has(k) ? 1 : -1 };
				this.key = null;
				onChange();
			});
		}
		$('trips-symbol').addEventListener('change', (ev) => {
			this.filter.symbol = ev.target.value;
			this.key = null;
			onChange();
		});
		$('trips-side').addEventListener('change', (ev) => {
			this.filter.side = ev.target.value;
			this.key = null;
			onChange();
		});
		$('trips-csv').addEventListener('click', () => this.download());
	}

	// The trips the filters let through, in the chosen order.
	rows(state) {
		const all = state.trading ? state.trading.round_trips : [];
		const f = this.filter;
		const out = all.filter((t) => (!f.symbol || t.symbol === f.symbol) &&
			(!f.side || t.side === f.side));
		const { key, dir } = this.sort;
		const text = TEXT_KEYS.has(key);
		out.sort((a, b) => {
			const x = sortValue(a, key), y = sortValue(b, key);
			const c = text ? String(x).localeCompare(String(y)) : x - y;
			// Ties keep the server's order (oldest first), whatever way.
			return c * dir || (sortValue(a, 'closed_ts') - sortValue(b, 'closed_ts'));
		});
		return out;
	}

	draw(state) {
		const all = state.trading ? state.trading.round_trips : [];
		const last = all[all.length - 1];
		const key = `${all.length}|${last ? `${last.closed_ts}|${last.pnl}` : ''}|${state.trading ? 1 : 0}`;
		if (key === this.key)
			return;
		this.key = key;
		this.drawSymbols(all);
		const rows = this.rows(state);
		this.shown = rows;	// the CSV has them all
		// A row's times carry their date unless today: a new day
		// makes them all again.
		const today = fmtDay(Date.now());
		if (today !== this.day) {
			this.day = today;
			this.made = new Map();
		}
		const made = new Map();
		const want = rows.slice(0, ROWS).map((t) => {
			let k = tripKey(t);
			for (let n = 2; made.has(k); n++)
				k = `${tripKey(t)}#${n}`;	// two trips alike
			const tr = this.made.get(k) || this.row(state, t);
			made.set(k, tr);
			return tr;
		});
		this.made = made;
		place(this.tbody, want);
		for (const th of this.table.tHead.rows[0].cells)
			if (th.dataset.key === this.sort.key)
				th.setAttribute('aria-sort', this.sort.dir > 0 ? 'ascending' : 'descending');
			else
				th.removeAttribute('aria-sort');
		const note = this.table.nextElementSibling;
		this.table.classList.toggle('is-empty', rows.length === 0);
		if (note) {
			note.dataset.state = all.length && !rows.length ? 'nomatch' : '';
			drawNote(note);
		}
		setText($('trips-shown'), !all.length ? '' : rows.length > ROWS ?
			`${fmtCount(ROWS)} rows of ${fmtCount(rows.length)} closed trades ` +
			`(${fmtCount(all.length)} kept); the CSV has all ${fmtCount(rows.length)}` :
			`${fmtCount(rows.length)} of ${fmtCount(all.length)} closed trades shown`);
	}

	// Every row made again (the time zone changed).
	redo(state) {
		this.key = null;
		this.made = new Map();
		this.draw(state);
	}

	drawSymbols(all) {
		const sel = $('trips-symbol');
		const syms = [...new Set(all.map((t) => str(t.symbol)))].sort();
		if (this.filter.symbol && !syms.includes(this.filter.symbol))
			syms.push(this.filter.symbol);
		const have = [...sel.options].slice(1).map((o) => o.value);
		if (have.join('\n') !== syms.join('\n')) {
			sel.replaceChildren(h('option', { value: '' }, 'All symbols'),
				...syms.map((s) => h('option', { value: s }, s)));
			sel.value = this.filter.symbol;
		}
	}

	row(state, t) {
		const px = pxOf(state, t.symbol);
		const ids = Array.isArray(t.order_ids) ? t.order_ids.map(str) : [];
		const closed = tsMs(t.closed_ts), opened = tsMs(t.opened_ts);
		return h('tr', null,
			h('td', { class: 'time', title: fmtDateTime(closed) }, fmtTime(closed)),
			h('th', { scope: 'row' }, str(t.symbol)),
			sideCell(str(t.side)),
			numCell(fmtQty(t.quantity)),
			numCell(px(t.entry_price)),
			numCell(px(t.exit_price)),
			numCell(isNum(t.duration_ms) ? fmtDuration(t.duration_ms / 1000) : '—'),
			pnlCell(t.pnl, fmtPnl(t.pnl)),
			pnlCell(t.pnl_pct, fmtPct(t.pnl_pct)),
			numCell(fmtMoney(t.fees)),
			h('td', { class: 'time', title: fmtDateTime(opened) }, fmtTime(opened)),
			h('td', { class: 'ids', title: ids.join(' ') }, ids.join(' ')));
	}

	// The trips shown (filters and order as on the screen) as a CSV file:
	// times in ISO 8601 UTC, numbers as the server sent them.
	csv() {
		const cols = ['symbol', 'side', 'quantity', 'entry_price', 'exit_price',
			'opened', 'closed', 'duration_s', 'pnl', 'pnl_pct', 'fees', 'order_ids'];
		const iso = (x) => {
			const ms = tsMs(x);
			return ms === null ? '' : new Date(ms).toISOString();
		};
		const num = (x) => (isNum(x) ? String(x) : '');
		// Text a spreadsheet would run as a formula is quoted as text.
		const text = (x) => {
			const s = str(x);
			return /^[=+\-@\t\r]/.test(s) ? "'" + s : s;
		};
		const cell = (v) => (/[",\r\n]/.test(v) ? '"' + v.replace(/"/g, '""') + '"' : v);
		const lines = [cols.join(',')];
		for (const t of this.shown)
			lines.push([
				text(t.symbol), text(t.side), num(t.quantity), num(t.entry_price),
				num(t.exit_price), iso(t.opened_ts), iso(t.closed_ts),
				isNum(t.duration_ms) ? String(t.duration_ms / 1000) : '',
				num(t.pnl), num(t.pnl_pct), num(t.fees),
				(Array.isArray(t.order_ids) ? t.order_ids.map(text) : []).join(' '),
			].map(cell).join(','));
		return lines.join('\r\n') + '\r\n';
	}

	download() {
		const blob = new Blob([this.csv()], { type: 'text/csv;charset=utf-8' });
		const url = URL.createObjectURL(blob);
		const d = new Date();
		const p = (n) => String(n).padStart(2, '0');
		const a = h('a', {
			href: url,
			download: `tf-closed-trades-${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}` +
				`${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}` +
				`${p(d.getUTCSeconds())}.csv`,
		});
		document.body.append(a);
		a.click();
		a.remove();
		setTimeout(() => URL.revokeObjectURL(url), 10000);
	}
}

// ---- profit tables ---------------------------------------------------------------

export function drawProfitTables(state) {
	const p = state.trading ? state.trading.profit : { daily: [], by_symbol: [] };
	const bySym = p.by_symbol.slice().sort((a, b) => (isNum(b.pnl) ? b.pnl : 0) - (isNum(a.pnl) ? a.pnl : 0) ||
		str(a.symbol).localeCompare(str(b.symbol)));
	const t1 = $('by-symbol');
	t1.tBodies[0].replaceChildren(...bySym.map((s) => h('tr', null,
		h('th', { scope: 'row' }, str(s.symbol)),
		numCell(fmtCount(s.trips)), numCell(fmtCount(s.wins)), numCell(fmtCount(s.losses)),
		numCell(fmtMoney(s.fees)), pnlCell(s.pnl, fmtPnl(s.pnl)))));
	t1.classList.toggle('is-empty', bySym.length === 0);
	const days = p.daily.slice().reverse();
	const t2 = $('daily');
	t2.tBodies[0].replaceChildren(...days.map((d) => h('tr', null,
		h('th', { scope: 'row' }, str(d.day)),
		numCell(fmtCount(d.trips)), numCell(fmtCount(d.wins)), numCell(fmtCount(d.losses)),
		pnlCell(d.pnl, fmtPnl(d.pnl)))));
	t2.classList.toggle('is-empty', days.length === 0);
}
