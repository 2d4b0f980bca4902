import type { DialectName } from '../types.ts';
import { anthropic } from './anthropic.ts';
import type { Dialect } from './dialect.ts';
import { gemini } from './gemini.ts';
import { openai } from './openai.ts';

export const DIALECTS: Record<DialectName, Dialect> = { openai, anthropic, gemini };
