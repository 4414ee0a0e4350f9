// screenshots.mjs: the live dashboard at every width, saved as test
// artifacts (test/artifacts/dashboard-WxH.png): 1440x900 and 1920x1080
// (desktop), 390x844 (a phone) and 844x390 (the phone held sideways). At
// each size nothing is cut: the page never scrolls sideways and nothing
// but the inside of a scrolling table or a chart reaches past the
// screen's edges. At 390 px every table, once scrolled to, scrolls inside
// its panel with its first column kept in view; sideways, the price
// chart's panel fits the screen's height; on the desktops no panel is left
// half empty.
//   node screenshots.mjs URL [--out DIR] [--sizes WxH,...]  (DIR: where
//   to save, default test/artifacts; the sizes: all four by default)
import fs from 'node:fs';
import path from 'node:path';
import { run, check, waitFor, sleep, load, args, ARTIFACTS } from './lib.mjs';

const SIZES = (args.sizes || '1440x900,1920x1080,390x844,844x390')
	.split(',').map((x) => x.split('x').map(Number));
if (!SIZES.every((x) => x.length === 2 && x.every((n) => n >= 100))) {
	console.error(`screenshots.mjs: --sizes ${args.sizes}: want WxH,...`);
	process.exit(2);
}
const OUT = args.out || ARTIFACTS;

await run('screenshots', async (t) => {
	fs.mkdirSync(OUT, { recursive: true });
	for (const [w, h] of SIZES) {
		await t.page.setViewportSize({ width: w, height: h });
		await load(t);
		await waitFor(t, () => window.tfDash.rendered > 0 &&
			Number(document.querySelector('#chart').dataset.candles) >= 1,
		null, `live data and candles at ${w}x${h}`);
		await sleep(1000); // a second of data on the charts
		const file = path.join(OUT, `dashboard-${w}x${h}.png`);
		fs.rmSync(file, { force: true });
		await t.page.screenshot({ path: file, timeout: 5000 });
		const png = fs.readFileSync(file);
		check(png.length > 1000 &&
			png.toString('latin1', 1, 4) === 'PNG' &&
			png.readUInt32BE(16) === w && png.readUInt32BE(20) === h,
		`${file} is a ${w}x${h} PNG (got ${png.length} bytes, ` +
			`${png.readUInt32BE(16)}x${png.readUInt32BE(20)})`);
		// The chart has room on the screen.
		const box = await t.page.locator('#chart').boundingBox();
		check(box && box.width >= Math.min(300, w - 40) && box.height >= 150,
			`#chart is at least ${Math.min(300, w - 40)}x150 at ${w}x${h} ` +
			`(got ${box && `${Math.round(box.width)}x${Math.round(box.height)}`})`);
		const cut = await t.page.evaluate(() => {
			const out = [];
			const inside = (e) => e.closest('.scroll, .chart, .equity, .profit-chart');
			for (const e of document.querySelectorAll('body *')) {
				if (inside(e) || !e.checkVisibility())
					continue;
				const r = e.getBoundingClientRect();
				if (r.width && (r.right > innerWidth + 0.5 || r.left < -0.5))
					out.push(`${e.tagName.toLowerCase()}#${e.id}.${e.className}`);
			}
			return { wide: document.documentElement.scrollWidth - innerWidth,
				out: out.slice(0, 5) };
		});
		check(cut.wide <= 0 && cut.out.length === 0, `at ${w}x${h} nothing ` +
			`is cut: the page is ${cut.wide} px wider than the screen, ` +
			`past its edges: ${cut.out.join(', ') || 'nothing'}`);
		if (w === 390) {
			// Each table as it is once scrolled to (away from the
			// screen its panel's tables do not scroll: main.js).
			const ids = await t.page.$$eval('main table.data', (e) =>
				e.map((x) => x.id));
			const away = await t.page.evaluate(() => getComputedStyle(document
				.querySelector('#patterns').closest('.scroll')).overflowY);
			check(away === 'hidden', `far from the screen a table does not ` +
				`scroll, so it costs no layer (#patterns: ${away})`);
			for (const id of ids) {
				await t.page.locator(`#${id}`).scrollIntoViewIfNeeded();
				const [ov, pos] = await waitFor(t, (i) => {
					const tb = document.getElementById(i);
					const sc = tb.closest('.scroll');
					const o = sc && getComputedStyle(sc).overflowX;
					return o === 'auto' && [o, tb.classList.contains(
						'sticky-first') ? getComputedStyle(tb.tHead.rows[0]
						.cells[0]).position : 'n/a'];
				}, id, `#${id} scrolls inside its panel at 390 px`, 3000);
				check(ov === 'auto', `#${id} scrolls inside its panel`);
				check(pos === 'sticky' || id === 'balances', `#${id} keeps ` +
					`its first column in view at 390 px (position: ${pos})`);
			}
			await t.page.evaluate(() => window.scrollTo(0, 0));
		}
		if (h < 500) {
			await t.page.locator('.p-chart').scrollIntoViewIfNeeded();
			const p = await t.page.locator('.p-chart').boundingBox();
			check(p.height <= h, `sideways (${w}x${h}) the chart's panel ` +
				`fits the screen: ${Math.round(p.height)} px high`);
		}
		if (w >= 1440) {
			const empty = await t.page.evaluate(() => [...document
				.querySelectorAll('main > .panel')].map((e) => {
				const r = e.getBoundingClientRect();
				let bottom = r.top;
				for (const c of e.children)
					if (c.checkVisibility())
						bottom = Math.max(bottom, c.getBoundingClientRect().bottom);
				return [e.classList[1], (r.bottom - bottom) / r.height];
			}).filter(([, f]) => f > 0.35));
			check(empty.length === 0, `at ${w} px no panel is more than ` +
				`35% empty (got ${JSON.stringify(empty)})`);
		}
		console.log(`# ${file}`);
	}
	check(t.errors.length === 0, `no console error at any size (got:\n  ` +
		t.errors.join('\n  ') + ')');
});
