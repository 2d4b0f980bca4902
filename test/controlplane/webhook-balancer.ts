// A stand-in for the webhook Service in the test control plane (no kube-proxy here).
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from '../helpers/control-plane/net.ts';

/**
 * What a Service does for the webhook: one address in front of the replicas, a connection going to the
 * next replica that accepts it. A stopped replica refuses connections, as an endpoint the Service has
 * withdrawn would no longer receive them.
 */
export async function startBalancer(
  backends: () => number[],
): Promise<{ port: number; close(): Promise<void> }> {
  let next = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const ports = backends();
    const attempt = (tries: number) => {
      const port = ports[next++ % ports.length] ?? 0;
      const upstream = connect(port, '127.0.0.1');
      upstream.once('connect', () => {
        client.pipe(upstream).pipe(client);
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      });
      upstream.once('error', () => (tries > 1 ? attempt(tries - 1) : client.destroy()));
    };
    attempt(ports.length);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
