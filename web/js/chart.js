// chart.js: the price chart (candles, volume or tick-count bars, trade and
// pattern markers, price lines, moving averages and the strategy's own
// indicators), the equity curve and the profit charts, all on
// lightweight-charts. Each draw() is called at most once per animation
// frame and touches only what changed.

import {
	createChart, CandlestickSeries, LineSeries, HistogramSeries, BaselineSeries,
	createSeriesMarkers,
} from '/vendor/lightweight-charts.mjs';
import {
	isNum, priceDecimals, tsMs, fmtPrice, fmtPct, fmtSigned, fmtNum, fmtCount, fmtQty,
	fmtMoney, fmtPnl, fmtDateTime, fmtAxis, setText,
} from './util.js';

const UP = '#26a69a', DOWN = '#ef5350', ACCENT = '#4c8dff', AMBER = '#f0b429';
// Moving averages, then the strategy's indicators, take colours in turn.
export const OVERLAY_COLORS = ['#e5c07b', '#c678dd', '#56b6c2', '#f78c6c'];
const INDICATOR_COLORS = ['#98c379', '#d19a66', '#61afef', '#e06c75', '#abb2bf',
	'#be5046', '#7ec699', '#ff9e64'];
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const FONT_SIZE = 11;
// A price label is this tall on the axis: two closer than this overlap.
const LABEL_PX = FONT_SIZE + 8;
// Markers closer than this (pixels) are merged into one.
const MARK_PX = 14;
// The latest pattern's name keeps this far (pixels) from the price lines'
// titles and from the pane's edges.
const NAME_GAP = 6;
// On load and on a timeframe change the chart shows at most this many of
// the newest candles, all of them when there are fewer.
const FIT_BARS = 150;

const TICK_KINDS = ['year', 'month', 'day', 'minutes', 'seconds'];

function timeOptions() {
	return {
		localization: {
			// The crosshair's time: always with its date.
			timeFormatter: (t) => (typeof t === 'number' ? fmtDateTime(t * 1000) :
				typeof t === 'string' ? t : `${t.year}-${String(t.month).padStart(2, '0')}-` +
				String(t.day).padStart(2, '0')),
		},
		timeScale: {
			tickMarkFormatter: (t, kind) => {
				if (typeof t !== 'number') {
					const d = typeof t === 'string' ? t.split('-') :
						[t.year, t.month, t.day].map((x) => String(x).padStart(2, '0'));
					return kind === 0 ? d[0] : `${d[1]}-${d[2]}`;
				}
				return fmtAxis(t, TICK_KINDS[kind] || 'minutes');
			},
		},
	};
}

function baseOptions() {
	const t = timeOptions();
	return {
		autoSize: true,
		layout: {
			background: { color: 'transparent' },
			textColor: '#8b94a7',
			fontFamily: FONT,
			fontSize: FONT_SIZE,
			// The logo injects a <style> element (refused by the CSP);
			// the page credits TradingView in its footer instead.
			attributionLogo: false,
		},
		grid: {
			vertLines: { color: 'rgba(42, 50, 64, 0.45)' },
			horzLines: { color: 'rgba(42, 50, 64, 0.45)' },
		},
		rightPriceScale: { borderColor: '#262d3a' },
		timeScale: Object.assign({ borderColor: '#262d3a', timeVisible: true,
			secondsVisible: true }, t.timeScale),
		localization: t.localization,
		crosshair: {
			vertLine: { color: '#5a6478', labelBackgroundColor: '#2a3242' },
			horzLine: { color: '#5a6478', labelBackgroundColor: '#2a3242' },
		},
	};
}

const toSec = (ms) => Math.floor(ms / 1000);
const bar = (c) => ({ time: toSec(c.t), open: c.o, high: c.h, low: c.l, close: c.c });

// Index of the first candle of a starting at or after ms (a.length when
// none does).
function candleFrom(a, ms) {
	let lo = 0, hi = a.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (a[mid].t < ms)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

// Simple and exponential moving averages of closes, from index `from` on
// (vals holds the earlier ones): null until `period` candles exist.
function movingAverage(kind, period, a, vals, from) {
	vals.length = a.length;
	const k = 2 / (period + 1);
	for (let i = from; i < a.length; i++) {
		if (i + 1 < period) {
			vals[i] = null;
			continue;
		}
		if (kind === 'ema' && i + 1 > period && isNum(vals[i - 1])) {
			vals[i] = vals[i - 1] + k * (a[i].c - vals[i - 1]);
			continue;
		}
		// The SMA, and the EMA's seed: the mean of the first period.
		let s = 0;
		for (let j = i - period + 1; j <= i; j++)
			s += a[j].c;
		vals[i] = s / period;
	}
	return vals;
}

// Width in pixels of a marker's text in the chart's font.
let measureCtx = null;
function textWidth(s) {
	if (!measureCtx) {
		measureCtx = document.createElement('canvas').getContext('2d');
		measureCtx.font = `${FONT_SIZE}px ${FONT}`;
	}
	return measureCtx.measureText(s).width;
}

// Width of a price line's title as lightweight-charts draws it in the
// pane, against the price axis: its text, a 1 px border and, on each
// side, padding of 5/12 of the font size.
const titleWidth = (s) => Math.ceil(textWidth(s)) + 1 + 2 * FONT_SIZE / 12 * 5;

// s cut short with "…" to at most px wide: s itself when it fits, '' when
// fewer than 4 of its characters would.
function fitText(s, px) {
	if (textWidth(s) <= px)
		return s;
	let lo = 0, hi = s.length;	// the longest prefix that fits
	while (lo < hi) {
		const mid = (lo + hi + 1) >> 1;
		if (textWidth(s.slice(0, mid) + '…') <= px)
			lo = mid;
		else
			hi = mid - 1;
	}
	const cut = s.slice(0, lo).trimEnd();
	return cut.length >= 4 ? cut + '…' : '';
}

export class PriceChart {
	// el: the chart's container; legend: where the OHLC and change of the
	// candle under the crosshair (else the last one) is written;
	// volLabel: says whether the bars are volume or tick counts.
	constructor(el, legend, volLabel) {
		this.el = el;
		this.legend = legend;
		this.volLabel = volLabel;
		this.hover = null;	// the time (s) under the crosshair
		const opts = baseOptions();
		opts.timeScale.rightOffset = 6;
		opts.timeScale.maxBarSpacing = 40;
		opts.localization.priceFormatter = (p) => fmtPrice(p, this.decimals < 0 ? undefined : this.decimals);
		this.chart = createChart(el, opts);
		this.candles = this.chart.addSeries(CandlestickSeries, {
			upColor: UP, downColor: DOWN, borderUpColor: UP, borderDownColor: DOWN,
			wickUpColor: UP, wickDownColor: DOWN,
		});
		this.bars = this.chart.addSeries(HistogramSeries, {
			priceScaleId: 'vol', priceFormat: { type: 'volume' },
			lastValueVisible: false, priceLineVisible: false,
		});
		this.chart.priceScale('vol').applyOptions({ scaleMargins: { top: 0.85, bottom: 0 } });
		// Room above and below the candles for markers and their names.
		this.candles.priceScale().applyOptions({ scaleMargins: { top: 0.12, bottom: 0.2 } });
		this.markers = createSeriesMarkers(this.candles, []);
		this.chart.subscribeCrosshairMove((param) => {
			const d = param && param.seriesData ? param.seriesData.get(this.candles) : null;
			this.hover = d && isNum(d.open) ? param.time : null;
			this.drawLegend();
		});
		// Zooming changes how dense the markers are and where the price
		// lines' labels fall: both are looked at again, once a frame.
		this.chart.timeScale().subscribeVisibleLogicalRangeChange(() => this.later());
		new ResizeObserver(() => {
			this.resized++;
			this.later();
		}).observe(el);
		this.resized = 0;	// ResizeObserver calls so far
		this.nowKey = '';	// where the back-to-now button was placed for
		// Shown once the trader has scrolled away from the newest candles
		// (as on TradingView): back to them, at the same zoom, and the
		// room for the latest pattern's name is made again.
		this.nowBtn = el.parentElement.querySelector('.chart-now');
		if (this.nowBtn)
			this.nowBtn.addEventListener('click', () => {
				this.chart.timeScale().scrollToRealTime();
				this.later();
			});
		this.lines = [];	// {line, name, price, rank}
		this.overlays = [];	// {kind, period, series, vals}
		this.indicators = new Map();	// name -> {series, color}
		this.symbol = null;
		this.tf = null;
		this.series = null;	// the state's Series drawn
		this.state = null;
		this.drawnReset = -1;
		this.drawnT = null;	// start of the last candle drawn
		this.drawnLen = 0;
		this.updates = 0;	// update() calls since the last setData
		this.decimals = -1;
		this.markKey = '';
		this.lineKey = '';
		this.thin = 1;		// candles per marker bucket
		this.laterDue = false;
		this.volumeMode = '';
		this.named = '';	// the latest pattern's name
		this.nameShown = '';	// as drawn: whole, shortened or ''
		this.namedObj = null;	// {time, text, mark} of that pattern
		this.marks = [];	// the markers, names whole
		this.marksSeen = null;	// the marks showMarks last looked at
	}

	// Shows another series; the next draw() draws it whole and fits it.
	show(symbol, tf, series) {
		this.symbol = symbol;
		this.tf = tf;
		this.series = series;
		this.drawnReset = -1;
		this.markKey = this.lineKey = '';
		this.marks = [];
		this.namedObj = null;
		this.el.dataset.symbol = symbol || '';
		this.el.dataset.tf = tf;
		this.fresh = true;
		if (!series) {
			this.candles.setData([]);
			this.bars.setData([]);
			for (const o of this.overlays)
				o.series.setData([]);
			for (const [, ind] of this.indicators)
				this.chart.removeSeries(ind.series);
			this.indicators.clear();
			this.markers.setMarkers([]);
			this.setLines([]);
		}
	}

	// [{kind, period}]: the moving averages to draw.
	setOverlays(list) {
		for (const o of this.overlays)
			this.chart.removeSeries(o.series);
		this.overlays = list.map((o, i) => ({
			kind: o.kind, period: o.period, vals: [],
			series: this.chart.addSeries(LineSeries, {
				color: OVERLAY_COLORS[i % OVERLAY_COLORS.length], lineWidth: 1.5,
				priceLineVisible: false, lastValueVisible: false,
				crosshairMarkerVisible: false, title: '',
			}),
		}));
		this.el.dataset.overlays = list.map((o) => o.kind + o.period).join(' ');
		if (this.series)
			this.drawOverlays(this.series.candles, 0, true);
		this.drawLegend();
	}

	// Times shown again in the zone chosen.
	retime() {
		this.chart.applyOptions(timeOptions());
		this.drawLegend();
	}

	// Draws what changed in the series, and the markers of trades and
	// patterns (the state's lists for this symbol).
	draw(state, marksChanged) {
		this.state = state;
		const s = this.series;
		if (!s)
			return;
		const a = s.candles;
		this.setVolumeMode(s.volume ? 'volume' : 'ticks');
		if (s.reset !== this.drawnReset || this.updates > 2000) {
			this.candles.setData(a.map(bar));
			this.bars.setData(a.map((c) => this.volBar(c)));
			this.drawOverlays(a, 0, true);
			this.drawIndicators(state, a, 0, true);
			this.drawnReset = s.reset;
			this.updates = 0;
			marksChanged = true;
			if (this.fresh && a.length) {
				this.fresh = false;
				this.fit(a.length);
			}
		} else if (a.length) {
			// Only the end moved: update from the last candle drawn on.
			let i = a.length - 1;
			while (i > 0 && a[i - 1].t >= this.drawnT)
				i--;
			const from = i;
			for (; i < a.length; i++) {
				this.candles.update(bar(a[i]));
				this.bars.update(this.volBar(a[i]));
				this.updates++;
			}
			this.drawOverlays(a, from, false);
			this.drawIndicators(state, a, from, false);
		}
		this.drawnT = a.length ? a[a.length - 1].t : null;
		this.drawnLen = a.length;
		this.el.dataset.candles = String(a.length);
		if (a.length) {
			const d = priceDecimals(a[a.length - 1].c);
			if (d !== this.decimals) {
				this.decimals = d;
				this.candles.applyOptions({
					priceFormat: { type: 'price', precision: d, minMove: 10 ** -d },
				});
			}
		}
		if (marksChanged)
			this.drawMarks(state, a);
		this.drawLines(state);
		// New prices move the price scale: the labels are placed again.
		this.later();
		if (this.hover === null)
			this.drawLegend();
	}

	// The newest FIT_BARS candles fill the width (all when fewer), with
	// the right offset's room for the newest one's marker.
	fit(n) {
		const ts = this.chart.timeScale();
		if (n <= FIT_BARS) {
			ts.fitContent();
			return;
		}
		ts.setVisibleLogicalRange({ from: n - FIT_BARS, to: n - 1 + ts.options().rightOffset });
	}

	setVolumeMode(mode) {
		if (mode === this.volumeMode)
			return;
		this.volumeMode = mode;
		this.drawnReset = -1;	// every bar again, the other way
		this.el.dataset.volume = mode;
		if (this.volLabel) {
			setText(this.volLabel, mode === 'volume' ? 'Volume' : 'Ticks (the events carry no volume)');
			this.volLabel.dataset.mode = mode;
		}
	}

	volBar(c) {
		const v = this.volumeMode === 'volume' ? (isNum(c.v) ? c.v : 0) : (isNum(c.n) ? c.n : 0);
		return {
			time: toSec(c.t), value: v,
			color: c.c >= c.o ? 'rgba(38, 166, 154, 0.35)' : 'rgba(239, 83, 80, 0.35)',
		};
	}

	drawOverlays(a, from, whole) {
		for (const o of this.overlays) {
			movingAverage(o.kind, o.period, a, o.vals, whole ? 0 : from);
			if (whole) {
				const pts = [];
				for (let i = 0; i < a.length; i++)
					if (isNum(o.vals[i]))
						pts.push({ time: toSec(a[i].t), value: o.vals[i] });
				o.series.setData(pts);
			} else {
				for (let i = from; i < a.length; i++)
					if (isNum(o.vals[i]))
						o.series.update({ time: toSec(a[i].t), value: o.vals[i] });
			}
		}
	}

	// The strategy's own indicators (price events' "indicators" field),
	// one line each, on the price scale.
	drawIndicators(state, a, from, whole) {
		const names = state.indicators.get(this.symbol);
		if (whole) {
			for (const [, ind] of this.indicators)
				this.chart.removeSeries(ind.series);
			this.indicators.clear();
		}
		if (!names)
			return;
		for (const name of names) {
			let ind = this.indicators.get(name);
			let start = from;
			if (!ind) {
				ind = {
					series: this.chart.addSeries(LineSeries, {
						color: INDICATOR_COLORS[this.indicators.size % INDICATOR_COLORS.length],
						lineWidth: 1, lineStyle: 0, priceLineVisible: false,
						lastValueVisible: false, crosshairMarkerVisible: false,
					}),
				};
				this.indicators.set(name, ind);
				start = 0;
				const pts = [];
				for (const c of a)
					if (c.x && isNum(c.x[name]))
						pts.push({ time: toSec(c.t), value: c.x[name] });
				ind.series.setData(pts);
				continue;
			}
			for (let i = start; i < a.length; i++)
				if (a[i].x && isNum(a[i].x[name]))
					ind.series.update({ time: toSec(a[i].t), value: a[i].x[name] });
		}
		this.el.dataset.indicators = [...this.indicators.keys()].join(' ');
	}

	// The candle at time t (seconds), and the one before it.
	candleAt(t) {
		const a = this.series ? this.series.candles : [];
		if (t === null) {
			return [a[a.length - 1] || null, a[a.length - 2] || null];
		}
		const ms = t * 1000;
		let lo = 0, hi = a.length - 1;
		while (lo <= hi) {
			const mid = (lo + hi) >> 1;
			if (a[mid].t === ms)
				return [a[mid], a[mid - 1] || null];
			if (a[mid].t < ms)
				lo = mid + 1;
			else
				hi = mid - 1;
		}
		return [null, null];
	}

	// O H L C, the change from the previous candle's close (from its
	// own open for the first), and its volume or tick count.
	drawLegend() {
		const el = this.legend;
		if (!el)
			return;
		const [c, prev] = this.candleAt(this.hover);
		if (!c) {
			setText(el, '');
			el.classList.remove('pos', 'neg');
			return;
		}
		const d = this.decimals < 0 ? undefined : this.decimals;
		const base = prev ? prev.c : c.o;
		const ch = c.c - base;
		const pct = base ? ch / base * 100 : null;
		const vol = this.volumeMode === 'volume' ? `Vol ${fmtQty(c.v)}` :
			`${fmtCount(c.n)} ticks`;
		const bits = [`O ${fmtPrice(c.o, d)}  H ${fmtPrice(c.h, d)}  L ${fmtPrice(c.l, d)}  C ${fmtPrice(c.c, d)}`,
			`${fmtSigned(ch, d === undefined ? priceDecimals(c.c) : d)} (${fmtPct(pct)})`, vol];
		for (const o of this.overlays) {
			const i = this.series.candles.indexOf(c);
			const v = o.vals[i];
			bits.push(`${o.kind.toUpperCase()} ${o.period} ${isNum(v) ? fmtPrice(v, d) : '—'}`);
		}
		if (c.x)
			for (const k in c.x)
				bits.push(`${k} ${fmtNum(c.x[k], 0, 4)}`);
		setText(el, bits.join('  ·  '));
		el.dataset.change = isNum(pct) ? pct.toFixed(4) : '';
		el.classList.toggle('pos', ch > 0);
		el.classList.toggle('neg', ch < 0);
	}

	// What the tests measure of the chart: the visible range, the bar
	// spacing, where the named pattern marker stands and how wide its
	// name is, the price labels placed.
	info() {
		const ts = this.chart.timeScale();
		const r = ts.getVisibleLogicalRange();
		const o = ts.options();
		const a = this.series ? this.series.candles : [];
		const out = {
			from: r ? r.from : null, to: r ? r.to : null, candles: a.length,
			spacing: o.barSpacing, rightOffset: o.rightOffset, width: ts.width(),
			named: this.named, nameShown: this.nameShown, namedX: null,
			namedWidth: textWidth(this.nameShown), font: `${FONT_SIZE}px ${FONT}`,
			labels: JSON.parse(this.el.dataset.labels || '[]'), x: [],
		};
		if (this.namedTime !== undefined && this.namedTime !== null)
			out.namedX = ts.timeToCoordinate(this.namedTime);
		for (const c of a)
			out.x.push(ts.timeToCoordinate(toSec(c.t)));
		out.markX = (this.markTimes || []).map((t) => ts.timeToCoordinate(t));
		return out;
	}

	// Once in the next frame: markers thinned for the zoom, and price
	// labels that would overlap hidden.
	later() {
		if (this.laterDue)
			return;
		this.laterDue = true;
		requestAnimationFrame(() => {
			this.laterDue = false;
			if (!this.series || !this.state)
				return;
			if (this.thinFor() !== this.thin)
				this.drawMarks(this.state, this.series.candles);
			this.placeLabels();
			this.showNow();
		});
	}

	// The back-to-now button, while the view is not at the newest candles
	// (a bar or more away from where the right offset puts them).
	showNow() {
		if (!this.nowBtn)
			return;
		const ts = this.chart.timeScale();
		const away = this.series.candles.length > 0 &&
			Math.abs(ts.scrollPosition() - ts.options().rightOffset) >= 1;
		if (this.nowBtn.hidden === away)
			this.nowBtn.hidden = !away;
		if (!away)
			return;
		// Over the pane's bottom right corner, clear of both scales:
		// placed again when the chart or its price scale changes size.
		const psw = this.chart.priceScale('right').width();
		const key = `${psw}:${this.resized}`;
		if (key === this.nowKey)
			return;
		this.nowKey = key;
		const b = this.nowBtn.style;
		b.right = `${psw + 8}px`;
		b.top = `${this.el.offsetTop + this.el.clientHeight - ts.height() -
			this.nowBtn.offsetHeight - 8}px`;
	}

	// Candles per marker bucket at the current zoom.
	thinFor() {
		const spacing = this.chart.timeScale().options().barSpacing;
		return Math.max(1, Math.ceil(MARK_PX / Math.max(0.5, spacing)));
	}

	// One marker per bucket and kind: buys (arrow up, with their count
	// when several), sells (arrow down), patterns (a dot; the latest is
	// named). A bucket is one candle, or several when the candles are
	// too close on the screen for a marker each.
	drawMarks(state, a) {
		const sym = this.symbol;
		const first = a.length ? a[0].t : Infinity;
		const period = this.series.period;
		this.thin = this.thinFor();
		const width = period * this.thin;
		const bucket = (ms) => Math.floor(ms / period) * period;
		// Buckets count from the first candle, so they do not move as
		// new candles arrive.
		const group = (ms) => first + Math.floor((bucket(ms) - first) / width) * width;
		const trades = state.trades_of(sym), patterns = state.patterns_of(sym);
		const latest = patterns[patterns.length - 1];
		const per = new Map();	// bucket -> {buy, sell, pat, bear, named, t}
		const at = (ms) => {
			const g = group(ms);
			let m = per.get(g);
			if (!m) {
				m = { buy: 0, sell: 0, pat: 0, bear: false, named: '', t: bucket(ms) };
				per.set(g, m);
			}
			// The marker stands on the group's newest candle with one.
			if (bucket(ms) > m.t)
				m.t = bucket(ms);
			return m;
		};
		for (const t of trades) {
			const ms = tsMs(t.ts);
			if (ms === null || bucket(ms) < first)
				continue;
			if (t.side === 'buy')
				at(ms).buy++;
			else if (t.side === 'sell')
				at(ms).sell++;
		}
		for (const p of patterns) {
			const ms = tsMs(p.ts);
			if (ms === null || bucket(ms) < first)
				continue;
			const m = at(ms);
			m.pat++;
			m.bear = p.direction === 'bearish' ||
				(isNum(p.target) && isNum(p.entry) && p.target < p.entry);
			if (p === latest)
				m.named = String(p.pattern || 'pattern').replace(/_/g, ' ');
		}
		const marks = [];
		const count = (n) => (n > 1 ? String(n) : '');
		let named = null;
		// A candle's time: the marker's, or the next one when no tick
		// made a candle at its time (where lightweight-charts would
		// draw it), or the last one.
		const last = a.length - 1;
		for (const [, m] of [...per.entries()].sort((x, y) => x[0] - y[0])) {
			const time = toSec(a[Math.min(candleFrom(a, m.t), last)].t);
			if (m.buy)
				marks.push({ time, position: 'belowBar', shape: 'arrowUp', color: UP, text: count(m.buy) });
			if (m.sell)
				marks.push({ time, position: 'aboveBar', shape: 'arrowDown', color: DOWN, text: count(m.sell) });
			if (m.pat) {
				const mark = {
					time, position: m.bear ? 'aboveBar' : 'belowBar', shape: 'circle',
					color: AMBER, text: m.named,
				};
				marks.push(mark);
				if (m.named)
					named = { time, text: m.named, mark };
			}
		}
		marks.sort((x, y) => x.time - y.time);
		this.marks = marks;
		this.el.dataset.markers = String(marks.length);
		this.markTimes = [...new Set(marks.map((k) => k.time))];
		this.el.dataset.thin = String(this.thin);
		this.keepNameInView(named, a);
		this.showMarks();
	}

	// Sets the markers, the latest pattern's name as it fits where its
	// candle stands now; only when something in them changed.
	showMarks() {
		const n = this.namedObj;
		const shown = n ? this.fitName(n) : '';
		if (this.marks === this.marksSeen && shown === this.nameShown)
			return;	// every frame after a draw: mostly nothing new
		this.marksSeen = this.marks;
		this.nameShown = shown;
		const marks = this.marks.map((k) => (n && k === n.mark ?
			Object.assign({}, k, { text: this.nameShown }) : k));
		const key = this.thin + ':' + marks.map((k) => k.time + k.shape + k.text).join(',');
		if (key !== this.markKey) {
			this.markKey = key;
			this.markers.setMarkers(marks);
		}
	}

	// The name, centred on its candle, ends before the price lines'
	// titles and inside the pane, or is cut short to: once scrolled or
	// zoomed, the room keepNameInView made may be gone.
	fitName(n) {
		const ts = this.chart.timeScale();
		const x = ts.timeToCoordinate(n.time);
		if (x === null)
			return '';
		const right = ts.width() - this.titlesWidth() - NAME_GAP;
		return fitText(n.text, 2 * Math.min(x - NAME_GAP, right - x));
	}

	// The widest title of the price lines shown.
	titlesWidth() {
		return Math.max(0, ...this.lines.filter((l) => l.shown).map((l) => titleWidth(l.name)));
	}

	// The latest pattern's name is centred on its candle: the newest
	// candles get enough room on the right for it to show whole, while
	// the chart stands where it was put (loaded, fitted). Once the
	// trader has scrolled or zoomed, the view is theirs: a new pattern
	// or candle does not pull it back, and fitName shortens the name.
	keepNameInView(named, a) {
		const ts = this.chart.timeScale();
		let offset = 6;
		this.namedObj = named;
		this.named = named ? named.text : '';
		this.namedTime = named ? named.time : null;
		this.el.dataset.named = this.named;
		if (named && a.length) {
			const spacing = ts.options().barSpacing;
			// Candles after the named one, counted, not timed: a period
			// without ticks has no candle and takes no room.
			const behind = Math.max(0, a.length - 1 - candleFrom(a, named.time * 1000));
			// Clear of the price lines' titles too, drawn at the
			// pane's right edge.
			const need = Math.ceil((textWidth(named.text) / 2 + NAME_GAP + this.titlesWidth()) /
				spacing) - behind;
			offset = Math.max(offset, Math.min(60, need));
		}
		const put = ts.options().rightOffset;
		if (put !== offset && Math.abs(ts.scrollPosition() - put) < 0.5)
			ts.applyOptions({ rightOffset: offset });
	}

	// The price lines: the open position's average entry and stop, and
	// the latest pattern's entry, target and stop.
	drawLines(state) {
		const sym = this.symbol;
		const pats = state.patterns_of(sym);
		const p = pats[pats.length - 1];
		const pos = state.trading ? state.trading.positions.find((x) => x.symbol === sym) : null;
		const want = [];
		if (pos) {
			want.push({ name: `${pos.side === 'short' ? 'short' : 'long'} entry`, price: pos.avg_entry,
				color: ACCENT, style: 0, rank: 1 });
			if (isNum(pos.stop))
				want.push({ name: 'pos stop', price: pos.stop, color: DOWN, style: 0, rank: 2 });
		}
		if (p) {
			want.push({ name: 'entry', price: p.entry, color: ACCENT, style: 2, rank: 3 });
			want.push({ name: 'target', price: p.target, color: UP, style: 2, rank: 4 });
			want.push({ name: 'stop', price: p.stop, color: DOWN, style: 2, rank: 5 });
		}
		const ok = want.filter((w) => isNum(w.price));
		const key = ok.map((w) => w.name + w.price).join('|');
		if (key === this.lineKey)
			return;
		this.lineKey = key;
		this.setLines(ok);
	}

	setLines(list) {
		for (const l of this.lines)
			this.candles.removePriceLine(l.line);
		this.lines = list.map((w) => ({
			name: w.name, price: w.price, rank: w.rank, shown: true,
			line: this.candles.createPriceLine({
				price: w.price, title: w.name, color: w.color, lineWidth: 1,
				lineStyle: w.style, axisLabelVisible: true,
			}),
		}));
		this.later();
	}

	// Labels on the price axis never overlap: the last price's label
	// always shows, then the lines by rank; a line whose label would
	// touch one already placed keeps its line but loses its label and
	// title, and its price is written under the chart instead. A label
	// may cover one of the axis's tick prices, as on TradingView: the
	// level is what the trader reads there, the ticks are the scale.
	placeLabels() {
		const placed = [];
		const a = this.series ? this.series.candles : [];
		const last = a.length ? a[a.length - 1].c : null;
		if (isNum(last)) {
			const y = this.candles.priceToCoordinate(last);
			if (y !== null)
				placed.push({ name: 'last', y });
		}
		const hidden = [];
		for (const l of this.lines.slice().sort((x, y) => x.rank - y.rank)) {
			const y = this.candles.priceToCoordinate(l.price);
			const clash = y === null || placed.some((p) => Math.abs(p.y - y) < LABEL_PX);
			if (clash)
				hidden.push(l);
			else
				placed.push({ name: l.name, y });
			if (l.shown === clash) {
				l.shown = !clash;
				l.line.applyOptions({ axisLabelVisible: !clash, title: clash ? '' : l.name });
			}
		}
		this.el.dataset.labels = JSON.stringify(placed.map((p) => [p.name, Math.round(p.y)]));
		// The titles shown decide the room the pattern's name needs,
		// and how much of it fits where it stands.
		if (this.namedObj)
			this.keepNameInView(this.namedObj, a);
		this.showMarks();
		const note = this.el.parentElement.querySelector('.levels');
		if (note) {
			const d = this.decimals < 0 ? undefined : this.decimals;
			setText(note, hidden.map((l) => `${l.name} ${fmtPrice(l.price, d)}`).join(' · '));
		}
	}
}

export class EquityChart {
	constructor(el) {
		this.el = el;
		const opts = baseOptions();
		opts.localization.priceFormatter = (p) => fmtMoney(p);
		opts.rightPriceScale.scaleMargins = { top: 0.12, bottom: 0.08 };
		opts.handleScroll = false;
		opts.handleScale = false;
		this.chart = createChart(el, opts);
		this.line = this.chart.addSeries(LineSeries, {
			color: ACCENT, lineWidth: 2, priceLineVisible: false,
			priceFormat: { type: 'price', precision: 2, minMove: 0.01 },
		});
		this.version = -1;
		this.added = 0;
		this.lastTime = null;
		this.updates = 0;
	}

	retime() {
		this.chart.applyOptions(timeOptions());
	}

	// Draws the equity list's new points (one per second: the last wins).
	draw(list) {
		const items = list.items;
		const fresh = list.added - this.added;
		if (list.version !== this.version || fresh > items.length || this.updates > 1000) {
			const pts = [];
			for (const [ms, v] of items) {
				const t = toSec(ms);
				if (pts.length && pts[pts.length - 1].time >= t) {
					if (pts[pts.length - 1].time === t)
						pts[pts.length - 1].value = v;
					continue;
				}
				pts.push({ time: t, value: v });
			}
			this.line.setData(pts);
			this.lastTime = pts.length ? pts[pts.length - 1].time : null;
			this.version = list.version;
			this.updates = 0;
			if (pts.length)
				this.chart.timeScale().fitContent();
		} else {
			for (let i = items.length - fresh; i < items.length; i++) {
				const t = toSec(items[i][0]);
				if (this.lastTime !== null && t < this.lastTime)
					continue;	// out of order: dropped from the curve
				this.line.update({ time: t, value: items[i][1] });
				this.lastTime = t;
				this.updates++;
			}
			if (fresh > 0)
				this.chart.timeScale().fitContent();
		}
		this.added = list.added;
		this.el.dataset.points = String(items.length);
	}
}

// The profit panel's two charts: realized P&L per day (bars, green up,
// red down) and the cumulative realized P&L, both as the server sent them.
export class ProfitCharts {
	constructor(dailyEl, cumEl) {
		this.dailyEl = dailyEl;
		this.cumEl = cumEl;
		const opts = () => {
			const o = baseOptions();
			o.localization.priceFormatter = (p) => fmtPnl(p);
			o.rightPriceScale.scaleMargins = { top: 0.1, bottom: 0.1 };
			o.handleScroll = false;
			o.handleScale = false;
			return o;
		};
		const d = opts();
		d.timeScale.timeVisible = false;
		// A few days are bars, not blocks across the whole width.
		d.timeScale.maxBarSpacing = 48;
		this.daily = createChart(dailyEl, d);
		this.bars = this.daily.addSeries(HistogramSeries, {
			priceLineVisible: false, lastValueVisible: false,
			priceFormat: { type: 'price', precision: 2, minMove: 0.01 },
			base: 0,
		});
		this.cum = createChart(cumEl, opts());
		this.line = this.cum.addSeries(BaselineSeries, {
			baseValue: { type: 'price', price: 0 }, lineWidth: 2,
			topLineColor: UP, topFillColor1: 'rgba(38, 166, 154, 0.25)',
			topFillColor2: 'rgba(38, 166, 154, 0.02)',
			bottomLineColor: DOWN, bottomFillColor1: 'rgba(239, 83, 80, 0.02)',
			bottomFillColor2: 'rgba(239, 83, 80, 0.25)',
			priceLineVisible: false,
			priceFormat: { type: 'price', precision: 2, minMove: 0.01 },
		});
		this.key = '';
	}

	retime() {
		this.daily.applyOptions(timeOptions());
		this.cum.applyOptions(timeOptions());
	}

	draw(state) {
		const p = state.trading ? state.trading.profit : null;
		const daily = p ? p.daily.filter((d) => typeof d.day === 'string' &&
			/^\d{4}-\d{2}-\d{2}$/.test(d.day) && isNum(d.pnl)) : [];
		const cum = p ? p.cumulative : [];
		const last = cum[cum.length - 1];
		const key = `${daily.length}|${daily.length ? daily[daily.length - 1].pnl : ''}|` +
			`${cum.length}|${last ? last.join(',') : ''}`;
		if (key === this.key)
			return;
		this.key = key;
		daily.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
		this.bars.setData(daily.map((d) => ({
			time: d.day, value: d.pnl, color: d.pnl >= 0 ? UP : DOWN,
		})));
		const pts = [];
		for (const [ms, v] of cum) {
			const t = toSec(ms);
			if (pts.length && pts[pts.length - 1].time >= t) {
				if (pts[pts.length - 1].time === t)
					pts[pts.length - 1].value = v;
				continue;
			}
			pts.push({ time: t, value: v });
		}
		this.line.setData(pts);
		if (daily.length)
			this.daily.timeScale().fitContent();
		if (pts.length)
			this.cum.timeScale().fitContent();
		this.dailyEl.dataset.days = String(daily.length);
		this.dailyEl.dataset.bars = JSON.stringify(daily.map((d) => [d.day, d.pnl]));
		this.cumEl.dataset.points = String(pts.length);
		this.cumEl.dataset.last = pts.length ? String(pts[pts.length - 1].value) : '';
		this.dailyEl.nextElementSibling.hidden = daily.length > 0;
		this.cumEl.nextElementSibling.hidden = pts.length > 0;
	}
}
