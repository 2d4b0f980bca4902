// The Node settings a pod's sidecar runs with: the injector derives them from the chart's default
// sidecar memory limit (operator/webhook/sidecar-spec.ts → sidecar/node-options.ts). Benchmarks that
// speak for the shipped sidecar start it with exactly these.
import { readFile } from 'node:fs/promises';
// Not re-exported from the package root; the package declares no exports map, so its file is importable.
import { quantityToScalar } from '@kubernetes/client-node/dist/util.js';
import { parse } from 'yaml';
import { sidecarNodeEnv, type SidecarNodeEnv } from '../sidecar/node-options.ts';
import { here } from './processes.ts';

export interface PodSettings {
  /** `sidecar.resources.limits.memory` in charts/turnout/values.yaml, e.g. "256Mi". */
  memoryLimit: string;
  env: SidecarNodeEnv;
}

export async function podSettings(): Promise<PodSettings> {
  const values = parse(await readFile(here('../charts/turnout/values.yaml'), 'utf8')) as {
    sidecar?: { resources?: { limits?: { memory?: string } } };
  };
  const memoryLimit = values.sidecar?.resources?.limits?.memory;
  if (!memoryLimit) throw new Error('charts/turnout/values.yaml sets no sidecar.resources.limits.memory');
  return { memoryLimit, env: sidecarNodeEnv(Number(quantityToScalar(memoryLimit))) };
}
