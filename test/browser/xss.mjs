// xss.mjs: event text is shown as text. Alerts whose message and title are
// `<img src=x onerror=alert(1)>`, injected before the page loads (they
// come in the snapshot) and after (they come live), show that text
// literally; no img element is created, no dialog opens, nothing asks for
// /x. Markup in a symbol name and in the text fields of trades, patterns,
// predictions, balances, system status and bot events stays text too, and
// so it does in the open positions, closed trades, profit, events feed
// and toast panels (a round trip of the markup symbol with markup order
// ids; the live critical alert's toast).
import { run, check, waitFor, inject, load, sleep } from './lib.mjs';

const PAYLOAD = '<img src=x onerror=alert(1)>';
const tag = `X${process.pid}x${Date.now()}`;
const evil = (n) => ({ type: 'alert', priority: 'critical',
	title: `${PAYLOAD} ${n}`, message: PAYLOAD, source: tag,
	symbol: 'BTC-USD' });
const SYM = '<img src=x onerror=alert(2)>-USD';

// imgs t: every img element of the page (src attribute), and whether any
// element's markup has an onerror attribute.
const imgs = (t) => t.page.evaluate(() => ({
	img: [...document.querySelectorAll('img')].map((e) =>
		e.getAttribute('src')),
	onerror: document.querySelectorAll('[onerror]').length,
}));

await run('xss', async (t) => {
	// Markup in every text field some panel shows.
	const ts = Date.now();
	await inject([evil('snapshot'), { type: 'price_update', symbol: SYM,
		price: 1.5, ts },
	{ type: 'trade_executed', order_id: PAYLOAD, symbol: SYM, side: PAYLOAD,
		quantity: 1, price: 1.5, pnl: 1, ts },
	{ type: 'pattern_detected', symbol: SYM, pattern: PAYLOAD,
		direction: PAYLOAD, confidence: 0.5, entry: 1, target: 2, stop: 0.5,
		ts },
	{ type: 'ml_prediction', model: PAYLOAD, symbol: SYM, price: 1.5,
		predicted_price: 2, direction: PAYLOAD, confidence: 0.5, horizon: 5,
		ts },
	{ type: 'system_status', status: PAYLOAD, cpu: PAYLOAD, memory: PAYLOAD,
		connections: PAYLOAD, ts },
	{ type: 'portfolio_update', total_value: 1, pnl: 0, pnl_pct: 0,
		balances: { [PAYLOAD]: 1 }, ts },
	{ type: 'bot_stopped', status: PAYLOAD, strategy: PAYLOAD,
		reason: PAYLOAD, ts },
	// A round trip and an open position of the markup symbol.
	{ type: 'trade_executed', order_id: PAYLOAD, symbol: SYM, side: 'buy',
		quantity: 1, price: 1.5, fee: 0.01, ts },
	{ type: 'trade_executed', order_id: `${PAYLOAD}2`, symbol: SYM,
		side: 'sell', quantity: 1, price: 1.6, ts: ts + 1 },
	{ type: 'trade_executed', order_id: `${PAYLOAD}3`, symbol: SYM,
		side: 'buy', quantity: 2, price: 1.6, ts: ts + 2 }]);
	await load(t); // the payload comes in the snapshot
	await inject([evil('live')]);
	const texts = await waitFor(t, (p) => {
		const li = [...document.querySelectorAll('#alerts li.alert')];
		const m = li.map((e) => [
			(e.querySelector('.alert-title') || {}).textContent,
			(e.querySelector('.alert-message') || {}).textContent]);
		const ours = m.filter(([ti]) => ti && ti.startsWith(p));
		return ours.length >= 2 && ours;
	}, PAYLOAD, 'the two alerts carrying the payload to show');
	for (const [title, msg] of texts) {
		check(msg === PAYLOAD, `.alert-message shows the payload ` +
			`literally (got "${msg}")`);
		check(/^<img src=x onerror=alert\(1\)> (snapshot|live)$/.test(title),
			`.alert-title shows the payload literally (got "${title}")`);
	}
	const opt = await waitFor(t, (s) => [...document.querySelectorAll(
		'#symbol option')].find((o) => o.value === s) && s, SYM,
		'#symbol to offer the symbol whose name is markup');
	check(opt === SYM, 'the symbol name is kept as text');
	// Let the chart and every panel draw it.
	await t.page.selectOption('#symbol', SYM, { timeout: 5000 });
	await waitFor(t, () => document.querySelector('#toasts .toast') &&
		document.querySelector('#trips tbody tr'), null,
	'the live critical alert\'s toast and the closed round trip');
	await sleep(500);
	const found = await imgs(t);
	check(found.img.filter((s) => s === 'x').length === 0 &&
		found.onerror === 0, `no element made from the payload (img: ` +
		`${JSON.stringify(found.img)}, [onerror]: ${found.onerror})`);
	check(t.dialogs.length === 0, `no dialog opens (got ${t.dialogs})`);
	// And the markup shows as text where those panels put it.
	for (const sel of ['#patterns tbody', '#predictions tbody', '#trips tbody',
		'#positions tbody', '#by-symbol tbody', '#feed tbody', '#toasts']) {
		const text = await t.page.textContent(sel);
		check(text.includes('<img src=x'), `${sel} shows the markup as ` +
			`text (got "${text.slice(0, 200)}")`);
	}
	const x = t.requests.filter((u) => /\/x$/.test(u));
	check(x.length === 0, `nothing asks for /x (got ${x})`);
	const csps = await t.page.evaluate(() => window.__tf.csp);
	check(csps.length === 0, `no CSP violation: nothing inline was even ` +
		`attempted (got ${csps})`);
}, { load: false });
