import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TurnoutError } from '../errors.ts';
import { errorFromAnthropic, errorFromGemini, errorFromOpenAi, kindFromStatus } from './error-classify.ts';
import { anthropicErrorJson, anthropicErrorType, openAiErrorJson } from './error-render.ts';
import { InvalidRequest, UnsupportedParameter } from './errors.ts';
import { anthropicStreamErrorFrame, openAiStreamErrorFrame } from './sse-frames.ts';

describe('error classification', () => {
  it('falls back to the status when the body says nothing', () => {
    const kinds = [
      [401, 'auth'],
      [403, 'auth'],
      [429, 'rate-limited'],
      [400, 'invalid-request'],
      [404, 'invalid-request'],
      [500, 'server'],
      [529, 'server'],
      [409, 'other'],
    ] as const;
    for (const [status, kind] of kinds) {
      assert.equal(kindFromStatus(status), kind);
      assert.equal(errorFromOpenAi(status, '').kind, kind);
      assert.equal(errorFromAnthropic(status, undefined).kind, kind);
      assert.equal(errorFromGemini(status, null).kind, kind);
    }
  });

  it('accepts raw text, Buffers and parsed bodies alike', () => {
    const body = { error: { message: 'too long', code: 'context_length_exceeded' } };
    for (const raw of [body, JSON.stringify(body), Buffer.from(JSON.stringify(body))]) {
      assert.deepEqual(errorFromOpenAi(400, raw), {
        status: 400,
        kind: 'context-length',
        message: 'too long',
        providerCode: 'context_length_exceeded',
      });
    }
  });

  it('recognises context-length errors by their message where there is no code', () => {
    const openAiCompatible = {
      error: { message: "This model's maximum context length is 8192 tokens", type: 'BadRequestError' },
    };
    assert.equal(errorFromOpenAi(400, openAiCompatible).kind, 'context-length');
    assert.equal(
      errorFromAnthropic(400, {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'prompt is too long: 1 > 0' },
      }).kind,
      'context-length',
    );
    assert.equal(
      errorFromAnthropic(400, {
        type: 'error',
        error: { type: 'invalid_request_error', message: 'max_tokens: must be ≤ 8192' },
      }).kind,
      'invalid-request',
    );
  });

  it('maps OpenAI content_policy_violation to content-policy', () => {
    const body = {
      error: {
        message: 'Your request was rejected as a result of our safety system.',
        code: 'content_policy_violation',
      },
    };
    assert.equal(errorFromOpenAi(400, body).kind, 'content-policy');
  });

  it('builds a message from unparseable bodies, never throws', () => {
    assert.equal(
      errorFromGemini(503, 'upstream connect error').message,
      'upstream answered HTTP 503: upstream connect error',
    );
    const page = `<html>\n  <body>${'x'.repeat(400)}</body>\n</html>`;
    assert.equal(
      errorFromOpenAi(403, page).message,
      `upstream answered HTTP 403: <html> <body>${'x'.repeat(200 - '<html> <body>'.length)}…`,
      'a non-JSON body is excerpted: one line, capped',
    );
    assert.equal(errorFromAnthropic(502, '').message, 'upstream answered HTTP 502');
    for (const junk of [undefined, null, 7, [], [1], { error: 'flat string' }, '{"error":']) {
      assert.equal(typeof errorFromOpenAi(500, junk).message, 'string');
      assert.equal(typeof errorFromGemini(500, junk).message, 'string');
    }
    assert.equal(errorFromOpenAi(500, { error: 'flat string' }).message, 'flat string');
  });
});

describe('error rendering', () => {
  it('gives OpenAI callers OpenAI codes that SDK users branch on', () => {
    assert.deepEqual(openAiErrorJson({ status: 400, kind: 'context-length', message: 'm' }), {
      error: { message: 'm', type: 'invalid_request_error', param: null, code: 'context_length_exceeded' },
    });
    assert.equal(
      openAiErrorJson({ status: 400, kind: 'content-policy', message: 'm' }).error.code,
      'content_filter',
    );
    assert.equal(
      openAiErrorJson({ status: 429, kind: 'rate-limited', message: 'm' }).error.code,
      'rate_limit_exceeded',
    );
  });

  it("gives Anthropic callers Anthropic's type names, refined by status within a kind", () => {
    const cases = [
      [400, 'invalid-request', 'invalid_request_error'],
      [400, 'context-length', 'invalid_request_error'],
      [401, 'auth', 'authentication_error'],
      [403, 'auth', 'permission_error'],
      [400, 'auth', 'authentication_error'],
      [404, 'invalid-request', 'not_found_error'],
      [413, 'invalid-request', 'request_too_large'],
      [429, 'rate-limited', 'rate_limit_error'],
      [500, 'server', 'api_error'],
      [503, 'server', 'overloaded_error'],
      [529, 'server', 'overloaded_error'],
      [504, 'server', 'timeout_error'],
      [0, 'rate-limited', 'rate_limit_error'],
    ] as const;
    for (const [status, kind, type] of cases)
      assert.equal(anthropicErrorType({ status, kind }), type, `${status} ${kind}`);
    assert.deepEqual(anthropicErrorJson({ status: 529, kind: 'server', message: 'busy' }), {
      type: 'error',
      error: { type: 'overloaded_error', message: 'busy' },
    });
  });

  it('writes in-band stream error frames for both dialects', () => {
    assert.equal(
      openAiStreamErrorFrame('cut', 'upstream_stream_error'),
      'event: error\ndata: {"error":{"message":"cut","type":"api_error","param":null,"code":"upstream_stream_error"}}\n\n',
    );
    assert.equal(
      anthropicStreamErrorFrame('busy', 'overloaded_error'),
      'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"busy"}}\n\n',
    );
  });

  it('the typed request errors are TurnoutErrors with code invalid_request and a param', () => {
    for (const e of [
      new UnsupportedParameter('n', 'Anthropic', 'one choice'),
      new InvalidRequest('messages', 'must be an array'),
    ]) {
      assert.ok(e instanceof TurnoutError);
      assert.deepEqual([e.code, e.status, e.type], ['invalid_request', 400, 'invalid_request_error']);
    }
    assert.equal(new UnsupportedParameter('n', 'Anthropic', 'one choice').param, 'n');
  });
});
