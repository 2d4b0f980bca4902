import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { telemetryConfig } from './config.ts';

describe('telemetry configuration from OTEL_* variables', () => {
  it('is off with nothing set: no endpoint, no exporter named', async () => {
    const c = await telemetryConfig({});
    assert.equal(c.tracing, undefined);
    assert.equal(c.captureContent, false);
    assert.deepEqual(c.warnings, []);
  });

  it('an OTLP endpoint turns tracing on; the generic one gets /v1/traces, the traces one is used as is', async () => {
    assert.equal(
      (await telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).tracing?.url,
      'http://collector:4318/v1/traces',
    );
    assert.equal(
      (
        await telemetryConfig({
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318',
          OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:4318/custom',
        })
      ).tracing?.url,
      'http://b:4318/custom',
    );
  });

  it('OTEL_TRACES_EXPORTER=none and OTEL_SDK_DISABLED=true win over an endpoint', async () => {
    const url = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    assert.equal((await telemetryConfig({ ...url, OTEL_TRACES_EXPORTER: 'none' })).tracing, undefined);
    assert.equal((await telemetryConfig({ ...url, OTEL_SDK_DISABLED: 'true' })).tracing, undefined);
    assert.equal((await telemetryConfig({ OTEL_TRACES_EXPORTER: 'console' })).tracing?.exporter, 'console');
  });

  it('samplers: the default is parentbased_always_on; ratios are checked', async () => {
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    assert.deepEqual((await telemetryConfig(on)).tracing?.sampler, { kind: 'parentbased_always_on' });
    assert.deepEqual(
      (
        await telemetryConfig({
          ...on,
          OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
          OTEL_TRACES_SAMPLER_ARG: '0.25',
        })
      ).tracing?.sampler,
      { kind: 'parentbased_traceidratio', ratio: 0.25 },
    );
    const bad = await telemetryConfig({
      ...on,
      OTEL_TRACES_SAMPLER: 'traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '2',
    });
    assert.deepEqual(bad.tracing?.sampler, { kind: 'traceidratio', ratio: 1 });
    assert.match(bad.warnings.join(), /not a ratio/);
    const unknown = await telemetryConfig({ ...on, OTEL_TRACES_SAMPLER: 'jaeger_remote' });
    assert.deepEqual(unknown.tracing?.sampler, { kind: 'parentbased_always_on' });
    assert.match(unknown.warnings.join(), /not supported/);
  });

  it('service name, resource attributes, headers and batch settings', async () => {
    const t = await telemetryConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_SERVICE_NAME: 'svc',
      OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=p-1,team=a%20b',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20t0k',
      OTEL_BSP_SCHEDULE_DELAY: '250',
      OTEL_BSP_MAX_QUEUE_SIZE: 'lots',
    });
    assert.equal(t.tracing?.serviceName, 'svc');
    assert.deepEqual(t.tracing?.resourceAttributes, { 'k8s.pod.name': 'p-1', team: 'a b' });
    assert.deepEqual(t.tracing?.headers, { authorization: 'Bearer t0k' });
    assert.deepEqual(t.tracing?.batch, { scheduledDelayMillis: 250 });
    assert.match(t.warnings.join(), /OTEL_BSP_MAX_QUEUE_SIZE/);
  });

  it('content capture follows OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', async () => {
    assert.equal(
      (await telemetryConfig({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' })).captureContent,
      true,
    );
    assert.equal(
      (await telemetryConfig({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'no' })).captureContent,
      false,
    );
  });
});
