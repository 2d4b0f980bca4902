// What the kubelet would do for an injected pod, which the test control plane has no kubelet for:
// project the Secret and ConfigMap volumes into directories and keep them current the way the kubelet
// does (a new timestamped directory, then one atomic swap of the `..data` symlink), and write the
// projected ServiceAccount token.
import { mkdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ControlPlane } from '../helpers/control-plane.ts';
import { get } from './webhook-harness.ts';

export class VolumeMirror {
  readonly dir: string;
  readonly #cp: ControlPlane;
  readonly #args: string[];
  readonly #secret: boolean;
  #last = '';
  #timer: NodeJS.Timeout | undefined;
  #generation = 0;
  #stopped = false;
  updates = 0;

  constructor(cp: ControlPlane, dir: string, namespace: string, kind: 'secret' | 'configmap', name: string) {
    this.#cp = cp;
    this.dir = dir;
    this.#args = ['-n', namespace, 'get', kind, name];
    this.#secret = kind === 'secret';
  }

  /** Syncs once (the object must exist), then every `intervalMs`. */
  async start(intervalMs: number): Promise<void> {
    await this.sync();
    const tick = () => {
      if (this.#stopped) return;
      this.#timer = setTimeout(
        () =>
          void this.sync()
            .catch(() => undefined)
            .finally(tick),
        intervalMs,
      );
      this.#timer.unref();
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  async sync(): Promise<void> {
    const obj = await get<{ data?: Record<string, string> }>(this.#cp, this.#args);
    const data = obj.data ?? {};
    const text = JSON.stringify(data);
    if (text === this.#last) return;
    await mkdir(this.dir, { recursive: true });
    const version = join(this.dir, `..${Date.now()}_${this.#generation++}`);
    await mkdir(version);
    for (const [key, value] of Object.entries(data))
      await writeFile(join(version, key), this.#secret ? Buffer.from(value, 'base64') : value);
    const previous = await readlink(join(this.dir, '..data')).catch(() => undefined);
    await symlink(version, join(this.dir, '..data_tmp'));
    await rename(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    for (const key of Object.keys(data))
      await symlink(join('..data', key), join(this.dir, key)).catch(() => undefined);
    if (previous) await rm(previous, { recursive: true, force: true });
    this.#last = text;
    this.updates++;
  }
}
