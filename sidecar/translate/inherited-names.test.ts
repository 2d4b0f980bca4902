// Bodies from callers and upstreams name things ("constructor", "toString", "__proto__") that a plain
// object lookup would find on Object.prototype. Every table lookup of such a name must miss instead:
// a hit returns a function, which crashes the request (a 500) or vanishes from the JSON it is put in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorFromAnthropic, errorFromGemini } from './error-classify.ts';
import { finishFromAnthropic, geminiFailure, stopReasonFromOpenAi } from './finish-reasons.ts';
import { geminiRequestFromOpenAi } from './gemini-request.ts';

const INHERITED = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];

describe('names inherited from Object.prototype', () => {
  it('are unknown finish and stop reasons', () => {
    for (const name of INHERITED) {
      assert.equal(finishFromAnthropic(name), 'stop');
      assert.equal(stopReasonFromOpenAi(name), 'end_turn');
      assert.equal(geminiFailure(name), undefined);
    }
  });

  it('are unknown provider error types: the kind comes from the status', () => {
    for (const name of INHERITED) {
      assert.equal(
        errorFromAnthropic(429, { type: 'error', error: { type: name, message: 'm' } }).kind,
        'rate-limited',
      );
      assert.equal(errorFromGemini(503, { error: { code: 503, status: name, message: 'm' } }).kind, 'server');
    }
  });

  it('are unknown schema types and image extensions when translating to Gemini', () => {
    for (const name of INHERITED) {
      const parameters = { type: 'object', properties: { a: { type: name, format: 'date-time' } } };
      const request = geminiRequestFromOpenAi(
        {
          messages: [
            { role: 'user', content: [{ type: 'image_url', image_url: { url: `https://x/a.${name}` } }] },
          ],
          tools: [{ type: 'function', function: { name: 'f', parameters } }],
        },
        { model: 'gemini-2.5-flash' },
      );
      const json = JSON.stringify(request.body);
      assert.match(json, /"mimeType":"image\/jpeg"/, name);
      assert.doesNotMatch(json, /"format"/, `${name}: no format is allowed for an unknown type`);
    }
  });
});
