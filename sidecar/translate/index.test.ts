import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as translate from './index.ts';

describe('sidecar/translate public surface', () => {
  it('exports the translators, stream classes, error helpers and rule tables', () => {
    const functions = [
      'anthropicRequestFromOpenAi',
      'openAiRequestFromAnthropic',
      'geminiRequestFromOpenAi',
      'openAiResponseFromAnthropic',
      'openAiResponseFromGemini',
      'anthropicResponseFromOpenAi',
      'usageFromAnthropic',
      'usageFromGemini',
      'errorFromOpenAi',
      'errorFromAnthropic',
      'errorFromGemini',
      'openAiErrorJson',
      'anthropicErrorJson',
      'openAiStreamErrorFrame',
      'anthropicStreamErrorFrame',
      'sseTranslatorPipe',
      'checkParameters',
      'AnthropicToOpenAiStream',
      'GeminiToOpenAiStream',
      'OpenAiToAnthropicStream',
      'UnsupportedParameter',
      'InvalidRequest',
    ] as const;
    for (const name of functions) assert.equal(typeof translate[name], 'function', name);
    for (const table of [translate.ANTHROPIC_PARAMETER_RULES, translate.GEMINI_PARAMETER_RULES]) {
      assert.ok(table.length > 10);
    }
  });
});
