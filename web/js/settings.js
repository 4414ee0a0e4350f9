// settings.js: what the user chose on this page (time zone, sound,
// notifications, chart overlays, acknowledged and toasted alerts), kept in
// localStorage so that a reload or the next visit keeps it. A browser
// that refuses storage (private mode, quota) still works: the choices
// then last as long as the page.

const KEY = 'tf.dashboard';
const DEFAULTS = {
	tz: 'utc',		// 'utc' | 'local'
	sound: false,
	notify: false,		// browser notifications (when permitted)
	overlays: [],		// [{kind: 'sma'|'ema', period}]
};

let values = Object.assign({}, DEFAULTS);
try {
	const saved = JSON.parse(localStorage.getItem(KEY) || '{}');
	if (saved && typeof saved === 'object')
		for (const k in DEFAULTS)
			if (k in saved && typeof saved[k] === typeof DEFAULTS[k])
				values[k] = saved[k];
} catch (e) {
	/* nothing saved, or storage refused: the defaults */
}
values.overlays = (Array.isArray(values.overlays) ? values.overlays : [])
	.filter((o) => o && (o.kind === 'sma' || o.kind === 'ema') &&
		Number.isInteger(o.period) && o.period >= 2 && o.period <= 500)
	.slice(-4);
if (values.tz !== 'local')
	values.tz = 'utc';

const listeners = new Set();

export function get(k) {
	return values[k];
}

export function set(k, v) {
	values[k] = v;
	try {
		localStorage.setItem(KEY, JSON.stringify(values));
	} catch (e) {
		/* kept for this page only */
	}
	for (const fn of listeners)
		fn(k, v);
}

// fn(key, value) after every change.
export function onChange(fn) {
	listeners.add(fn);
}

// A bounded set of strings kept under its own key (the acknowledged
// alerts): the newest cap entries survive.
export class StoredSet {
	constructor(key, cap) {
		this.key = key;
		this.cap = cap;
		this.set = new Set();
		try {
			const a = JSON.parse(localStorage.getItem(key) || '[]');
			if (Array.isArray(a))
				for (const x of a.slice(-cap))
					if (typeof x === 'string')
						this.set.add(x);
		} catch (e) {
			/* empty */
		}
	}
	has(x) {
		return this.set.has(x);
	}
	add(x) {
		if (this.set.has(x))
			return;
		this.set.add(x);
		while (this.set.size > this.cap)
			this.set.delete(this.set.values().next().value);
		this.save();
	}
	addAll(xs) {
		for (const x of xs) {
			this.set.add(x);
			while (this.set.size > this.cap)
				this.set.delete(this.set.values().next().value);
		}
		this.save();
	}
	save() {
		try {
			localStorage.setItem(this.key, JSON.stringify([...this.set]));
		} catch (e) {
			/* kept for this page only */
		}
	}
}
