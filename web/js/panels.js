// panels.js: the dashboard's panels drawn from the state: portfolio,
// metrics, balances, positions, closed trades, profit, fills,
// predictions, patterns, alerts, events, system, bot. Data goes into the
// DOM as text only; every list shows at most ROWS rows.

import {
	h, setText, isNum, tsMs, fmtPrice, fmtMoney, fmtPnl, fmtPct, fmtQty, fmtRate,
	fmtNum, fmtCount, fmtTime, fmtDateTime, fmtBytes, fmtDuration, signClass, str,
	ListView, ROWS, drawNote,
} from './util.js';
import { AlertCenter } from './alerts.js';
import { Feed } from './feed.js';
import { PositionsView, TripsView, drawProfitTables } from './trading.js';

export { ROWS };
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

// ---- portfolio and metrics -------------------------------------------

// Every figure as the server sent it (snapshot "metrics", /api/metrics),
// except the portfolio's three, which its latest line gives.
const METRICS = {
	round_trips: fmtCount,
	wins: fmtCount,
	losses: fmtCount,
	win_rate: fmtRate,
	realized_pnl: fmtPnl,
	fees: fmtMoney,
	profit_factor: (v) => fmtNum(v, 2, 2),
	avg_win: fmtPnl,
	avg_loss: fmtPnl,
	best: fmtPnl,
	worst: fmtPnl,
	total_value: fmtMoney,
	pnl: fmtPnl,
	pnl_pct: (v) => fmtPct(v),
	max_drawdown: fmtRate,
	max_drawdown_value: fmtMoney,
	max_drawdown_realized: fmtMoney,
	peak: fmtMoney,
};
const SIGNED = new Set(['realized_pnl', 'pnl', 'pnl_pct', 'avg_win', 'avg_loss', 'best', 'worst']);

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
		numCell(isNum(r.v) && total ? fmtRate(r.v / total) : '—'))));
	if (!rows.length)
		tbody.append(h('tr', null, h('td', { colspan: 4, class: 'empty' }, 'No balances yet')));
}

// ---- trades, predictions, patterns -------------------------------------

function tradeRow(t) {
	const side = str(t.side);
	return h('tr', null,
		cell(fmtTime(tsMs(t.ts)), 'time'),
		h('th', { scope: 'row' }, str(t.symbol)),
		cell(side, 'side ' + (side === 'buy' ? 'pos' : side === 'sell' ? 'neg' : '')),
		numCell(fmtQty(t.quantity)),
		numCell(fmtPrice(t.price)),
		numCell(isNum(t.fee) ? fmtMoney(t.fee) : '—'),
		h('td', { class: 'num pnl ' + signClass(t.pnl) }, fmtPnl(t.pnl)));
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
		h('th', { scope: 'row' }, str(e.symbol)),
		cell(str(e.model)),
		cell((dir === 'up' ? '▲ ' : dir === 'down' ? '▼ ' : '') + dir,
			'dir ' + (dir === 'up' ? 'pos' : dir === 'down' ? 'neg' : '')),
		numCell(fmtRate(e.confidence)),
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
		h('th', { scope: 'row' }, str(p.symbol)),
		cell(str(p.pattern).replace(/_/g, ' ')),
		cell(dir, 'dir ' + (dir === 'bullish' ? 'pos' : dir === 'bearish' ? 'neg' : '')),
		numCell(fmtRate(p.confidence)),
		numCell(fmtPrice(p.entry)),
		numCell(fmtPrice(p.target)),
		numCell(fmtPrice(p.stop)));
}

// ---- the panels together -------------------------------------------------

export class Panels {
	constructor(state) {
		this.state = state;
		this.trades = new ListView($('trades').tBodies[0], tradeRow);
		this.preds = new ListView($('predictions').tBodies[0], predRow);
		this.patterns = new ListView($('patterns').tBodies[0], patternRow);
		this.alerts = new AlertCenter();
		this.feed = new Feed(() => this.feed.draw(state.feed, true));
		this.positions = new PositionsView();
		this.trips = new TripsView(() => this.trips.draw(state));
		this.due = {};
		this.listAt = -Infinity;
		// The lists wait while this is set: the page's first screen
		// (main.js) is painted first.
		this.hold = true;
		this.listMs = LIST_MS;
		this.posAt = 0;
		this.connected = false;
		this.busy = false;	// a control request runs
		this.hadData = null;
	}

	setAlertFilter(value) {
		this.alerts.setFilter(value);
	}

	// Draws what d says changed. The tables and the alert feed are drawn
	// at most every LIST_MS (each new row moves all the others, a costly
	// repaint); what waits is kept in this.due and draw() returns true so
	// that the caller asks for another frame.
	draw(state, d) {
		const due = this.due;
		for (const k of ['all', 'trades', 'predictions', 'patterns', 'alerts', 'feed', 'trading'])
			if (d[k])
				due[k] = true;
		const now = performance.now();
		const lists = !this.hold && (due.trades || due.predictions || due.patterns ||
			due.alerts || due.feed || due.trading || due.all) &&
			(d.all || now - this.listAt >= this.listMs);
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
		if (d.all || d.trading || (d.prices.size && this.holds(state, d.prices) &&
		    now - this.posAt >= 250))
			this.drawPositions(state);
		if (d.all || d.system)
			this.drawSystem(state);
		if (d.all || d.bot)
			this.drawBot(state);
		if (d.all || this.hadData !== state.hasData || d.trading)
			this.drawEmpty(state);
		return !this.hold && Object.keys(this.due).length > 0;
	}

	holds(state, syms) {
		const ps = state.trading ? state.trading.positions : [];
		return ps.some((p) => syms.has(p.symbol));
	}

	drawPositions(state) {
		this.posAt = performance.now();
		const n = this.positions.draw(state);
		$('positions').classList.toggle('is-empty', n === 0);
	}

	// Once a second: the ages of positions.
	tick(state) {
		if (state.trading && state.trading.positions.length)
			this.drawPositions(state);
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
		if (d.all || d.alerts)
			this.alerts.draw(state.alerts);
		if (d.all || d.feed)
			this.feed.draw(state.feed, false);
		if (d.all || d.trading) {
			this.trips.draw(state);
			drawProfitTables(state);
		}
		for (const id of ['trades', 'predictions', 'patterns'])
			$(id).classList.toggle('is-empty', !$(id).tBodies[0].childElementCount);
	}

	// Every panel without its data says why: the server has had no
	// event yet ("Waiting for data"), or none of this kind, or nothing
	// matches the filter.
	drawEmpty(state) {
		this.hadData = state.hasData;
		document.body.dataset.hasData = state.hasData ? '1' : '0';
		for (const el of document.querySelectorAll('.empty-note, .chart-empty'))
			drawNote(el);
	}

	// The whole page redrawn (the time zone changed).
	retime(state) {
		this.trades.rebuild(state.trades);
		this.preds.rebuild(state.predictions);
		this.patterns.rebuild(state.patterns);
		this.feed.draw(state.feed, true);
		this.alerts.retime();
		this.trips.redo(state);
		this.drawPositions(state);
		this.drawSystem(state);
		this.drawBot(state);
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
		setText($('cpu'), s && isNum(s.cpu) ? fmtNum(s.cpu, 2, 2) + '%' : '—');
		setText($('memory'), s && isNum(s.memory) ? fmtNum(s.memory, 2, 2) + ' MiB' : '—');
		setText($('connections'), s && isNum(s.connections) ? fmtCount(s.connections) : '—');
		setText($('engine-events'), s && isNum(s.events) ? fmtCount(s.events) : '—');
		setText($('engine-at'), s ? fmtTime(tsMs(s.ts)) : '—');
	}

	// The bot's state, and the buttons that make sense in it. Without a
	// connection the state is unknown and no button works.
	drawBot(state) {
		const b = state.bot;
		const known = this.connected ? b.state : 'unknown';
		const el = $('bot-state');
		el.dataset.state = known;
		setText(el, known === 'running' ? 'Running' : known === 'stopped' ? 'Stopped' : 'Unknown');
		const ev = b.event;
		const bits = [];
		if (!this.connected)
			bits.push('not connected');
		else {
			if (isNum(b.since))
				bits.push('since ' + fmtTime(b.since));
			if (ev && ev.strategy)
				bits.push(str(ev.strategy));
			if (ev && ev.reason)
				bits.push(str(ev.reason));
		}
		setText($('bot-detail'), bits.join(' · '));
		const off = !this.connected || this.busy;
		$('bot-start').disabled = off || known === 'running';
		$('bot-stop').disabled = off || known === 'stopped';
		$('bot-restart').disabled = off;
	}

	// /api/system's "server" part.
	drawServer(sys) {
		const s = sys && sys.server && typeof sys.server === 'object' ? sys.server : {};
		setText($('server-version'), str(s.version) || '—');
		setText($('server-uptime'), fmtDuration(s.uptime));
		setText($('server-cpu'), isNum(s.cpu) ? fmtNum(s.cpu, 2, 2) + '%' : '—');
		setText($('server-rss'), fmtBytes(s.rss));
		setText($('server-clients'), isNum(s.connections) ? fmtCount(s.connections) : '—');
		setText($('server-events'), isNum(s.events) ? fmtCount(s.events) : '—');
	}
}
