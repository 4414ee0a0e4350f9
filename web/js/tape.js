// tape.js: the top bar's tape, the latest price of any symbol: the first
// live data a user sees. boot.js writes it before the page's other
// modules are loaded, main.js once a frame after that.

import { fmtPrice, plainPrice, isNum } from './num.js';

// e: a price_update or ticker_update line (an object). Returns false when
// there is nothing to show it with (no price, or no #tape yet).
export function drawTape(e) {
	const el = document.getElementById('tape');
	if (!el || !e || typeof e.symbol !== 'string' || !isNum(e.price))
		return false;
	const [sym, px] = el.children;
	const prev = el.dataset.symbol === e.symbol ? Number(el.dataset.price) : NaN;
	if (sym.textContent !== e.symbol)
		sym.textContent = e.symbol;
	px.textContent = plainPrice(e.price) ?? fmtPrice(e.price);
	// Up or down against the symbol's price shown before; unchanged
	// keeps the last direction.
	if (isNum(prev) && prev !== e.price)
		el.dataset.dir = e.price > prev ? 'up' : 'down';
	else if (!isNum(prev))
		delete el.dataset.dir;
	el.dataset.symbol = e.symbol;
	el.dataset.price = String(e.price);
	el.hidden = false;
	return true;
}

// Whether a line is a price the tape shows.
export const isPrice = (e) => !!e && (e.type === 'price_update' ||
	e.type === 'ticker_update') && typeof e.symbol === 'string' && isNum(e.price);
