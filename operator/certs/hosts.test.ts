import assert from 'node:assert/strict';
import { it } from 'node:test';
import { transparentHosts } from './hosts.ts';

it('transparentHosts: canonical hosts per type plus public endpoint hosts, never IPs or cluster names', () => {
  assert.deepEqual(
    transparentHosts([
      { type: 'openai', endpoint: 'http://127.0.0.1:8080/v1' },
      { type: 'anthropic', endpoint: 'https://api.anthropic.com' },
      { type: 'azure-openai', endpoint: 'https://acme.openai.azure.com' },
      { type: 'openai-compatible', endpoint: 'http://vllm.models.svc.cluster.local:8000/v1' },
      { type: 'openai-compatible', endpoint: 'https://api.deepseek.com/v1' },
      { type: 'gemini', endpoint: 'https://generativelanguage.googleapis.com/v1beta' },
      { type: 'mock' },
      { type: 'openai-compatible', endpoint: 'http://[::1]:9000/v1' },
      { type: 'openai-compatible', endpoint: 'http://ollama:11434/v1' },
    ]),
    [
      'acme.openai.azure.com',
      'api.anthropic.com',
      'api.deepseek.com',
      'api.openai.com',
      'generativelanguage.googleapis.com',
    ],
  );
  assert.deepEqual(transparentHosts([]), []);
});

it('transparentHosts: never a wildcard or a name that is not DNS-1123, even if validation was skipped', () => {
  assert.deepEqual(
    transparentHosts([
      { type: 'openai-compatible', endpoint: 'https://*.googleapis.com/v1' },
      { type: 'openai-compatible', endpoint: 'https://*/v1' },
      { type: 'openai-compatible', endpoint: 'https://api_x.example.com/v1' },
      { type: 'openai-compatible', endpoint: 'https://api.example.com./v1' },
      { type: 'openai-compatible', endpoint: 'https://login.example.com/v1' },
    ]),
    ['login.example.com'],
  );
});
