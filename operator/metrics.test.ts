import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { SidecarSyncState } from './contract.ts';
import { OperatorMetrics } from './metrics.ts';

it('counts sidecars per namespace by sync state at scrape time', async () => {
  const states: Record<string, SidecarSyncState[]> = {
    a: [
      { namespace: 'a', pod: 'p1', labels: {}, connected: true, ackedVersion: 'v2', lastSeen: '' },
      {
        namespace: 'a',
        pod: 'p2',
        labels: {},
        connected: true,
        ackedVersion: 'v1',
        rejected: { version: 'v2', message: 'bad' },
        lastSeen: '',
      },
      { namespace: 'a', pod: 'p3', labels: {}, connected: false, ackedVersion: 'v1', lastSeen: '' },
    ],
    b: [],
  };
  const metrics = new OperatorMetrics();
  metrics.observeSync(() => Object.keys(states), { sidecars: (ns) => states[ns] ?? [] });
  metrics.observeSync(() => [], { sidecars: () => [] }); // a second call is a no-op, not a duplicate metric
  assert.equal(await metrics.value('turnout_operator_sidecars', { namespace: 'a', state: 'connected' }), 2);
  assert.equal(
    await metrics.value('turnout_operator_sidecars', { namespace: 'a', state: 'disconnected' }),
    1,
  );
  assert.equal(await metrics.value('turnout_operator_sidecars', { namespace: 'a', state: 'rejected' }), 1);
  assert.equal(await metrics.value('turnout_operator_sidecars', { namespace: 'b', state: 'connected' }), 0);
});
