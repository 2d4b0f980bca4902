import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseInjectorConfig } from './config.ts';

const minimal = { tls: {}, sidecar: { image: 'i', operatorUrl: 'https://op:15401' } };

it('config: defaults fill everything but the image and the operator URL; durations become ms', () => {
  const c = parseInjectorConfig(minimal, 'turnout-system');
  assert.equal(c.namespace, 'turnout-system');
  assert.equal(c.tls.promoteAfter, 600_000);
  assert.equal(c.mesh.leafLifetime, 720 * 3_600_000);
  assert.equal(c.injection.defaultMode, 'explicit');
  assert.deepEqual(c.sidecar.resources, {
    requests: { cpu: '50m', memory: '128Mi' },
    limits: { memory: '256Mi' },
  });
});

it('config: refuses what would inject broken pods, naming the field', () => {
  assert.throws(
    () => parseInjectorConfig({ tls: {}, sidecar: { image: 'i', operatorUrl: 'http://op' } }, 'ns'),
    /sidecar.operatorUrl/,
  );
  assert.throws(
    () => parseInjectorConfig({ ...minimal, injection: { defaultMode: 'magic' } }, 'ns'),
    /injection.defaultMode/,
  );
  assert.throws(
    () => parseInjectorConfig({ ...minimal, tls: { certLifetime: '90 days' } }, 'ns'),
    /tls.certLifetime/,
  );
  assert.throws(() => parseInjectorConfig(minimal), /POD_NAMESPACE/);
  assert.throws(
    () => parseInjectorConfig({ ...minimal, tls: { caLifetime: '1h', promoteAfter: '40m' } }, 'ns'),
    /promoteAfter must be under half/,
  );
});
