// state.js: the page's copy of the dashboard state: loaded from
// /api/snapshot, then kept up to date by applying live events. Everything
// is bounded (see LIMITS); lists keep the newest entries.

import { isNum, tsMs } from './util.js';

export const TFS = {
	'1s': 1000, '1m': 60000, '5m': 300000, '15m': 900000,
	'1h': 3600000, '4h': 14400000, '1d': 86400000,
};

export const LIMITS = {
	candles: 1000,		// per symbol and timeframe
	trades: 500,
	orders: 500,
	alerts: 500,
	predictions: 200,
	patterns: 200,
	equity: 5000,
	symbols: 1000,
	feed: 1000,		// the events feed
	indicators: 8,		// strategy indicators per symbol
};

// The events feed's categories, and the event types of each.
export const CATEGORIES = {
	orders: ['order_placed', 'order_cancelled'],
	fills: ['trade_executed'],
	bot: ['bot_started', 'bot_stopped'],
	system: ['system_status'],
	patterns: ['pattern_detected'],
	predictions: ['ml_prediction'],
	alerts: ['alert'],
};
const categoryOf = new Map();
for (const c in CATEGORIES)
	for (const t of CATEGORIES[c])
		categoryOf.set(t, c);

export const PRIORITIES = ['low', 'medium', 'high', 'critical'];
export const priorityRank = (p) => {
	const i = PRIORITIES.indexOf(p);
	return i < 0 ? 0 : i;
};

// A bounded list, oldest first. "added" counts every push since the last
// reset, so a view can tell which items are new since it last looked.
export class List {
	constructor(cap) {
		this.cap = cap;
		this.items = [];
		this.added = 0;
		this.version = 0;	// bumped by reset: views rebuild
	}
	reset(items) {
		this.items = items.slice(-this.cap);
		this.added = this.items.length;
		this.version++;
	}
	push(x) {
		this.items.push(x);
		this.added++;
		// Trim in batches so pushes stay O(1) amortised.
		if (this.items.length > this.cap + (this.cap >> 3))
			this.items.splice(0, this.items.length - this.cap);
	}
	// The newest n items, newest first.
	newest(n) {
		const a = this.items, out = [];
		for (let i = a.length - 1; i >= 0 && out.length < n; i--)
			out.push(a[i]);
		return out;
	}
}

// Candles of one symbol and timeframe, oldest first. "reset" is bumped
// whenever earlier candles change (load, trim, late tick), telling the
// chart to draw the whole series again instead of updating its end.
export class Series {
	constructor(period) {
		this.period = period;
		this.candles = [];
		this.reset = 0;
		this.volume = false;	// some candle has volume: draw it, not ticks
	}
	load(list) {
		this.candles = Array.isArray(list) ? list.filter(okCandle).slice(-LIMITS.candles) : [];
		this.volume = this.candles.some((c) => isNum(c.v) && c.v > 0);
		this.reset++;
	}
	// Older candles (from /api/candles) before the first one kept.
	prepend(list) {
		if (!Array.isArray(list) || !list.length)
			return;
		const first = this.candles.length ? this.candles[0].t : Infinity;
		const older = list.filter((c) => okCandle(c) && c.t < first);
		if (!older.length)
			return;
		if (older.some((c) => isNum(c.v) && c.v > 0))
			this.volume = true;
		this.candles = older.concat(this.candles).slice(-LIMITS.candles);
		this.reset++;
	}
	// One tick, bucketed like the server: floor(ts / period) * period.
	// volume: what traded since the symbol's previous tick; ind: the
	// strategy's indicator values sent with it (or null), kept per
	// candle, the last of each name winning.
	tick(ms, price, volume, ind) {
		const b = Math.floor(ms / this.period) * this.period;
		const a = this.candles;
		const last = a[a.length - 1];
		if (volume > 0)
			this.volume = true;
		if (!last || b > last.t) {
			a.push({ t: b, o: price, h: price, l: price, c: price, v: volume, n: 1,
				x: ind ? Object.assign({}, ind) : undefined });
			if (a.length > LIMITS.candles + 100) {
				a.splice(0, a.length - LIMITS.candles);
				this.reset++;
			}
			return;
		}
		let i = a.length - 1;
		while (i >= 0 && a[i].t > b)
			i--;
		if (i >= 0 && a[i].t === b) {
			const c = a[i];
			if (price > c.h)
				c.h = price;
			if (price < c.l)
				c.l = price;
			c.c = price;
			c.v += volume;
			c.n++;
			if (ind)
				c.x = Object.assign(c.x || {}, ind);
		} else {
			a.splice(i + 1, 0, { t: b, o: price, h: price, l: price, c: price, v: volume, n: 1,
				x: ind ? Object.assign({}, ind) : undefined });
		}
		if (i !== a.length - 1)
			this.reset++;	// a late tick changed an older candle
	}
}

function okCandle(c) {
	return c && isNum(c.t) && isNum(c.o) && isNum(c.h) && isNum(c.l) && isNum(c.c);
}

const obj = (x) => (x && typeof x === 'object' && !Array.isArray(x) ? x : null);

// What changed since the view last drew, collected between frames.
export function newDirty() {
	return {
		all: false, symbols: false, prices: new Set(), candles: new Set(),
		portfolio: false, equity: false, trades: false, alerts: false,
		predictions: false, patterns: false, system: false, bot: false,
		metrics: false, trading: false, feed: false, fills: false,
	};
}

export class State {
	constructor() {
		this.symbols = new Map();	// symbol -> latest price line
		this.series = new Map();	// symbol -> {tf: Series}
		this.volumes = new Map();	// symbol -> its last cumulative volume
		this.indicators = new Map();	// symbol -> Set of indicator names
		this.portfolio = null;
		this.equity = new List(LIMITS.equity);	// [ms, value]
		this.trades = new List(LIMITS.trades);
		this.orders = new List(LIMITS.orders);
		this.alerts = new List(LIMITS.alerts);
		this.predictions = new List(LIMITS.predictions);
		this.patterns = new List(LIMITS.patterns);
		this.feed = new List(LIMITS.feed);	// {cat, e, ms}
		this.system = null;
		this.bot = { state: 'unknown', since: null, event: null };
		// What the server computed from the fills (lib/dash.c): the
		// page shows these and never works them out itself.
		this.metrics = {};
		this.trading = null;	// {positions, round_trips, profit}
		this.server = '';
		this.clockSkew = 0;	// server now - our now, from the snapshot
		this.hasData = false;	// the server has had some event
	}

	seriesOf(symbol, create) {
		let s = this.series.get(symbol);
		if (!s && create) {
			s = {};
			for (const tf in TFS)
				s[tf] = new Series(TFS[tf]);
			this.series.set(symbol, s);
		}
		return s;
	}

	load(snap, dirty) {
		this.server = typeof snap.server === 'string' ? snap.server : '';
		if (isNum(snap.now))
			this.clockSkew = snap.now - Date.now();
		this.hasData = isNum(snap.seq) && snap.seq > 0;
		this.symbols.clear();
		this.series.clear();
		this.volumes.clear();
		this.indicators.clear();
		const syms = obj(snap.symbols) || {};
		for (const sym of Object.keys(syms).slice(0, LIMITS.symbols)) {
			const e = obj(syms[sym]);
			if (e) {
				this.symbols.set(sym, e);
				if (e.type === 'price_update' && isNum(e.volume))
					this.volumes.set(sym, e.volume);
			}
		}
		const cs = obj(snap.candles) || {};
		for (const sym of Object.keys(cs)) {
			if (!this.symbols.has(sym) && this.symbols.size >= LIMITS.symbols)
				continue;
			const s = this.seriesOf(sym, true);
			const per = obj(cs[sym]) || {};
			for (const tf in TFS)
				s[tf].load(per[tf]);
			if (!this.symbols.has(sym))
				this.symbols.set(sym, null);
		}
		this.portfolio = obj(snap.portfolio);
		this.equity.reset((Array.isArray(snap.equity) ? snap.equity : [])
			.filter((p) => Array.isArray(p) && isNum(p[0]) && isNum(p[1])));
		const lines = (x) => (Array.isArray(x) ? x.filter(obj) : []);
		this.trades.reset(lines(snap.trades));
		this.orders.reset(lines(snap.orders));
		this.alerts.reset(lines(snap.alerts));
		this.patterns.reset(lines(snap.patterns));
		this.predictions.reset(lines(snap.predictions)
			.filter((p) => obj(p.event))
			.map((p) => ({
				event: p.event,
				actual: isNum(p.actual) ? p.actual : null,
				correct: typeof p.correct === 'boolean' ? p.correct : null,
				// Ticks since the prediction are unknown here: count
				// its whole horizon from now (documented).
				left: isNum(p.actual) ? 0 : horizon(p.event),
				base: basePrice(p.event, this.symbols.get(p.event.symbol)),
			})));
		this.system = obj(snap.system);
		const bot = obj(snap.bot);
		this.bot = bot ? {
			state: ['running', 'stopped'].includes(bot.state) ? bot.state : 'unknown',
			since: isNum(bot.since) ? bot.since : null,
			event: obj(bot.event),
		} : { state: 'unknown', since: null, event: null };
		this.metrics = Object.assign({}, obj(snap.metrics) || {});
		this.trading = null;
		if (Array.isArray(snap.positions) || Array.isArray(snap.round_trips) || obj(snap.profit))
			this.setTrading(snap);
		// The feed starts with what the snapshot kept of each kind.
		const feed = [];
		const add = (e) => {
			const cat = categoryOf.get(e.type);
			if (cat)
				feed.push({ cat, e, ms: tsMs(e.ts) });
		};
		for (const l of [this.trades, this.orders, this.alerts, this.patterns])
			for (const e of l.items)
				add(e);
		for (const p of this.predictions.items)
			add(p.event);
		if (this.system)
			add(this.system);
		if (this.bot.event)
			add(this.bot.event);
		feed.sort((a, b) => (a.ms ?? 0) - (b.ms ?? 0));
		this.feed.reset(feed);
		dirty.all = true;
	}

	// Takes the server's positions, round trips and profit (GET
	// /api/trading, or those members of a snapshot).
	setTrading(t) {
		const arr = (x) => (Array.isArray(x) ? x.filter(obj) : []);
		const p = obj(t.profit) || {};
		this.trading = {
			positions: arr(t.positions),
			round_trips: arr(t.round_trips),
			profit: {
				daily: arr(p.daily),
				by_symbol: arr(p.by_symbol),
				cumulative: (Array.isArray(p.cumulative) ? p.cumulative : [])
					.filter((x) => Array.isArray(x) && isNum(x[0]) && isNum(x[1])),
			},
		};
	}

	// Applies one live event (the line as an object). arrival: ms to use
	// when the event has no usable ts.
	apply(e, arrival, dirty) {
		const type = e.type;
		this.hasData = true;
		const cat = categoryOf.get(type);
		if (cat) {
			this.feed.push({ cat, e, ms: tsMs(e.ts) ?? arrival });
			dirty.feed = true;
		}
		switch (type) {
		case 'price_update':
		case 'ticker_update':
			this.price(e, arrival, dirty);
			break;
		case 'trade_executed':
			this.trades.push(e);
			dirty.trades = dirty.fills = true;
			if (typeof e.symbol === 'string')
				dirty.candles.add(e.symbol);	// its marker
			break;
		case 'order_placed':
		case 'order_cancelled':
			this.orders.push(e);
			dirty.fills = true;
			break;
		case 'portfolio_update':
			this.portfolio = e;
			this.equityPoint(e, arrival);
			dirty.portfolio = dirty.equity = dirty.metrics = true;
			break;
		case 'alert':
			this.alerts.push(e);
			dirty.alerts = true;
			break;
		case 'ml_prediction':
			this.predictions.push({
				event: e, actual: null, correct: null,
				left: horizon(e), base: basePrice(e, this.symbols.get(e.symbol)),
			});
			dirty.predictions = true;
			break;
		case 'pattern_detected':
			this.patterns.push(e);
			dirty.patterns = true;
			if (typeof e.symbol === 'string')
				dirty.candles.add(e.symbol);
			break;
		case 'system_status':
			this.system = e;
			dirty.system = true;
			if (this.bot.state === 'unknown' && (e.bot === 'running' || e.bot === 'stopped')) {
				this.bot = { state: e.bot, since: null, event: null };
				dirty.bot = true;
			}
			break;
		case 'bot_started':
		case 'bot_stopped':
			this.bot = {
				state: type === 'bot_started' ? 'running' : 'stopped',
				since: tsMs(e.ts) ?? arrival, event: e,
			};
			dirty.bot = true;
			break;
		default:
			break;
		}
	}

	price(e, arrival, dirty) {
		const sym = e.symbol;
		if (typeof sym !== 'string' || !sym)
			return;
		if (!this.symbols.has(sym)) {
			if (this.symbols.size >= LIMITS.symbols)
				return;
			dirty.symbols = true;
		}
		this.symbols.set(sym, e);
		dirty.prices.add(sym);
		const p = e.price;
		if (!isNum(p) || !(p > 0))
			return;
		const ms = tsMs(e.ts) ?? arrival;
		// "volume" is cumulative (24 h, or since the feed began), as the
		// server takes it: a candle's volume is the sum of its rises.
		let vol = 0;
		if (e.type === 'price_update' && isNum(e.volume) && e.volume >= 0) {
			const prev = this.volumes.get(sym);
			if (prev !== undefined && e.volume > prev)
				vol = e.volume - prev;
			this.volumes.set(sym, e.volume);
		}
		const s = this.seriesOf(sym, true);
		const ind = this.indicatorsOf(sym, e.indicators);
		for (const tf in TFS)
			s[tf].tick(ms, p, vol, ind);
		dirty.candles.add(sym);
		// Predictions of this symbol count its ticks to their horizon.
		const preds = this.predictions.items;
		for (let i = preds.length - 1; i >= 0; i--) {
			const pr = preds[i];
			if (pr.actual !== null || pr.event.symbol !== sym)
				continue;
			if (pr.base === null)
				pr.base = p;
			if (--pr.left > 0)
				continue;
			pr.actual = p;
			const d = pr.event.direction;
			pr.correct = d === 'up' ? p > pr.base : d === 'down' ? p < pr.base : null;
			dirty.predictions = true;
		}
	}

	// The strategy's indicators sent with a price ("indicators": {NAME:
	// NUMBER}), at most LIMITS.indicators names per symbol; null when none.
	indicatorsOf(sym, x) {
		const o = obj(x);
		if (!o)
			return null;
		let names = this.indicators.get(sym);
		let out = null;
		for (const k in o) {
			if (!isNum(o[k]))
				continue;
			if (!names) {
				names = new Set();
				this.indicators.set(sym, names);
			}
			if (!names.has(k)) {
				if (names.size >= LIMITS.indicators || k.length > 40)
					continue;
				names.add(k);
			}
			(out || (out = {}))[k] = o[k];
		}
		return out;
	}

	// The portfolio's figures come from its line; the equity curve gets
	// a point.
	equityPoint(e, arrival) {
		const v = e.total_value, m = this.metrics;
		for (const k of ['total_value', 'pnl', 'pnl_pct'])
			m[k] = isNum(e[k]) ? e[k] : null;
		if (!isNum(v))
			return;
		this.equity.push([tsMs(e.ts) ?? arrival, v]);
	}

	// Trades and patterns of one symbol (for the chart's markers).
	trades_of(sym) {
		return this.trades.items.filter((t) => t.symbol === sym);
	}
	patterns_of(sym) {
		return this.patterns.items.filter((p) => p.symbol === sym);
	}
}

// An open position as the server gave it, with its unrealized P&L worked
// out again from the latest price the page has seen (the contract's
// formula: the only P&L the page computes).
export function livePosition(p, latest) {
	const last = latest && isNum(latest.price) ? latest.price : isNum(p.last) ? p.last : null;
	const q = Math.abs(p.quantity), avg = p.avg_entry;
	if (last === null || !isNum(q) || !isNum(avg))
		return { last, upnl: isNum(p.unrealized_pnl) ? p.unrealized_pnl : null,
			upct: isNum(p.unrealized_pct) ? p.unrealized_pct : null };
	const upnl = p.side === 'short' ? (avg - last) * q : (last - avg) * q;
	const cost = avg * q;
	return { last, upnl, upct: cost ? upnl / cost * 100 : null };
}

function horizon(e) {
	return isNum(e.horizon) && e.horizon > 0 ? Math.ceil(e.horizon) : 1;
}

function basePrice(e, latest) {
	if (isNum(e.price))
		return e.price;
	return latest && isNum(latest.price) ? latest.price : null;
}
