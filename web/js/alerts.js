// alerts.js: the alert center. Nothing important goes unseen: a high or
// critical alert gets a toast (a critical one stays until dismissed),
// counts in the tab's title until acknowledged, and beeps or raises a
// browser notification when the user turned those on. That holds for one
// that arrives live and for one first seen in a snapshot (a reload, or a
// resync after a gap): each alert gets its toast once per browser (the
// toasted ones are remembered like the acknowledged ones), never when
// acknowledged.
// Repeats of a low alert (same title, symbol and source) are grouped into
// one row, so they cannot bury the rest. The count chips filter.

import {
	h, setText, tsMs, fmtTime, fmtDateTime, fmtText, fmtCount, str, drawNote,
} from './util.js';
import { PRIORITIES, priorityRank } from './state.js';
import { get as setting, set as setSetting, StoredSet } from './settings.js';

export const ROWS = 200;
const TOASTS = 4;		// toasts on screen at most
const HIGH_TOAST_MS = 8000;		// a high alert's toast goes after this
const GROUP_KEYS = 100;		// members of a group remembered for its ack
const TITLE = 'tf dashboard';

const $ = (id) => document.getElementById(id);

const prioOf = (a) => (PRIORITIES.includes(a.priority) ? a.priority : 'low');

// An alert's identity, to remember its acknowledgement across reloads.
export const alertKey = (a) => [str(a.ts), prioOf(a), str(a.title), str(a.symbol),
	str(a.source), str(a.message).slice(0, 120)].join('|');

const groupKey = (a) => `${str(a.title)}|${str(a.symbol)}|${str(a.source)}`;

export class AlertCenter {
	constructor() {
		this.ul = $('alerts');
		this.acked = new StoredSet('tf.dashboard.acked', 2000);
		this.toasted = new StoredSet('tf.dashboard.toasted', 2000);
		this.minRank = 0;
		this.only = null;	// a chip's priority, or null
		this.version = -1;
		this.added = 0;
		this.rows = new Map();	// group key or alert -> row
		this.toasts = [];	// {el, key, timer}
		this.unseen = 0;
		this.audio = null;
		this.stats = { toasts: 0, beeps: 0, notifications: 0 };
		this.wire();
	}

	wire() {
		for (const b of document.querySelectorAll('.counts .count')) {
			const p = b.dataset.priority;
			b.addEventListener('click', () => {
				this.only = this.only === p ? null : p;
				this.minRank = 0;
				$('alert-filter').value = 'all';
				this.refilter();
			});
		}
		$('ack-all').addEventListener('click', () => {
			const keys = [];
			for (const a of this.list.items)
				if (this.accept(a))
					keys.push(alertKey(a));
			this.acked.addAll(keys);
			for (const t of this.toasts.slice())
				this.dropToast(t);
			this.refilter();
		});
		$('sound').addEventListener('click', () => {
			const on = !setting('sound');
			setSetting('sound', on);
			if (on)
				this.beep(true);	// the click lets the page play sound
			this.drawTools();
		});
		$('notify').addEventListener('click', () => this.askNotify());
		this.drawTools();
	}

	// The filter select: "all" or a priority and above.
	setFilter(value) {
		this.minRank = value === 'all' ? 0 : priorityRank(value);
		this.only = null;
		this.refilter();
	}

	accept(a) {
		const p = prioOf(a);
		return this.only ? p === this.only : priorityRank(p) >= this.minRank;
	}

	refilter() {
		for (const b of document.querySelectorAll('.counts .count'))
			b.setAttribute('aria-pressed', String(b.dataset.priority === this.only));
		if (this.list)
			this.rebuild(this.list);
	}

	// Draws the state's alert list: new alerts since the last call (with
	// their toasts), or the whole list again after a snapshot.
	draw(list) {
		this.list = list;
		const fresh = list.added - this.added;
		if (list.version !== this.version || fresh > list.items.length) {
			this.rebuild(list);
			this.catchUp(list);
			return;
		}
		if (fresh <= 0)
			return;
		const a = list.items;
		for (let i = a.length - fresh; i < a.length; i++) {
			if (this.accept(a[i]))
				this.put(a[i]);
			this.arrived(a[i]);
		}
		while (this.ul.childElementCount > ROWS)
			this.drop(this.ul.lastElementChild);
		this.added = list.added;
		this.drawCounts();
	}

	rebuild(list) {
		this.version = list.version;
		this.added = list.added;
		this.rows.clear();
		this.ul.replaceChildren();
		// Oldest first, so that groups gather their repeats in order;
		// then the newest ROWS rows are kept.
		const rows = [];
		for (const a of list.items)
			if (this.accept(a))
				rows.push(this.group(a));
		// A group stands where its newest member does.
		const all = [...new Set(rows.reverse())];
		for (const r of all.slice(ROWS))
			this.forget(r);
		const order = all.slice(0, ROWS);
		this.ul.replaceChildren(...order.map((r) => r.li));
		for (const r of order)
			this.paint(r);
		this.drawCounts();
	}

	// Adds a (new) alert to its group or to a new row, at the top.
	put(a) {
		const r = this.group(a);
		this.paint(r);
		if (this.ul.firstElementChild !== r.li)
			this.ul.prepend(r.li);
	}

	// The row of a: its low group's (made on demand), or its own.
	group(a) {
		const p = prioOf(a);
		const k = p === 'low' ? 'g:' + groupKey(a) : null;
		let r = k ? this.rows.get(k) : null;
		if (!r) {
			r = this.makeRow(a, k);
			if (k)
				this.rows.set(k, r);
		} else {
			r.n++;
			r.latest = a;
			r.keys.push(alertKey(a));
			if (r.keys.length > GROUP_KEYS)
				r.keys.shift();
		}
		return r;
	}

	makeRow(a, k) {
		const r = { k, n: 1, first: a, latest: a, keys: [alertKey(a)] };
		r.prio = h('span', { class: 'alert-prio' });
		r.title = h('span', { class: 'alert-title' });
		r.count = h('span', { class: 'alert-count' });
		r.time = h('time', { class: 'alert-time' });
		r.msg = h('p', { class: 'alert-message' });
		r.meta = h('div', { class: 'alert-meta' });
		r.ack = h('button', { type: 'button', class: 'ack' }, 'Acknowledge');
		r.ack.addEventListener('click', () => {
			this.acked.addAll(r.keys);
			for (const t of this.toasts.slice())
				if (r.keys.includes(t.key))
					this.dropToast(t);
			this.paint(r);
			this.drawCounts();
		});
		r.li = h('li', { class: 'alert' },
			h('div', { class: 'alert-head' }, r.prio, r.title, r.count, r.time),
			r.msg, h('div', { class: 'alert-foot' }, r.meta, r.ack));
		return r;
	}

	paint(r) {
		const a = r.latest;
		const pr = prioOf(a);
		r.li.dataset.priority = pr;
		setText(r.prio, pr);
		setText(r.title, str(a.title) || 'Alert');
		setText(r.count, r.n > 1 ? `×${fmtCount(r.n)}` : '');
		r.count.title = r.n > 1 ? `${r.n} alerts like this since ${fmtDateTime(tsMs(r.first.ts))}` : '';
		const ms = tsMs(a.ts);
		setText(r.time, fmtTime(ms));
		r.time.title = fmtDateTime(ms);
		setText(r.msg, fmtText(str(a.message)));
		setText(r.meta, [str(a.symbol), str(a.source)].filter(Boolean).join(' · '));
		const acked = r.keys.every((k) => this.acked.has(k));
		r.li.dataset.acked = acked ? '1' : '0';
		r.ack.hidden = acked;
		r.ack.setAttribute('aria-label', `Acknowledge ${pr} alert: ${str(a.title) || 'Alert'}`);
	}

	drop(li) {
		for (const [k, r] of this.rows)
			if (r.li === li)
				this.rows.delete(k);
		li.remove();
	}

	forget(r) {
		if (r.k)
			this.rows.delete(r.k);
	}

	drawCounts() {
		const n = { low: 0, medium: 0, high: 0, critical: 0 };
		let unacked = 0;
		const items = this.list ? this.list.items : [];
		for (const a of items) {
			const p = prioOf(a);
			n[p]++;
			if (priorityRank(p) >= 2 && !this.acked.has(alertKey(a)))
				unacked++;
		}
		for (const p in n) {
			setText($('count-' + p), fmtCount(n[p]));
			const b = document.querySelector(`.counts .count[data-priority="${p}"]`);
			b.setAttribute('aria-label', `${p}: ${n[p]} kept; show only ${p} alerts`);
		}
		this.unseen = unacked;
		const title = unacked ? `(${unacked}) ${TITLE}` : TITLE;
		if (document.title !== title)
			document.title = title;
		const att = $('attention');
		setText(att, `${fmtCount(unacked)} unacknowledged`);
		att.hidden = !unacked;
		att.title = 'High and critical alerts not acknowledged yet';
		const shown = this.ul.childElementCount;
		const wrap = this.ul.nextElementSibling;
		this.ul.classList.toggle('is-empty', shown === 0);
		if (wrap) {
			wrap.dataset.state = items.length && !shown ? 'nomatch' : '';
			wrap.dataset.nomatch = this.only ? `No ${this.only} alert` :
				this.minRank ? `No alert at ${PRIORITIES[this.minRank]} or above` : 'No alert';
			drawNote(wrap);
		}
		setText($('alerts-shown'), items.length ? `${fmtCount(shown)} rows shown of ` +
			`${fmtCount(items.length)} alerts kept` + (this.only ? ` (${this.only} only)` : '') : '');
	}

	// ---- a live alert: toast, sound, notification ----------------------------

	arrived(a) {
		const p = prioOf(a);
		const key = alertKey(a);
		if (priorityRank(p) < 2 || this.acked.has(key) || this.toasted.has(key))
			return;
		this.toasted.add(key);
		this.toast(a);
		if (setting('sound'))
			this.beep(p === 'critical');
		this.notify(a);
	}

	// The high and critical alerts of a snapshot that this browser has
	// neither shown as a toast nor had acknowledged: the newest TOASTS of
	// them get their toast (and one beep, and their notifications) now;
	// every one of them counts as shown, the title keeps counting them.
	catchUp(list) {
		const due = [];
		const keys = [];
		for (let i = list.items.length - 1; i >= 0; i--) {
			const a = list.items[i];
			const key = alertKey(a);
			if (priorityRank(prioOf(a)) < 2 || this.acked.has(key) ||
			    this.toasted.has(key))
				continue;
			keys.push(key);
			if (due.length < TOASTS)
				due.push(a);
		}
		if (!keys.length)
			return;
		this.toasted.addAll(keys.reverse());
		for (const a of due.reverse()) {
			this.toast(a);
			this.notify(a);
		}
		if (setting('sound'))
			this.beep(due.some((a) => prioOf(a) === 'critical'));
	}

	toast(a) {
		const p = prioOf(a);
		const key = alertKey(a);
		const t = { key, p, timer: 0 };
		const ack = h('button', { type: 'button', class: 'toast-ack' }, 'Acknowledge');
		const close = h('button', { type: 'button', class: 'toast-close', 'aria-label': 'Dismiss' }, '×');
		t.el = h('div', { class: 'toast', role: p === 'critical' ? 'alert' : 'status', dataset: { priority: p } },
			h('div', { class: 'toast-head' },
				h('span', { class: 'alert-prio' }, p),
				h('span', { class: 'toast-title' }, str(a.title) || 'Alert'),
				h('time', { class: 'alert-time' }, fmtTime(tsMs(a.ts))), close),
			h('p', { class: 'toast-message' }, fmtText(str(a.message))),
			h('div', { class: 'toast-foot' }, h('span', { class: 'muted' }, str(a.symbol)), ack));
		close.addEventListener('click', () => this.dropToast(t));
		ack.addEventListener('click', () => {
			this.acked.add(key);
			this.dropToast(t);
			this.refilter();
		});
		if (p !== 'critical')
			t.timer = setTimeout(() => this.dropToast(t), HIGH_TOAST_MS);
		this.toasts.push(t);
		$('toasts').append(t.el);
		this.stats.toasts++;
		// Too many: the oldest high goes first, a critical only when
		// nothing else is left (it stays in the alert list, counted).
		while (this.toasts.length > TOASTS) {
			const old = this.toasts.find((x) => x.p !== 'critical') || this.toasts[0];
			this.dropToast(old);
		}
	}

	dropToast(t) {
		const i = this.toasts.indexOf(t);
		if (i < 0)
			return;
		this.toasts.splice(i, 1);
		clearTimeout(t.timer);
		t.el.remove();
	}

	beep(critical) {
		try {
			if (!this.audio)
				this.audio = new AudioContext();
			const ctx = this.audio;
			if (ctx.state === 'suspended')
				ctx.resume();
			const o = ctx.createOscillator(), g = ctx.createGain();
			o.frequency.value = critical ? 880 : 660;
			g.gain.setValueAtTime(0.0001, ctx.currentTime);
			g.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + 0.02);
			g.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + (critical ? 0.6 : 0.25));
			o.connect(g).connect(ctx.destination);
			o.start();
			o.stop(ctx.currentTime + 0.7);
			this.stats.beeps++;
		} catch (e) {
			/* no sound here: the toast and the title remain */
		}
	}

	// Asked only from the button's click, never on load.
	async askNotify() {
		if (typeof Notification === 'undefined')
			return;
		if (setting('notify')) {
			setSetting('notify', false);
		} else {
			let perm = Notification.permission;
			if (perm === 'default')
				perm = await Notification.requestPermission();
			setSetting('notify', perm === 'granted');
		}
		this.drawTools();
	}

	notify(a) {
		if (!setting('notify') || typeof Notification === 'undefined' ||
		    Notification.permission !== 'granted')
			return;
		// Someone looking at the page has the toast.
		if (document.visibilityState === 'visible' && document.hasFocus())
			return;
		try {
			new Notification(`${prioOf(a)}: ${str(a.title) || 'Alert'}`, {
				body: fmtText(str(a.message)).slice(0, 300), tag: alertKey(a).slice(0, 200),
			});
			this.stats.notifications++;
		} catch (e) {
			/* refused: the toast and the title remain */
		}
	}

	drawTools() {
		const s = $('sound');
		s.setAttribute('aria-pressed', String(!!setting('sound')));
		setText(s, setting('sound') ? 'Sound on' : 'Sound off');
		const n = $('notify');
		const perm = typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
		const on = setting('notify') && perm === 'granted';
		n.setAttribute('aria-pressed', String(on));
		setText(n, perm === 'denied' ? 'Notifications blocked' : on ? 'Notify on' : 'Notify off');
		n.disabled = perm === 'unsupported';
	}

	// Times shown again (the zone changed).
	retime() {
		if (this.list)
			this.rebuild(this.list);
	}
}
