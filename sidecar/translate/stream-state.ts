// The observable state every stream translator keeps, behind read-only getters so only the translator
// itself can change what it reports to the sidecar (completion, finish reason, usage, errors).
import type { Usage } from '../accounting/usage.ts';
import type { OpenAiFinishReason } from './types.ts';

export interface StreamState {
  completed: boolean;
  finishReason: OpenAiFinishReason | undefined;
  usage: Usage | undefined;
  malformed: number;
  error: string | undefined;
}

export abstract class StreamStateView {
  protected readonly state: StreamState = {
    completed: false,
    finishReason: undefined,
    usage: undefined,
    malformed: 0,
    error: undefined,
  };

  get completed(): boolean {
    return this.state.completed;
  }

  get finishReason(): OpenAiFinishReason | undefined {
    return this.state.finishReason;
  }

  get usage(): Usage | undefined {
    return this.state.usage;
  }

  get malformed(): number {
    return this.state.malformed;
  }

  get error(): string | undefined {
    return this.state.error;
  }
}
