// chart.js: the price chart (candles, tick-count histogram, trade and
// pattern markers, the latest pattern's entry/target/stop lines) and the
// equity curve, both on lightweight-charts. Each draw() is called at most
// once per animation frame and touches only what changed.

import {
	createChart, CandlestickSeries, LineSeries, HistogramSeries,
	createSeriesMarkers,
} from '/vendor/lightweight-charts.mjs';
import { isNum, priceDecimals, tsMs, fmtPrice } from './util.js';

const UP = '#26a69a', DOWN = '#ef5350', ACCENT = '#4c8dff', AMBER = '#f0b429';
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

function baseOptions() {
	return {
		autoSize: true,
		layout: {
			background: { color: 'transparent' },
			textColor: '#8b94a7',
			fontFamily: FONT,
			fontSize: 11,
			// The logo injects a <style> element (refused by the CSP);
			// the page credits TradingView in its footer instead.
			attributionLogo: false,
		},
		grid: {
			vertLines: { color: 'rgba(42, 50, 64, 0.45)' },
			horzLines: { color: 'rgba(42, 50, 64, 0.45)' },
		},
		rightPriceScale: { borderColor: '#262d3a' },
		timeScale: { borderColor: '#262d3a', timeVisible: true, secondsVisible: true },
		crosshair: {
			vertLine: { color: '#5a6478', labelBackgroundColor: '#2a3242' },
			horzLine: { color: '#5a6478', labelBackgroundColor: '#2a3242' },
		},
	};
}

const toSec = (ms) => Math.floor(ms / 1000);
const bar = (c) => ({ time: toSec(c.t), open: c.o, high: c.h, low: c.l, close: c.c });
const vol = (c) => ({
	time: toSec(c.t), value: isNum(c.n) ? c.n : 0,
	color: c.c >= c.o ? 'rgba(38, 166, 154, 0.35)' : 'rgba(239, 83, 80, 0.35)',
});

export class PriceChart {
	// el: the chart's container; legend: where the OHLC of the candle
	// under the crosshair (else the last one) is written.
	constructor(el, legend) {
		this.el = el;
		this.legend = legend;
		this.hover = null;	// the candle under the crosshair
		const opts = baseOptions();
		opts.timeScale.rightOffset = 6;
		opts.localization = { priceFormatter: (p) => fmtPrice(p, this.decimals < 0 ? undefined : this.decimals) };
		this.chart = createChart(el, opts);
		this.candles = this.chart.addSeries(CandlestickSeries, {
			upColor: UP, downColor: DOWN, borderUpColor: UP, borderDownColor: DOWN,
			wickUpColor: UP, wickDownColor: DOWN,
		});
		this.ticks = this.chart.addSeries(HistogramSeries, {
			priceScaleId: 'ticks', priceFormat: { type: 'volume' },
			lastValueVisible: false, priceLineVisible: false,
		});
		this.chart.priceScale('ticks').applyOptions({ scaleMargins: { top: 0.85, bottom: 0 } });
		this.candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.18 } });
		this.markers = createSeriesMarkers(this.candles, []);
		this.chart.subscribeCrosshairMove((param) => {
			const d = param && param.seriesData ? param.seriesData.get(this.candles) : null;
			this.hover = d && isNum(d.open) ? d : null;
			this.drawLegend();
		});
		this.lines = [];
		this.symbol = null;
		this.tf = null;
		this.series = null;	// the state's Series drawn
		this.drawnReset = -1;
		this.drawnT = null;	// start of the last candle drawn
		this.updates = 0;	// update() calls since the last setData
		this.decimals = -1;
		this.markKey = '';
		this.lineKey = '';
	}

	// Shows another series; the next draw() draws it whole.
	show(symbol, tf, series) {
		this.symbol = symbol;
		this.tf = tf;
		this.series = series;
		this.drawnReset = -1;
		this.markKey = this.lineKey = '';
		this.el.dataset.symbol = symbol || '';
		this.el.dataset.tf = tf;
		this.fresh = true;
	}

	// Draws what changed in the series, and the markers of trades and
	// patterns (the state's lists for this symbol).
	draw(state, marksChanged) {
		const s = this.series;
		if (!s)
			return;
		const a = s.candles;
		if (s.reset !== this.drawnReset || this.updates > 2000) {
			this.candles.setData(a.map(bar));
			this.ticks.setData(a.map(vol));
			this.drawnReset = s.reset;
			this.updates = 0;
			marksChanged = true;
			if (this.fresh) {
				this.fresh = false;
				this.chart.timeScale().resetTimeScale();
				this.chart.timeScale().scrollToRealTime();
			}
		} else if (a.length) {
			// Only the end moved: update from the last candle drawn on.
			let i = a.length - 1;
			while (i > 0 && a[i - 1].t >= this.drawnT)
				i--;
			for (; i < a.length; i++) {
				this.candles.update(bar(a[i]));
				this.ticks.update(vol(a[i]));
				this.updates++;
			}
		}
		this.drawnT = a.length ? a[a.length - 1].t : null;
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
		if (!this.hover)
			this.drawLegend();
	}

	drawLegend() {
		const el = this.legend;
		if (!el)
			return;
		let o, h, l, c, n = null;
		if (this.hover) {
			({ open: o, high: h, low: l, close: c } = this.hover);
		} else {
			const a = this.series ? this.series.candles : [];
			const last = a[a.length - 1];
			if (!last) {
				el.textContent = '';
				return;
			}
			({ o, h, l, c, n } = last);
		}
		const d = this.decimals < 0 ? undefined : this.decimals;
		const text = `O ${fmtPrice(o, d)}  H ${fmtPrice(h, d)}  L ${fmtPrice(l, d)}  C ${fmtPrice(c, d)}` +
			(isNum(n) ? `  ·  ${n} ticks` : '');
		if (el.textContent !== text)
			el.textContent = text;
		el.classList.toggle('pos', c > o);
		el.classList.toggle('neg', c < o);
	}

	// One marker per candle and kind: buys (arrow up, with their count
	// when several), sells (arrow down), patterns (a dot; the latest is
	// named). Many trades in one 1h candle stay one arrow.
	drawMarks(state, a) {
		const sym = this.symbol;
		const first = a.length ? a[0].t : Infinity;
		const period = this.series.period;
		const bucket = (ms) => Math.floor(ms / period) * period;
		const trades = state.trades_of(sym), patterns = state.patterns_of(sym);
		const latest = patterns[patterns.length - 1];
		const per = new Map();	// bucket -> {buy, sell, pat, bear, named}
		const at = (ms) => {
			const t = bucket(ms);
			let m = per.get(t);
			if (!m) {
				m = { buy: 0, sell: 0, pat: 0, bear: false, named: '' };
				per.set(t, m);
			}
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
		for (const [t, m] of [...per.entries()].sort((x, y) => x[0] - y[0])) {
			const time = toSec(t);
			if (m.buy)
				marks.push({ time, position: 'belowBar', shape: 'arrowUp', color: UP, text: count(m.buy) });
			if (m.sell)
				marks.push({ time, position: 'aboveBar', shape: 'arrowDown', color: DOWN, text: count(m.sell) });
			if (m.pat)
				marks.push({
					time, position: m.bear ? 'aboveBar' : 'belowBar', shape: 'circle',
					color: AMBER, text: m.named,
				});
		}
		const key = marks.map((k) => k.time + k.shape + k.text).join(',');
		if (key !== this.markKey) {
			this.markKey = key;
			this.markers.setMarkers(marks);
		}
		this.el.dataset.markers = String(marks.length);
		this.drawPatternLines(latest);
	}

	// Entry, target and stop of the symbol's latest pattern.
	drawPatternLines(p) {
		const key = p ? `${p.ts}|${p.entry}|${p.target}|${p.stop}` : '';
		if (key === this.lineKey)
			return;
		this.lineKey = key;
		for (const l of this.lines)
			this.candles.removePriceLine(l);
		this.lines = [];
		if (!p)
			return;
		const add = (price, title, color) => {
			if (isNum(price))
				this.lines.push(this.candles.createPriceLine({
					price, title, color, lineWidth: 1, lineStyle: 2,
					axisLabelVisible: true,
				}));
		};
		add(p.entry, 'entry', ACCENT);
		add(p.target, 'target', UP);
		add(p.stop, 'stop', DOWN);
	}
}

export class EquityChart {
	constructor(el) {
		this.el = el;
		const opts = baseOptions();
		opts.localization = { priceFormatter: (p) => fmtPrice(p, 2) };
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

