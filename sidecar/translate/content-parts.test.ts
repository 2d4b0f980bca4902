import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { imageSource, parseArguments, parseDataUrl } from './content-parts.ts';
import { InvalidRequest } from './errors.ts';

describe('content parts', () => {
  it('parses base64 data URLs, with or without parameters', () => {
    assert.deepEqual(parseDataUrl('data:image/png;base64,AAA='), { mediaType: 'image/png', data: 'AAA=' });
    assert.deepEqual(parseDataUrl('data:image/jpeg;name=a.jpg;base64,/9j/'), {
      mediaType: 'image/jpeg',
      data: '/9j/',
    });
    assert.equal(parseDataUrl('data:text/plain,hello'), undefined, 'not base64');
    assert.equal(parseDataUrl('https://x'), undefined);
  });

  it('accepts http(s) and data images only', () => {
    assert.deepEqual(imageSource('HTTPS://x/y', 'p'), { kind: 'url', url: 'HTTPS://x/y' });
    assert.throws(() => imageSource('file:///etc/passwd', 'p'), InvalidRequest);
    assert.throws(() => imageSource(5, 'p'), InvalidRequest);
  });

  it('reads tool arguments as an object; empty means none', () => {
    assert.deepEqual(parseArguments('{"a":1}', 'p'), { a: 1 });
    assert.deepEqual(parseArguments('  ', 'p'), {});
    assert.deepEqual(parseArguments(undefined, 'p'), {});
    assert.deepEqual(parseArguments({ a: 2 }, 'p'), { a: 2 });
    for (const bad of ['[1]', '"s"', '{"a":', 7, null])
      assert.throws(() => parseArguments(bad, 'p'), InvalidRequest);
  });
});
