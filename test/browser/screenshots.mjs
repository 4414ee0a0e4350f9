// screenshots.mjs: the dashboard, live, at 1280x800 (desktop) and 390x844
// (phone), saved as test artifacts: test/artifacts/dashboard-WxH.png.
import fs from 'node:fs';
import path from 'node:path';
import { run, check, waitFor, sleep, load, ARTIFACTS } from './lib.mjs';

const SIZES = [[1280, 800], [390, 844]];

await run('screenshots', async (t) => {
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	for (const [w, h] of SIZES) {
		await t.page.setViewportSize({ width: w, height: h });
		await load(t);
		await waitFor(t, () => window.tfDash.rendered > 0 &&
			Number(document.querySelector('#chart').dataset.candles) >= 1,
		null, `live data and candles at ${w}x${h}`);
		await sleep(1000); // a second of data on the charts
		const file = path.join(ARTIFACTS, `dashboard-${w}x${h}.png`);
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
		const over = await t.page.evaluate(() =>
			document.documentElement.scrollWidth - window.innerWidth);
		if (over > 0)
			console.log(`# screenshots: at ${w}x${h} the page is ${over} px ` +
				'wider than the screen (scrolls sideways)');
		console.log(`# ${file}`);
	}
	check(t.errors.length === 0, `no console error at either size (got:\n  ` +
		t.errors.join('\n  ') + ')');
});
