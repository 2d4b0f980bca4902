// The floor for a Node proxy: node:http in, undici keep-alive pool out, bodies piped untouched, no
// parsing, no routing. Whatever the sidecar adds on top of this is the cost of its features.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { Pool } from 'undici';

const upstream = new URL(process.argv[2] ?? '');
const pool = new Pool(upstream.origin, { keepAliveTimeout: 30_000 });
const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  pool
    .request({
      method: req.method as 'POST',
      path: `${upstream.pathname.replace(/\/$/, '')}${(req.url ?? '/').replace(/^\/v1/, '')}`,
      headers: { 'content-type': 'application/json' },
      body: req,
    })
    .then(async (up) => {
      res.writeHead(up.statusCode, {
        'content-type': String(up.headers['content-type'] ?? 'application/json'),
      });
      await pipeline(up.body, res);
    })
    .catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}/v1\n`);
});
process.on('SIGTERM', () => process.exit(0));
