// panels.js: the dashboard's panels drawn from the state: portfolio,
// metrics, balances, trades, predictions, patterns, alerts, system, bot.
// Data goes into the DOM as text only; every list shows at most ROWS rows.

import {
	h, setText, isNum, tsMs, fmtPrice, fmtMoney, fmtSigned, fmtPct, fmtQty,
	fmtNum, fmtTime, fmtDateTime, fmtBytes, fmtDuration, signClass, str,
} from './util.js';
import { priorityRank, PRIORITIES } from './state.js';

export const ROWS = 200;
// The lists' redraw interval adapts to what a redraw costs (the time to
// the next frame, layout and paint included), from LIST_MS up to LIST_MAX.
const LIST_MS = 250;
const LIST_MAX = 1000;

const $ = (id) => document.getElementById(id);

function setSign(el, x) {
	el.classList.toggle('pos', isNum(x) && x > 0);
	el.classList.toggle('neg', isNum(x) && x < 0);
}

const cell = (text, cls) => h('td', cls ? { class: cls } : null, text);
const numCell = (text) => h('td', { class: 'num' }, text);

// A table body or list that shows a List's newest items, newest first,
// adding only the new ones each frame.
class ListView {
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

// ---- portfolio and metrics -------------------------------------------

const METRICS = {
	trades: (v) => fmtNum(v, 0, 0),
	wins: (v) => fmtNum(v, 0, 0),
	losses: (v) => fmtNum(v, 0, 0),
	win_rate: (v) => (isNum(v) ? fmtNum(v * 100, 1, 1) + '%' : '—'),
	realized_pnl: (v) => fmtSigned(v),
	total_value: (v) => fmtMoney(v),
	pnl: (v) => fmtSigned(v),
	pnl_pct: (v) => fmtPct(v),
	max_drawdown: (v) => (isNum(v) ? fmtNum(v * 100, 2, 2) + '%' : '—'),
	max_drawdown_value: (v) => fmtMoney(v),
	peak: (v) => fmtMoney(v),
};
const SIGNED = new Set(['realized_pnl', 'pnl', 'pnl_pct']);

export function drawMetrics(state) {
	const m = state.metrics;
	const p = state.portfolio;
	// The portfolio line is the freshest source of these three.
	const live = {
		total_value: p && isNum(p.total_value) ? p.total_value : m.total_value,
		pnl: p && isNum(p.pnl) ? p.pnl : m.pnl,
		pnl_pct: p && isNum(p.pnl_pct) ? p.pnl_pct : m.pnl_pct,
	};
	for (const el of $('metrics').querySelectorAll('[data-metric]')) {
		const k = el.dataset.metric;
		const v = k in live ? live[k] : m[k];
		const f = METRICS[k];
		setText(el, f ? f(v) : str(v));
		if (SIGNED.has(k))
			setSign(el, v);
	}
}

export function drawBalances(state) {
	const tbody = $('balances').tBodies[0];
	const p = state.portfolio;
	const bal = p && p.balances && typeof p.balances === 'object' ? p.balances : {};
	const assets = Object.keys(bal).slice(0, ROWS);
	// The quote currency: the part after '-' of a symbol seen, if held.
	const quotes = new Set();
	for (const sym of state.symbols.keys()) {
		const i = sym.lastIndexOf('-');
		if (i > 0)
			quotes.add(sym.slice(i + 1));
	}
	const valueOf = (asset, amt) => {
		if (!isNum(amt))
			return null;
		if (quotes.has(asset))
			return amt;
		for (const q of quotes) {
			const e = state.symbols.get(asset + '-' + q);
			if (e && isNum(e.price))
				return amt * e.price;
		}
		return null;
	};
	const rows = assets.map((a) => ({ a, amt: bal[a], v: valueOf(a, bal[a]) }));
	rows.sort((x, y) => (quotes.has(y.a) - quotes.has(x.a)) ||
		((isNum(y.v) ? y.v : -1) - (isNum(x.v) ? x.v : -1)) || x.a.localeCompare(y.a));
	const total = p && isNum(p.total_value) ? p.total_value : null;
	tbody.replaceChildren(...rows.map((r) => h('tr', null,
		h('th', { scope: 'row' }, r.a),
		numCell(fmtQty(r.amt)),
		numCell(isNum(r.v) ? fmtMoney(r.v) : '—'),
		numCell(isNum(r.v) && total ? fmtNum(r.v / total * 100, 1, 1) + '%' : '—'))));
	if (!rows.length)
		tbody.append(h('tr', null, h('td', { colspan: 4, class: 'empty' }, 'No balances yet')));
}

// ---- trades, predictions, patterns -------------------------------------

function tradeRow(t) {
	const side = str(t.side);
	return h('tr', null,
		cell(fmtTime(tsMs(t.ts)), 'time'),
		cell(str(t.symbol)),
		cell(side, 'side ' + (side === 'buy' ? 'pos' : side === 'sell' ? 'neg' : '')),
		numCell(fmtQty(t.quantity)),
		numCell(fmtPrice(t.price)),
		h('td', { class: 'num pnl ' + signClass(t.pnl) }, fmtSigned(t.pnl)));
}

function predResult(p) {
	if (p.actual === null)
		return ['pending', 'pending'];
	if (p.correct === true)
		return ['✓ hit', 'pos'];
	if (p.correct === false)
		return ['✗ miss', 'neg'];
	return ['—', ''];
}

function predRow(p) {
	const e = p.event;
	const dir = str(e.direction);
	const [txt, cls] = predResult(p);
	const tr = h('tr', null,
		cell(fmtTime(tsMs(e.ts)), 'time'),
		cell(str(e.symbol)),
		cell(str(e.model)),
		cell((dir === 'up' ? '▲ ' : dir === 'down' ? '▼ ' : '') + dir,
			'dir ' + (dir === 'up' ? 'pos' : dir === 'down' ? 'neg' : '')),
		numCell(isNum(e.confidence) ? fmtNum(e.confidence * 100, 1, 1) + '%' : '—'),
		numCell(fmtPrice(p.base)),
		numCell(fmtPrice(e.predicted_price)),
		h('td', { class: 'num actual' }, fmtPrice(p.actual)),
		h('td', { class: 'result ' + cls }, txt));
	tr.dataset.resolved = p.actual === null ? '0' : '1';
	rowOf.set(p, tr);
	return tr;
}

const rowOf = new WeakMap();	// prediction -> its row

function patternRow(p) {
	const dir = str(p.direction);
	return h('tr', null,
		cell(fmtTime(tsMs(p.ts)), 'time'),
		cell(str(p.symbol)),
		cell(str(p.pattern).replace(/_/g, ' ')),
		cell(dir, 'dir ' + (dir === 'bullish' ? 'pos' : dir === 'bearish' ? 'neg' : '')),
		numCell(isNum(p.confidence) ? fmtNum(p.confidence * 100, 0, 0) + '%' : '—'),
		numCell(fmtPrice(p.entry)),
		numCell(fmtPrice(p.target)),
		numCell(fmtPrice(p.stop)));
}

// ---- alerts ------------------------------------------------------------

function alertRow(a) {
	const pr = PRIORITIES.includes(a.priority) ? a.priority : 'low';
	const meta = [str(a.symbol), str(a.source)].filter(Boolean).join(' · ');
	const ms = tsMs(a.ts);
	return h('li', { class: 'alert', dataset: { priority: pr } },
		h('div', { class: 'alert-head' },
			h('span', { class: 'alert-prio' }, pr),
			h('span', { class: 'alert-title' }, str(a.title) || 'Alert'),
			h('time', { class: 'alert-time', title: fmtDateTime(ms) }, fmtTime(ms))),
		h('p', { class: 'alert-message' }, str(a.message)),
		meta ? h('div', { class: 'alert-meta' }, meta) : null);
}

// ---- the panels together -------------------------------------------------

export class Panels {
	constructor() {
		this.trades = new ListView($('trades').tBodies[0], tradeRow);
		this.preds = new ListView($('predictions').tBodies[0], predRow);
		this.patterns = new ListView($('patterns').tBodies[0], patternRow);
		this.minRank = 0;
		this.alerts = new ListView($('alerts'), alertRow,
			(a) => priorityRank(a.priority) >= this.minRank);
		this.due = {};
		this.listAt = -Infinity;
		this.firstDeferred = false;
		this.listMs = LIST_MS;
		this.emptyNotes = {
			trades: $('trades'), predictions: $('predictions'), patterns: $('patterns'),
		};
	}

	setAlertFilter(value, state) {
		this.minRank = value === 'all' ? 0 : priorityRank(value);
		this.alerts.rebuild(state.alerts);
		this.drawAlertCounts(state);
	}

	drawAlertCounts(state) {
		const n = { low: 0, medium: 0, high: 0, critical: 0 };
		for (const a of state.alerts.items)
			if (a.priority in n)
				n[a.priority]++;
		for (const p in n)
			setText($('count-' + p), n[p]);
		setText($('alerts-shown'), `${this.alerts.el.childElementCount} shown`);
	}

	// Draws what d says changed. The tables and the alert feed are drawn
	// at most every LIST_MS (each new row moves all the others, a costly
	// repaint); what waits is kept in this.due and draw() returns true so
	// that the caller asks for another frame.
	draw(state, d) {
		const due = this.due;
		for (const k of ['all', 'trades', 'predictions', 'patterns', 'alerts'])
			if (d[k])
				due[k] = true;
		const now = performance.now();
		let lists = (due.trades || due.predictions || due.patterns || due.alerts || due.all) &&
			(d.all || now - this.listAt >= this.listMs);
		if (lists && this.listAt === -Infinity && !this.firstDeferred) {
			// The first screen: the charts and the figures first, the
			// lists (hundreds of rows to lay out) in the next frame.
			this.firstDeferred = true;
			lists = false;
		}
		if (lists) {
			this.listAt = now;
			this.drawLists(state, due);
			this.due = {};
			// The next frame starts once this one is on the screen.
			requestAnimationFrame(() => {
				const cost = performance.now() - now;
				this.listMs = Math.min(LIST_MAX, Math.max(LIST_MS, cost * 8));
			});
		}
		if (d.all || d.portfolio || d.metrics)
			drawMetrics(state);
		if (d.all || d.portfolio || (d.prices.size && state.portfolio))
			if (d.all || d.portfolio || this.balancesDue())
				drawBalances(state);
		if (d.all || d.system)
			this.drawSystem(state);
		if (d.all || d.bot)
			this.drawBot(state);
		return Object.keys(this.due).length > 0;
	}

	drawLists(state, d) {
		if (d.all || d.trades)
			this.trades.draw(state.trades);
		if (d.all || d.predictions) {
			this.preds.draw(state.predictions);
			this.resolvePredictions(state);
		}
		if (d.all || d.patterns)
			this.patterns.draw(state.patterns);
		if (d.all || d.alerts) {
			this.alerts.draw(state.alerts);
			this.drawAlertCounts(state);
		}
		if (d.all || d.trades || d.predictions || d.patterns)
			for (const k in this.emptyNotes)
				this.emptyNotes[k].classList.toggle('is-empty',
					!this.emptyNotes[k].tBodies[0].childElementCount);
	}

	// Balances' values follow prices, but once a second is plenty.
	balancesDue() {
		const now = performance.now();
		if (now - (this.balAt || 0) < 1000)
			return false;
		this.balAt = now;
		return true;
	}

	// Rows of predictions that got their actual price since drawn.
	resolvePredictions(state) {
		const a = state.predictions.items;
		for (let i = a.length - 1, n = 0; i >= 0 && n < ROWS; i--, n++) {
			const p = a[i];
			const tr = rowOf.get(p);
			if (!tr || p.actual === null || tr.dataset.resolved === '1')
				continue;
			tr.replaceWith(predRow(p));
		}
	}

	drawSystem(state) {
		const s = state.system;
		setText($('engine-status'), s ? str(s.status) || '—' : '—');
		$('engine-status').dataset.status = s ? str(s.status) : '';
		setText($('cpu'), s && isNum(s.cpu) ? fmtNum(s.cpu, 1, 1) + '%' : '—');
		setText($('memory'), s && isNum(s.memory) ? fmtNum(s.memory, 1, 3) + ' MiB' : '—');
		setText($('connections'), s && isNum(s.connections) ? fmtNum(s.connections, 0, 0) : '—');
		setText($('engine-events'), s && isNum(s.events) ? fmtNum(s.events, 0, 0) : '—');
		setText($('engine-at'), s ? fmtTime(tsMs(s.ts)) : '—');
	}

	drawBot(state) {
		const b = state.bot;
		const el = $('bot-state');
		el.dataset.state = b.state;
		setText(el, b.state === 'running' ? 'Running' : b.state === 'stopped' ? 'Stopped' : 'Unknown');
		const ev = b.event;
		const bits = [];
		if (isNum(b.since))
			bits.push('since ' + fmtTime(b.since));
		if (ev && ev.strategy)
			bits.push(str(ev.strategy));
		if (ev && ev.reason)
			bits.push(str(ev.reason));
		setText($('bot-detail'), bits.join(' · '));
	}

	// /api/system's "server" part.
	drawServer(sys) {
		const s = sys && sys.server && typeof sys.server === 'object' ? sys.server : {};
		setText($('server-version'), str(s.version) || '—');
		setText($('server-uptime'), fmtDuration(s.uptime));
		setText($('server-cpu'), isNum(s.cpu) ? fmtNum(s.cpu, 1, 1) + '%' : '—');
		setText($('server-rss'), fmtBytes(s.rss));
		setText($('server-clients'), isNum(s.connections) ? fmtNum(s.connections, 0, 0) : '—');
		setText($('server-events'), isNum(s.events) ? fmtNum(s.events, 0, 0) : '—');
	}
}
