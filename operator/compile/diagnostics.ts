import type { Diagnostic } from '../../api/index.ts';

/** Collects diagnostics; `forObject` gives a reporter bound to one manifest so call sites only name the path. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];

  forObject(kind: string, namespace: string, name: string) {
    const add = (severity: Diagnostic['severity'], path: string, message: string) =>
      this.list.push({ severity, kind, namespace, name, path, message });
    let errors = 0;
    return {
      error: (path: string, message: string) => {
        errors++;
        add('error', path, message);
      },
      warning: (path: string, message: string) => add('warning', path, message),
      errorCount: () => errors,
    };
  }
}

export type ObjectReporter = ReturnType<Diagnostics['forObject']>;
