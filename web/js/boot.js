// boot.js: asks tf-serve for /api/snapshot as soon as the page starts,
// while the chart library and the other modules are still loading;
// main.js takes the answer (an async module script runs this early).

import { getSnapshot } from './api.js';

let early = getSnapshot();
early.catch(() => {});	// whoever takes it handles the failure

// The snapshot asked for at start the first time, a fresh one after.
export function takeSnapshot() {
	const p = early;
	early = null;
	return p || getSnapshot();
}
