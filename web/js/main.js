// main.js: starts the dashboard: loads /api/snapshot, opens the tf.v1
// stream resuming from the snapshot's seq, queues live events and applies
// them once per animation frame, and wires the page's controls.

import {
	getSnapshot, takeSnapshot, getCandles, getSystem, getTrading, getMetrics, postControl,
	ApiError,
} from './api.js';
import { Stream } from './stream.js';
import { State, TFS, newDirty } from './state.js';
import { Panels } from './panels.js';
import { drawTape, isPrice } from './tape.js';
import {
	setText, isNum, fmtPrice, fmtPct, fmtTime, fmtDuration, fmtCount, tsMs, h, tzName,
} from './util.js';
import { get as setting, set as setSetting } from './settings.js';

const $ = (id) => document.getElementById(id);

const QUEUE_MAX = 50000;	// events waiting for a frame or a snapshot
// The price chart is drawn at most this often (10 times a second): each
// draw costs lightweight-charts two paints of its canvases (an update
// invalidates it fully, and its size adjustment then invalidates it
// again), the largest part of a frame's work when prices come every
// frame. The candles miss no tick (the next draw has them); the quote,
// the legend's last candle and the tape still follow every frame.
const CHART_MS = 100;
const SYSTEM_POLL_MS = 5000;
// After a fill or an order event, GET /api/trading and /api/metrics again,
// at most this often (what the server derived from the fills).
const TRADING_MS = 500;
// The portfolio's metrics (drawdown) follow the equity curve: again at
// most this often while portfolio lines arrive.
const METRICS_MS = 5000;
// The first snapshot is drawn once the stream has brought the events
// missed since it ("resumed" or a gap), so the first screen already has
// live data; but never later than this after the snapshot came.
const RESUME_WAIT_MS = 100;
// The lists wait for the first live event's frame at most this long
// after the first snapshot is drawn.
const LISTS_WAIT_MS = 1000;

// boot.js made it, and may have set firstEventAt already (the tape).
const dash = Object.assign(window.tfDash || { firstEventAt: null }, {
	events: 0, rendered: 0, frames: 0,
	lastSeq: null, epoch: null,
	duplicates: 0,	// envelopes at or before lastSeq, dropped
	resyncs: 0,	// snapshots loaded again after a gap
	tradingFetches: 0,	// GET /api/trading re-fetches done
	alerts: null,	// the alert center's counts (toasts, beeps, notifications)
	chart: null,	// () -> what the price chart shows (tests)
});
window.tfDash = dash;

const state = new State();
let dirty = newDirty();
let queue = [];			// envelopes to apply, in seq order
let pending = null;		// envelopes held while a snapshot loads
let resyncing = false;
let lastResync = 0;
let scheduled = false;
let loaded = false;		// the state holds a snapshot
let resumeIn = null;		// ends the first load's wait for the stream
let resumed = false;		// the stream has brought the missed events
let view = { symbol: null, tf: '1m' };
// The charts come from chart.js, loaded (with lightweight-charts) once
// the first screen is painted: until then they are null.
let priceChart = null, equityChart = null, profitCharts = null;
let panels, stream;
let firstFrame = true;	// no live event drawn by this page yet
let chartAt = -Infinity;	// when the price chart was last drawn
let chartDue = false, marksDue = false;	// what it still has to draw
let equityAt = -Infinity, equityDue = false;	// the same for the equity curve
let tapeAt = -Infinity, tapePrice = null;	// and for the tape
let rateCount = 0, rate = 0;
// The connection as the pill shows it: the stream's own state, then
// whether data is flowing ("stale" after the server's notice).
let streamState = 'connecting';
let staleAt = null;	// performance.now() of the last input the server had
// The server's --stale in ms (its welcome's stale_ms): 0 when off, null
// when it does not say (an older tf-serve). Then the page judges by
// itself: no event for IDLE_MS (?stale=SECONDS on the page's URL) is
// stale too.
let serverStaleMs = null;
let lastEventAt = null;	// performance.now() of the last event or input
let welcomeSeq = null;	// the last seq when the stream connected
const IDLE_MS = (() => {
	const v = Number(new URLSearchParams(location.search).get('stale'));
	return v > 0 && v <= 86400 ? v * 1000 : 10000;
})();

// ---- applying events, once per frame ------------------------------------

function schedule() {
	if (scheduled)
		return;
	scheduled = true;
	// A hidden tab gets no animation frames: a timer drains the queue
	// there instead, so it never grows without bound.
	if (document.hidden)
		setTimeout(frame, 250);
	else
		requestAnimationFrame(frame);
}

function frame() {
	scheduled = false;
	if (!loaded)
		return;	// the first snapshot schedules a frame once it is in
	const batch = queue;
	queue = [];
	// An event without a usable ts counts at its arrival, on the
	// server's clock as far as the snapshot told it.
	const now = Date.now() + state.clockSkew;
	const had = state.hasData;
	let price = null;
	for (const env of batch) {
		state.apply(env.data, now, dirty);
		if (isPrice(env.data))
			price = env.data;
	}
	const d = dirty;
	dirty = newDirty();
	if (d.fills)
		wantTrading();
	if (d.portfolio)
		wantMetrics();
	if (had !== state.hasData)
		drawConn();
	render(d);
	// The tape at most every CHART_MS too (a new text is a layout of
	// the top bar), but its first price at once.
	if (price)
		tapePrice = price;
	if (tapePrice && (firstFrame || performance.now() - tapeAt >= CHART_MS)) {
		drawTape(tapePrice);
		tapePrice = null;
		tapeAt = performance.now();
	} else if (tapePrice) {
		schedule();
	}
	if (batch.length) {
		dash.rendered += batch.length;
		dash.frames++;
		if (dash.firstEventAt === null)
			dash.firstEventAt = performance.now();
		if (firstFrame) {
			firstFrame = false;
			if (window.tfBoot)
				window.tfBoot.tapeDone = true;	// the tape is ours now
			afterPaint(releaseLists);
		}
	}
}

function render(d) {
	const moved = (d.all || d.symbols) && drawSymbols();
	if (d.all || moved)
		showSeries();
	const sym = view.symbol;
	let more = false;
	if (sym !== null && priceChart) {
		const marks = d.all || d.trades || d.patterns || d.trading;
		if (d.all || d.candles.has(sym) || marks) {
			chartDue = true;
			marksDue = marksDue || marks;
		}
		const now = performance.now();
		if (chartDue && (d.all || now - chartAt >= CHART_MS)) {
			priceChart.draw(state, marksDue);
			chartAt = now;
			chartDue = marksDue = false;
		} else if (chartDue) {
			more = true;	// drawn in a later frame
		}
	}
	if (sym !== null && (d.all || d.prices.has(sym)))
		drawQuote();
	if (d.all || moved)
		$('chart-empty').hidden = sym !== null;
	// The equity curve likewise (a portfolio line comes with most
	// prices at 1,000 events/s).
	if (d.all || d.equity)
		equityDue = true;
	if (equityDue && equityChart) {
		const now = performance.now();
		if (d.all || now - equityAt >= CHART_MS) {
			equityChart.draw(state.equity);
			$('equity').nextElementSibling.hidden = state.equity.items.length > 0;
			equityAt = now;
			equityDue = false;
		} else {
			more = true;
		}
	}
	if ((d.all || d.trading) && profitCharts)
		profitCharts.draw(state);
	if (panels.draw(state, d) || more)
		schedule();	// lists or the chart still to draw: another frame
	if (d.all || d.predictions)
		drawPredScore();
	if (d.all || d.portfolio) {
		const p = state.portfolio;
		setText($('portfolio-at'), p ? 'updated ' + fmtTime(tsMs(p.ts)) : '');
	}
}

// ---- what the server derived from the fills ---------------------------------

let tradingTimer = 0, tradingAt = -Infinity, tradingBusy = false, tradingAgain = false;
let tradingMissing = false;	// a server without /api/trading

// Asks GET /api/trading and /api/metrics again, at most every TRADING_MS,
// one request pair at a time.
function wantTrading() {
	if (tradingBusy) {
		tradingAgain = true;
		return;
	}
	if (tradingTimer)
		return;
	const wait = Math.max(0, tradingAt + TRADING_MS - performance.now());
	tradingTimer = setTimeout(fetchTrading, wait);
}

async function fetchTrading() {
	tradingTimer = 0;
	tradingBusy = true;
	tradingAgain = false;
	tradingAt = performance.now();
	const [t, m] = await Promise.allSettled([
		tradingMissing ? Promise.reject(new ApiError(404, 'none')) : getTrading(),
		getMetrics(),
	]);
	tradingBusy = false;
	if (t.status === 'fulfilled') {
		state.setTrading(t.value);
		dirty.trading = true;
	} else if (t.reason && t.reason.status === 404) {
		tradingMissing = true;
	}
	if (m.status === 'fulfilled') {
		takeMetrics(m.value);
		dirty.metrics = true;
	}
	dash.tradingFetches++;
	schedule();
	if (tradingAgain)
		wantTrading();
}

// The server's metrics; the portfolio's three figures stay those of its
// latest line.
function takeMetrics(m) {
	const keep = {};
	for (const k of ['total_value', 'pnl', 'pnl_pct'])
		if (k in state.metrics)
			keep[k] = state.metrics[k];
	state.metrics = Object.assign({}, m, keep);
}

let metricsAt = -Infinity, metricsTimer = 0;
function wantMetrics() {
	if (metricsTimer || tradingBusy || tradingTimer)
		return;
	const wait = Math.max(0, metricsAt + METRICS_MS - performance.now());
	metricsTimer = setTimeout(() => {
		metricsTimer = 0;
		metricsAt = performance.now();
		getMetrics().then((m) => {
			takeMetrics(m);
			dirty.metrics = true;
			schedule();
		}, () => {});
	}, wait);
}

// ---- the chart's symbol and timeframe -------------------------------------

// Fills #symbol with the symbols seen. Returns true when the chart's
// symbol had to change (none yet, or it is gone).
function drawSymbols() {
	const sel = $('symbol');
	const syms = [...state.symbols.keys()].sort();
	const have = [...sel.options].map((o) => o.value);
	if (have.join('\n') !== syms.join('\n'))
		sel.replaceChildren(...syms.map((s) => h('option', { value: s }, s)));
	let moved = false;
	if (view.symbol === null || !state.symbols.has(view.symbol)) {
		const want = new URLSearchParams(location.search).get('symbol');
		const next = syms.includes(want) ? want : syms.length ? syms[0] : null;
		moved = next !== view.symbol;
		view.symbol = next;
	}
	if (view.symbol !== null)
		sel.value = view.symbol;
	sel.disabled = syms.length === 0;
	return moved;
}

let candlesReq = 0;

// Points the chart at view.symbol/view.tf; fetches the older candles the
// snapshot did not carry.
function showSeries() {
	const sym = view.symbol;
	for (const b of $('timeframe').querySelectorAll('button'))
		b.setAttribute('aria-pressed', String(b.dataset.tf === view.tf));
	if (!loaded || !priceChart)
		return;	// the first snapshot, or the charts once made, draw it
	if (sym === null) {
		priceChart.show(null, view.tf, null);
		$('chart').dataset.candles = '0';
		return;
	}
	const series = state.seriesOf(sym, true)[view.tf];
	priceChart.show(sym, view.tf, series);
	priceChart.draw(state, true);
	drawQuote();
	const req = ++candlesReq;
	const first = series.candles.length ? series.candles[0].t : 0;
	getCandles(sym, view.tf, first || undefined).then((r) => {
		if (req !== candlesReq || !Array.isArray(r.candles))
			return;
		series.prepend(r.candles);
		priceChart.draw(state, true);
	}, (e) => {
		if (req === candlesReq && e.status !== 404)
			note(`Could not load the history: ${e.message}`);
	});
}

function note(text) {
	const el = $('chart-note');
	setText(el, text);
	el.hidden = !text;
}

function drawQuote() {
	const e = view.symbol === null ? null : state.symbols.get(view.symbol);
	const lp = $('last-price');
	const p = e && isNum(e.price) ? e.price : null;
	const prev = Number(lp.dataset.price);
	setText(lp, p === null ? '—' : fmtPrice(p));
	if (p !== null) {
		if (isNum(prev) && prev !== p)
			lp.dataset.dir = p > prev ? 'up' : 'down';
		lp.dataset.price = String(p);
	}
	const ch = $('change');
	const c = e && isNum(e.change_24h) ? e.change_24h : null;
	setText(ch, c === null ? '' : fmtPct(c));
	ch.classList.toggle('pos', c !== null && c > 0);
	ch.classList.toggle('neg', c !== null && c < 0);
	setText($('bidask'), e && isNum(e.bid) && isNum(e.ask) ?
		`${fmtPrice(e.bid)} / ${fmtPrice(e.ask)}` : '');
}

function drawPredScore() {
	let hit = 0, miss = 0;
	for (const p of state.predictions.items) {
		if (p.correct === true)
			hit++;
		else if (p.correct === false)
			miss++;
	}
	setText($('pred-score'), hit + miss ?
		`hit rate ${Math.round(hit / (hit + miss) * 100)}% of ${hit + miss}` : '');
}

// ---- snapshot and stream ----------------------------------------------------

// Loads /api/snapshot into the state. The first time it also opens the
// stream, resuming from the snapshot's seq on the URL (tf(7)), so the
// server sends the missed events first whatever the page is busy with;
// they wait in the queue until the snapshot is drawn.
async function loadSnapshot(first) {
	const snap = await (first ? takeSnapshot() : getSnapshot());
	if (!isNum(snap.seq) || (typeof snap.epoch !== 'string' && !isNum(snap.epoch)))
		throw new ApiError(0, 'snapshot without epoch and seq');
	dash.epoch = snap.epoch;
	dash.lastSeq = snap.seq;
	if (first) {
		loaded = false;
		stream.start();
		await new Promise((r) => {
			resumeIn = r;
			setTimeout(r, RESUME_WAIT_MS);
		});
		resumeIn = null;
		// The live price boot.js put on the tape meanwhile is painted
		// before the first full drawing below (tens of ms) holds the
		// page up.
		await new Promise((r) => afterPaint(r));
	}
	state.load(snap, dirty);
	loaded = true;
	drawConn();
	// Events held while it loaded: those after its seq still apply.
	const held = pending || [];
	pending = null;
	if (!first)
		queue = [];	// what the old state still waited for
	resyncing = false;
	for (const env of held) {
		if (resyncing)
			pending.push(env);	// another epoch again: wait once more
		else
			accept(env);
	}
	// The snapshot and the live events already in (the stream opened
	// in boot.js) are drawn together, in this task: the first screen
	// shows live data without waiting for another frame.
	frame();
	document.body.dataset.ready = '1';
	if (first) {
		// The charts (lightweight-charts: its code, its canvases) come
		// once this first screen is painted: the quote, the tape and the
		// figures do not wait for them.
		afterPaint(makeCharts);
		// What is below the first screen or costs most to lay out (the
		// lists: hundreds of rows; the profit charts) comes once the
		// first screen is painted with the live data there is: after
		// this frame when the missed events were in it, else after the
		// frame of the first live event or of the resume's end
		// (frame(), onResumed()), at the latest after LISTS_WAIT_MS.
		if (resumed || !firstFrame)
			afterPaint(releaseLists);
		else
			setTimeout(releaseLists, LISTS_WAIT_MS);
	}
}

// The lists, then (a frame later) the profit charts, once.
function releaseLists() {
	if (!panels.hold)
		return;
	panels.hold = false;
	schedule();
	afterPaint(makeProfit);
}

// The profit charts, once: after the lists, and once chart.js is in.
function makeProfit() {
	if (profitCharts || !charts || panels.hold)
		return;
	profitCharts = new charts.ProfitCharts($('profit-daily'), $('profit-cumulative'));
	profitCharts.draw(state);
}

// Runs fn in a task after the next frame is on the screen (at once in a
// hidden tab, which gets no frames).
function afterPaint(fn) {
	if (document.hidden)
		setTimeout(fn, 0);
	else
		requestAnimationFrame(() => setTimeout(fn, 0));
}

let charts = null;	// chart.js, once loaded
let chartsAsked = false;

// Loads chart.js (and lightweight-charts), then makes the charts of the
// first screen and draws what the state holds (once). A failed load is
// said under the chart and tried again at the next view change.
function makeCharts() {
	if (chartsAsked)
		return;
	chartsAsked = true;
	import('./chart.js').then((m) => {
		charts = m;
		priceChart = new m.PriceChart($('chart'), $('ohlc'), $('volume-label'));
		priceChart.setOverlays(setting('overlays'));
		equityChart = new m.EquityChart($('equity'));
		showSeries();
		equityChart.draw(state.equity);
		$('equity').nextElementSibling.hidden = state.equity.items.length > 0;
		makeProfit();
	}, (e) => {
		chartsAsked = false;
		note(`Could not load the charts: ${e.message}`);
	});
}

// Takes an envelope into the queue when it is the next one after the
// position the state holds; drops repeats.
function accept(env) {
	if (env.epoch !== dash.epoch) {
		resync('epoch');
		pending.push(env);
		return;
	}
	if (!isNum(env.seq) || env.seq <= dash.lastSeq) {
		dash.duplicates++;
		return;
	}
	dash.lastSeq = env.seq;
	if (!env.data || typeof env.data !== 'object')
		return;
	queue.push(env);
	if (queue.length > QUEUE_MAX) {
		// Far behind (a frozen tab): start again from a snapshot.
		queue = [];
		resync('overflow');
		return;
	}
	schedule();
}

// Between asking a resume and its answer ("resumed" or "gap") events are
// held and then taken in seq order: a server that takes the resume only
// as a message, late, sends the missed events after newer ones.
let reorder = null;
let reorderTimer = 0;

function onResuming() {
	flushReorder();
	reorder = [];
	reorderTimer = setTimeout(flushReorder, 3000);
}

function flushReorder() {
	clearTimeout(reorderTimer);
	const held = reorder;
	reorder = null;
	if (held && held.length) {
		held.sort((a, b) => (isNum(a.seq) ? a.seq : 0) - (isNum(b.seq) ? b.seq : 0));
		for (const env of held)
			take(env);
	}
}

// "resumed" or a gap: the missed events are in.
function onResumed() {
	flushReorder();
	resumed = true;
	if (loaded && panels.hold)
		afterPaint(releaseLists);	// once they are drawn
	if (resumeIn)
		resumeIn();	// the first screen can be drawn
}

function onEvent(env) {
	dash.events++;
	rateCount++;
	// Only input newer than the welcome says the server is fed again:
	// the missed events a resume replays are old news.
	if (welcomeSeq === null || !isNum(env.seq) || env.seq > welcomeSeq) {
		const wasIdle = idleSince() !== null;
		lastEventAt = performance.now();
		if (wasIdle) {
			staleAt = null;
			drawConn();
		}
	}
	if (reorder) {
		reorder.push(env);
		if (reorder.length >= QUEUE_MAX)
			flushReorder();
		return;
	}
	take(env);
}

function take(env) {
	if (resyncing) {
		if (pending.length < QUEUE_MAX)
			pending.push(env);
		else {
			// Too much to hold: reconnect from the snapshot's seq instead.
			pending = [];
			stream.restart();
		}
		return;
	}
	accept(env);
}

// The state lost its thread (another epoch, history gone, events
// skipped): load a fresh snapshot; live events wait for it.
function resync(why) {
	if (resyncing)
		return;
	resyncing = true;
	dash.resyncs++;
	pending = [];
	const wait = Math.max(0, lastResync + 2000 - performance.now());
	lastResync = performance.now() + wait;
	setTimeout(function again() {
		loadSnapshot().catch((e) => {
			setText($('stream-meta'), `snapshot failed (${e.message}), retrying`);
			setTimeout(again, 2000);
		});
	}, wait);
	console.info(`tf: reloading the snapshot (${why})`);
}

function onGap(m) {
	// The state misses events: a fresh snapshot, and the live data that
	// follows the gap waits for it (see resync).
	if (m.reason === 'epoch' || m.reason === 'history' || m.reason === 'slow')
		resync(m.reason);
	onResumed();
}


let streamText = 'Connecting…';

function onStatus(st, text) {
	const was = streamState;
	streamState = st;
	streamText = text;
	if (st === 'live') {
		if (was !== 'live' && was !== 'connecting')
			setText($('control-error'), '');	// it was about the old link
	}
	const up = st === 'live';
	if (panels.connected !== up) {
		panels.connected = up;
		panels.drawBot(state);
	}
	drawConn();
	if (resumeIn && st !== 'connecting' && st !== 'live')
		resumeIn();	// no stream for now: draw what there is
	if (st === 'live')
		pollSystem();
}

// The pill: "Live" only while events arrive. Connected, it says
// "Waiting for data" until the server has had an event, and "Stale" with
// the age of the last one after the server's stale notice (tf-serve
// --stale). Without a connection the page's data dims (body[data-conn]).
function drawConn() {
	const el = $('conn');
	let st = streamState, text = streamText;
	if (st === 'live') {
		if (!loaded) {
			st = 'connecting';
			text = 'Connecting…';
		} else if (!state.hasData) {
			st = 'waiting';
			text = 'Waiting for data';
		} else if (idleSince() !== null) {
			st = 'stale';
			text = `Stale · last event ${fmtDuration((performance.now() - idleSince()) / 1000)} ago`;
		} else {
			text = 'Live';
		}
	}
	if (el.dataset.state !== st)
		el.dataset.state = st;
	setText(el, text);
	el.title = st !== 'stale' ? '' : staleAt !== null ?
		'The server has had no input for a while: the figures may be old' :
		'No event for a while (the server does not tell): the figures may be old';
	// Connecting for the first time, there is nothing old to dim (and
	// body[data-conn] restyles the whole page: not in the first frames).
	const conn = streamState === 'live' ? 'up' :
		streamState === 'connecting' && !document.body.dataset.conn ? null : 'down';
	if (conn !== null && document.body.dataset.conn !== conn)
		document.body.dataset.conn = conn;
}

function onStale(m) {
	// Connected, but the server has had no input for m.idle seconds.
	staleAt = performance.now() - (isNum(m.idle) ? m.idle * 1000 : 0);
	drawConn();
}

// A connection's welcome: whether the server's input is stale, and since
// when, before the pill can say live.
function onWelcome(m) {
	const now = performance.now();
	welcomeSeq = isNum(m.seq) ? m.seq : null;
	serverStaleMs = isNum(m.stale_ms) && m.stale_ms >= 0 ? m.stale_ms : null;
	if (isNum(m.idle_ms) && m.idle_ms >= 0)
		lastEventAt = now - m.idle_ms;
	staleAt = m.stale === true ? lastEventAt !== null ? lastEventAt : now : null;
}

// Since when the input is stale (performance.now() of its last event), or
// null: the server's notice, else (the server's staleness off or unknown)
// no event for IDLE_MS.
function idleSince() {
	if (staleAt !== null)
		return staleAt;
	if (serverStaleMs || lastEventAt === null ||
	    performance.now() - lastEventAt < IDLE_MS)
		return null;
	return lastEventAt;
}

function drawMeta() {
	const bits = [];
	if (dash.lastSeq !== null)
		bits.push(`seq ${fmtCount(dash.lastSeq)}`);
	bits.push(`${fmtCount(rate)} ev/s`);
	setText($('stream-meta'), bits.join(' · '));
}

// ---- server figures ----------------------------------------------------------

let sysTimer = 0;
function pollSystem() {
	clearTimeout(sysTimer);
	// Without the stream the server is most likely out of reach too: no
	// request (a failed one is a console error in every browser); the
	// stream's return polls again.
	if (streamState !== 'live')
		return;
	getSystem().then((s) => panels.drawServer(s), () => {}).finally(() => {
		sysTimer = setTimeout(pollSystem, document.hidden ? SYSTEM_POLL_MS * 6 : SYSTEM_POLL_MS);
	});
}

// ---- bot controls ----------------------------------------------------------------

const CONFIRM = {
	stop: ['Stop the bot?', 'The engine is told to stop trading.', 'Stop the bot'],
	restart: ['Restart the bot?', 'The engine is told to stop, then to start again.',
		'Restart the bot'],
};

// Asks in the page's own dialog (no window.confirm: it blocks the page,
// and its events); resolves true for the OK button only.
function confirmAction(action) {
	const dlg = $('confirm');
	const [title, text, ok] = CONFIRM[action];
	setText($('confirm-title'), title);
	setText($('confirm-text'), text);
	setText($('confirm-ok'), ok);
	return new Promise((resolve) => {
		const done = (v) => {
			$('confirm-ok').onclick = $('confirm-cancel').onclick = null;
			dlg.onclose = null;
			if (dlg.open)
				dlg.close();
			resolve(v);
		};
		$('confirm-ok').onclick = () => done(true);
		$('confirm-cancel').onclick = () => done(false);
		// Escape. The close event of the dialog's last use can still be
		// queued when it is opened again (a quick second press): an
		// event that finds the dialog open is that old one.
		dlg.onclose = () => {
			if (!dlg.open)
				done(false);
		};
		dlg.showModal();
		$('confirm-cancel').focus();
	});
}

function wireControls() {
	const btns = ['start', 'stop', 'restart'].map((a) => $('bot-' + a));
	for (const btn of btns) {
		btn.addEventListener('click', async () => {
			const action = btn.id.slice(4);
			if (CONFIRM[action] && !(await confirmAction(action))) {
				btn.focus();
				return;
			}
			panels.busy = true;
			panels.drawBot(state);
			btn.setAttribute('aria-busy', 'true');
			setText($('control-error'), '');
			setText($('control-status'), `Sending ${action}…`);
			try {
				const r = await postControl(action);
				const at = isNum(r.ts) ? ' at ' + fmtTime(r.ts) : '';
				setText($('control-status'), `${action} sent${at}`);
			} catch (e) {
				setText($('control-status'), '');
				setText($('control-error'), `${action[0].toUpperCase() + action.slice(1)} failed: ${e.message}`);
			} finally {
				panels.busy = false;
				panels.drawBot(state);
				btn.removeAttribute('aria-busy');
			}
		});
	}
}

function wireView() {
	$('symbol').addEventListener('change', (ev) => {
		view.symbol = ev.target.value;
		drawQuote();
		makeCharts();
		showSeries();
	});
	for (const b of $('timeframe').querySelectorAll('button[data-tf]')) {
		b.addEventListener('click', () => {
			if (!(b.dataset.tf in TFS) || b.dataset.tf === view.tf)
				return;
			view.tf = b.dataset.tf;
			makeCharts();
			showSeries();
		});
	}
	$('alert-filter').addEventListener('change', (ev) => {
		panels.setAlertFilter(ev.target.value);
	});
	$('tz').addEventListener('click', () => {
		setSetting('tz', setting('tz') === 'local' ? 'utc' : 'local');
		drawTz();
		if (!loaded)
			return;
		panels.retime(state);
		if (priceChart)
			priceChart.retime();
		if (equityChart)
			equityChart.retime();
		if (profitCharts)
			profitCharts.retime();
		dirty.all = true;
		schedule();
	});
	drawTz();
	const addOverlay = () => {
		const kind = $('overlay-kind').value;
		const period = Math.round(Number($('overlay-period').value));
		if (!(period >= 2 && period <= 500) || (kind !== 'sma' && kind !== 'ema')) {
			$('overlay-period').setCustomValidity('A period from 2 to 500 candles');
			$('overlay-period').reportValidity();
			return;
		}
		$('overlay-period').setCustomValidity('');
		const list = setting('overlays').filter((o) => !(o.kind === kind && o.period === period));
		list.push({ kind, period });
		setOverlays(list.slice(-OVERLAYS));
	};
	$('overlay-add').addEventListener('click', addOverlay);
	$('overlay-period').addEventListener('keydown', (ev) => {
		if (ev.key === 'Enter')
			addOverlay();
	});
	drawOverlays();
	document.addEventListener('visibilitychange', () => {
		// A frame asked for just before the tab was hidden would only
		// come back with the tab: drain the queue on a timer meanwhile.
		if (document.hidden && scheduled)
			setTimeout(frame, 250);
		else if (!scheduled && queue.length)
			schedule();
	});
}

// ---- time zone and overlays ----------------------------------------------------

function drawTz() {
	const local = setting('tz') === 'local';
	const b = $('tz');
	setText(b, local ? 'Local' : 'UTC');
	b.setAttribute('aria-label', local ? 'Times in local time (switch to UTC)' :
		'Times in UTC (switch to local time)');
	b.dataset.tz = local ? 'local' : 'utc';
	for (const el of document.querySelectorAll('.tz-name'))
		setText(el, tzName());
}

const OVERLAYS = 4;	// moving averages on the chart at most

function setOverlays(list) {
	setSetting('overlays', list);
	if (priceChart)
		priceChart.setOverlays(list);
	drawOverlays();
}

function drawOverlays() {
	const list = setting('overlays');
	$('overlays').replaceChildren(...list.map((o, i) => {
		const name = `${o.kind.toUpperCase()} ${o.period}`;
		const rm = h('button', { type: 'button', class: 'overlay-rm',
			'aria-label': `Remove ${name}` }, '×');
		rm.addEventListener('click', () => setOverlays(list.filter((_, j) => j !== i)));
		return h('li', { class: 'overlay', dataset: { kind: o.kind, period: String(o.period) } },
			h('span', { class: 'overlay-swatch', dataset: { i: String(i) } }), name, rm);
	}));
}

// ---- start ---------------------------------------------------------------------------

// Panels away from the screen get .offscreen: their tables stop being
// scrollers (style.css), whose layers otherwise cost most of each frame
// at 1,000 events/s. They scroll again before they come into view, and
// stay in the page for the keyboard, find-in-page and screen readers.
function watchPanels() {
	if (typeof IntersectionObserver === 'undefined')
		return;
	const io = new IntersectionObserver((entries) => {
		for (const e of entries)
			e.target.classList.toggle('offscreen', !e.isIntersecting);
	}, { rootMargin: '0px' });
	for (const p of document.querySelectorAll('main > .panel'))
		io.observe(p);
}

async function start() {
	document.body.dataset.started = '1';	// the grid shows (style.css)
	panels = new Panels(state);
	watchPanels();
	dash.alerts = panels.alerts.stats;
	dash.chart = () => (priceChart ? priceChart.info() : null);
	const tf = new URLSearchParams(location.search).get('tf');
	if (tf in TFS)
		view.tf = tf;
	wireView();
	wireControls();
	stream = new Stream({
		position: () => ({ epoch: dash.epoch, seq: dash.lastSeq }),
		event: onEvent,
		gap: onGap,
		resuming: onResuming,
		resumed: onResumed,
		// A server that restarted answers the resume with a gap "epoch".
		welcome: onWelcome,
		stale: onStale,
		status: onStatus,
	});
	setInterval(() => {
		rate = rateCount;
		rateCount = 0;
		drawMeta();
		drawConn();	// the age of the last event, or it turns stale
		if (loaded)
			panels.tick(state);
	}, 1000);

	// The first snapshot, retried with the stream's backoff until it comes.
	const backoff = [1, 2, 4, 8, 16];
	for (let attempt = 0; ; attempt++) {
		try {
			await loadSnapshot(true);
			break;
		} catch (e) {
			const el = $('conn');
			if (e.status === 401 || e.status === 403) {
				el.dataset.state = 'offline';
				setText(el, e.status === 401 ? 'Token missing or wrong' : 'Origin not allowed');
				console.warn(`tf: snapshot refused: ${e.message}`);
				return;
			}
			let left = backoff[Math.min(attempt, backoff.length - 1)];
			el.dataset.state = 'reconnecting';
			while (left > 0) {
				setText(el, `Reconnecting in ${left} s`);
				await new Promise((r) => setTimeout(r, 1000));
				left--;
			}
			el.dataset.state = 'connecting';
			setText(el, 'Connecting…');
		}
	}
}

start();
