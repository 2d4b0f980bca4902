export { startFakeProvider } from './fake-provider.ts';
export { defaultContent, estimateTokens, splitText } from './answer.ts';
export { fakeVector } from './dialects/openai-embeddings.ts';
export { OPENAI_MODELS } from './dialects/openai.ts';
export { ANTHROPIC_MODELS } from './dialects/anthropic.ts';
export { GEMINI_MODELS } from './dialects/gemini.ts';
export { AZURE_DEPLOYMENTS } from './dialects/azure-openai.ts';
export type * from './types.ts';
