import type { Step } from './types.ts';

export type Fault =
  | { kind: 'cut'; after: number }
  | { kind: 'malformed'; after: number }
  | { kind: 'stall'; after: number; stallMs: number | undefined }
  | { kind: 'error'; after: number; frame: string; holdOpen: boolean };

/** How an answer's bytes go out, apart from what they say. */
export interface Delivery {
  firstDelayMs: number;
  chunkDelayMs: number;
  fault: Fault | undefined;
  /** no-done: leave out the dialect's end frames. */
  dropEnd: boolean;
}

export type AnswerStep = Extract<
  Step,
  {
    kind: 'ok' | 'slow-first-token' | 'cut-stream' | 'stall' | 'malformed-chunk' | 'stream-error' | 'no-done';
  }
>;

/** `errorFrame`: the route's in-band error event, for a stream-error step. */
export function deliveryOf(step: AnswerStep, errorFrame = ''): Delivery {
  const delivery: Delivery = {
    firstDelayMs: 0,
    chunkDelayMs: step.chunkDelayMs ?? 0,
    fault: undefined,
    dropEnd: false,
  };
  switch (step.kind) {
    case 'slow-first-token':
      delivery.firstDelayMs = step.delayMs;
      break;
    case 'cut-stream':
      delivery.fault = { kind: 'cut', after: step.afterChunks };
      break;
    case 'stall':
      delivery.fault = { kind: 'stall', after: step.afterChunks, stallMs: step.stallMs };
      break;
    case 'malformed-chunk':
      delivery.fault = { kind: 'malformed', after: step.afterChunks };
      break;
    case 'stream-error':
      delivery.fault = {
        kind: 'error',
        after: step.afterChunks,
        frame: errorFrame,
        holdOpen: step.holdOpen === true,
      };
      break;
    case 'no-done':
      delivery.dropEnd = true;
      break;
    case 'ok':
      break;
  }
  return delivery;
}

export function isPlain(delivery: Delivery): boolean {
  return delivery.firstDelayMs === 0 && delivery.chunkDelayMs === 0 && delivery.fault === undefined;
}
