// Fake provider upstreams a test file starts together, by name, and resets and closes together.
import { startFakeProvider, type DialectName, type FakeProvider, type Step } from '../fakes/index.ts';

export type FakeUpstreams<Name extends string> = Record<Name, FakeProvider>;

/** One fake upstream per entry, speaking the dialect given: `{ primary: 'openai', claude: 'anthropic' }`. */
export async function startFakeUpstreams<Name extends string>(
  dialects: Record<Name, DialectName>,
): Promise<FakeUpstreams<Name>> {
  const started: Partial<FakeUpstreams<Name>> = {};
  for (const [name, dialect] of Object.entries(dialects) as [Name, DialectName][])
    started[name] = await startFakeProvider({ dialect });
  return started as FakeUpstreams<Name>;
}

/** Clears what each fake recorded and was scripted to do (between tests). */
export function resetAll(fakes: Partial<Record<string, FakeProvider>>): void {
  for (const fake of Object.values(fakes)) fake?.reset();
}

/** Stops every fake; tolerates a set-up that failed half way (`undefined`, or fakes missing). */
export async function closeAll(fakes: Partial<Record<string, FakeProvider>> | undefined): Promise<void> {
  for (const fake of Object.values(fakes ?? {})) await fake?.close();
}

/** The same step `times` times over, for `script()`: failures in a row that trip (or do not trip) a breaker. */
export const repeatStep = (step: Step, times: number): Step[] => Array.from({ length: times }, () => step);
