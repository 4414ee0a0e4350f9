// load.mjs: the dashboard loads and runs on live data with no console
// error, no uncaught exception, no CSP violation, no failed request and no
// request outside tf-serve.
import { run, check, waitFor, sleep, origin, args } from './lib.mjs';

await run('load', async (t) => {
	const doc = await t.page.request.get(args.url, { timeout: 5000 });
	const csp = doc.headers()['content-security-policy'] || '';
	// Without the policy, "no CSP violation" would prove nothing.
	check(/script-src 'self'/.test(csp) && /default-src 'self'/.test(csp),
		`GET / carries the Content-Security-Policy of the spec ` +
		`(got "${csp}")`);
	await waitFor(t, () => {
		const c = document.querySelector('#conn');
		return c && c.dataset.state === 'live' && window.tfDash &&
			window.tfDash.rendered > 0;
	}, null, '#conn[data-state="live"] and live events rendered');
	await sleep(1500); // a second and a half of live updates
	const csps = await t.page.evaluate(() => window.__tf.csp);
	check(csps.length === 0, `no CSP violation (got:\n  ${csps.join('\n  ')})`);
	check(t.errors.length === 0,
		`no console error (got:\n  ${t.errors.join('\n  ')})`);
	const bad = t.responses.filter(([s]) => s >= 400);
	check(bad.length === 0, `no failed request (got ${JSON.stringify(bad)})`);
	const away = t.requests.filter((u) => !u.startsWith(origin + '/') &&
		!u.startsWith('data:'));
	check(away.length === 0,
		`every request goes to tf-serve (got ${JSON.stringify(away)})`);
	check(t.dialogs.length === 0, `no dialog (got ${t.dialogs})`);
});
