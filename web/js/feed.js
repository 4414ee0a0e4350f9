// feed.js: the events feed: every order placed or cancelled, fill, bot
// start and stop, system status, pattern, prediction and alert, newest
// first, filterable by category and symbol. The state keeps the newest
// LIMITS.feed events; the feed shows at most ROWS rows of them.

import {
	h, setText, isNum, fmtPrice, fmtQty, fmtMoney, fmtPnl, fmtRate, fmtNum,
	fmtTime, fmtDateTime, fmtText, fmtCount, str,
} from './util.js';
import { ListView, drawNote } from './util.js';
import { LIMITS } from './state.js';

const $ = (id) => document.getElementById(id);

const NAMES = {
	orders: 'Order', fills: 'Fill', bot: 'Bot', system: 'System',
	patterns: 'Pattern', predictions: 'Prediction', alerts: 'Alert',
};

const side = (e) => str(e.side).toUpperCase();
const at = (e) => (isNum(e.price) ? ' @ ' + fmtPrice(e.price) : '');
const id = (e) => (e.order_id !== undefined ? ' · ' + str(e.order_id) : '');

// One line saying what the event is, in the page's number format.
export function summary(e) {
	switch (e.type) {
	case 'order_placed':
		return `Placed ${side(e)} ${fmtQty(e.quantity)}${at(e)}` +
			(e.order_type ? ` (${str(e.order_type)})` : '') + id(e);
	case 'order_cancelled':
		return `Cancelled ${side(e)} ${isNum(e.quantity) ? fmtQty(e.quantity) : ''}${at(e)}` +
			(e.reason ? ` (${str(e.reason)})` : '') + id(e);
	case 'trade_executed':
		return `${side(e)} ${fmtQty(e.quantity)}${at(e)}` +
			(isNum(e.fee) ? ` · fee ${fmtMoney(e.fee)}` : '') +
			(isNum(e.pnl) ? ` · P&L ${fmtPnl(e.pnl)}` : '') + id(e);
	case 'bot_started':
	case 'bot_stopped':
		return (e.type === 'bot_started' ? 'Started' : 'Stopped') +
			[e.strategy, e.reason].filter(Boolean).map((x) => ' · ' + str(x)).join('');
	case 'system_status':
		return `Status ${str(e.status) || '—'}` +
			(isNum(e.cpu) ? ` · CPU ${fmtNum(e.cpu, 2, 2)}%` : '') +
			(isNum(e.memory) ? ` · memory ${fmtNum(e.memory, 2, 2)} MiB` : '') +
			(isNum(e.connections) ? ` · ${fmtCount(e.connections)} connections` : '');
	case 'pattern_detected':
		return `${str(e.pattern).replace(/_/g, ' ')}` +
			(e.direction ? ` (${str(e.direction)})` : '') +
			(isNum(e.confidence) ? ` ${fmtRate(e.confidence)}` : '') +
			(isNum(e.entry) ? ` · entry ${fmtPrice(e.entry)}` : '') +
			(isNum(e.target) ? ` · target ${fmtPrice(e.target)}` : '') +
			(isNum(e.stop) ? ` · stop ${fmtPrice(e.stop)}` : '');
	case 'ml_prediction':
		return `${str(e.model) || 'model'}: ${str(e.direction)}` +
			(isNum(e.predicted_price) ? ` to ${fmtPrice(e.predicted_price)}` : '') +
			(isNum(e.confidence) ? ` (${fmtRate(e.confidence)})` : '') +
			(isNum(e.horizon) ? ` in ${fmtCount(e.horizon)} ticks` : '');
	case 'alert':
		return `${str(e.priority) || 'low'}: ${str(e.title) || 'Alert'}` +
			(e.message ? ' · ' + fmtText(str(e.message)) : '');
	default:
		return str(e.type);
	}
}

function row(x) {
	const e = x.e;
	return h('tr', { dataset: { cat: x.cat } },
		h('td', { class: 'time', title: fmtDateTime(x.ms) }, fmtTime(x.ms)),
		h('td', { class: 'cat' }, NAMES[x.cat] || x.cat),
		h('td', null, str(e.symbol)),
		h('td', { class: 'what' }, summary(e)));
}

export class Feed {
	constructor(onChange) {
		this.cat = '';
		this.symbol = '';
		this.symbols = new Set();
		this.view = new ListView($('feed').tBodies[0], row, (x) =>
			(!this.cat || x.cat === this.cat) &&
			(!this.symbol || x.e.symbol === this.symbol));
		$('feed-cat').addEventListener('change', (ev) => {
			this.cat = ev.target.value;
			onChange();
		});
		$('feed-symbol').addEventListener('change', (ev) => {
			this.symbol = ev.target.value;
			onChange();
		});
	}

	// Draws the new events of the state's feed (or all again when a
	// filter changed: rebuild).
	draw(list, rebuild) {
		const before = this.symbols.size;
		const a = list.items;
		for (let i = Math.max(0, a.length - (list.added - this.view.added)); i < a.length; i++) {
			const s = a[i].e.symbol;
			if (typeof s === 'string' && s && this.symbols.size < LIMITS.symbols)
				this.symbols.add(s);
		}
		if (rebuild || list.version !== this.view.version)
			for (const x of a)
				if (typeof x.e.symbol === 'string' && x.e.symbol && this.symbols.size < LIMITS.symbols)
					this.symbols.add(x.e.symbol);
		if (this.symbols.size !== before)
			this.drawSymbols();
		if (rebuild)
			this.view.rebuild(list);
		else
			this.view.draw(list);
		const shown = this.view.el.childElementCount;
		const table = $('feed');
		table.classList.toggle('is-empty', shown === 0);
		table.nextElementSibling.dataset.state = a.length && !shown ? 'nomatch' : '';
		drawNote(table.nextElementSibling);
		setText($('feed-shown'), a.length ? `${fmtCount(shown)} shown of ` +
			`${fmtCount(a.length)} events kept` : '');
	}

	drawSymbols() {
		const sel = $('feed-symbol');
		const syms = [...this.symbols].sort();
		sel.replaceChildren(h('option', { value: '' }, 'All symbols'),
			...syms.map((s) => h('option', { value: s }, s)));
		sel.value = this.symbol;
	}
}
