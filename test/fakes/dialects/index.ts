import type { DialectName, FakeProviderOptions } from '../types.ts';
import { anthropic } from './anthropic.ts';
import { AZURE_DEPLOYMENTS, azureOpenAi } from './azure-openai.ts';
import type { Dialect } from './dialect.ts';
import { gemini } from './gemini.ts';
import { openai } from './openai.ts';

export const DIALECTS: Record<Exclude<DialectName, 'azure-openai'>, Dialect> = { openai, anthropic, gemini };

/** The dialect a fake speaks; an Azure resource also needs the deployments it has. */
export function dialectFor(options: FakeProviderOptions): Dialect {
  if (options.dialect === 'azure-openai') return azureOpenAi(options.deployments ?? AZURE_DEPLOYMENTS);
  return DIALECTS[options.dialect];
}
