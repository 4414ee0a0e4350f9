// symbol.mjs: choosing a symbol in #symbol redraws the chart and the last
// price for it.
import { run, check, waitFor, api } from './lib.mjs';

await run('symbol', async (t) => {
	await waitFor(t, () => document.querySelectorAll('#symbol option')
		.length >= 3, null, '#symbol to offer the 3 symbols of tf-sim');
	const cur = await t.page.inputValue('#symbol');
	const other = cur === 'SOL-USD' ? 'ETH-USD' : 'SOL-USD';
	await t.page.selectOption('#symbol', other, { timeout: 5000 });
	await waitFor(t, (s) => {
		const c = document.querySelector('#chart');
		return c.dataset.symbol === s && Number(c.dataset.candles) >= 1;
	}, other, `#chart[data-symbol="${other}"] with candles`);
	const snap = await api('/api/snapshot');
	const want = snap.body.symbols[other].price;
	// The chosen symbol's price, not the one shown before (BTC ~65000,
	// ETH ~3500, SOL ~150 apart by far more than the 5% allowed).
	await waitFor(t, (w) => {
		const v = Number(document.querySelector('#last-price').textContent
			.replace(/[^0-9.\-]/g, ''));
		return Math.abs(v - w) / w < 0.05;
	}, want, `#last-price to show ${other}'s price (about ${want})`);
});
