// ws-peer.js: the peer of bench/broadcast.sh. The idiomatic node `ws`
// broadcaster: every stdin line goes to every connected client as one text
// frame. At end of input it closes the clients with 1001 (after what is
// queued for them) and exits. usage: node bench/ws-peer.js PORT
'use strict';
const readline = require('readline');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2]);
if (!(port > 0 && port < 65536)) {
	process.stderr.write('usage: node bench/ws-peer.js PORT\n');
	process.exit(2);
}
const wss = new WebSocketServer({ host: '127.0.0.1', port });
wss.on('error', (e) => {
	process.stderr.write(`ws-peer: ${e.message}\n`);
	process.exit(1);
});
wss.on('listening', () => {
	const rl = readline.createInterface({ input: process.stdin });
	rl.on('line', (line) => {
		wss.clients.forEach((c) => {
			if (c.readyState === WebSocket.OPEN)
				c.send(line);
		});
	});
	rl.on('close', () => {
		wss.clients.forEach((c) => c.close(1001, 'going away'));
		wss.close(() => process.exit(0));
		setTimeout(() => process.exit(0), 10000).unref();
	});
});
