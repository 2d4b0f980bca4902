// The operator's own serving certificate (webhook and push server share it): issued from an
// operator-managed CA kept in a Secret, or — with cert-manager — mounted by the kubelet. Every replica
// mirrors the Secret into local files that both servers re-read, and keeps the webhook configuration's
// caBundle equal to the CA bundle, so rotations need no restart and never fail an admission call.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdmissionregistrationV1Api, CoreV1Api } from '@kubernetes/client-node';
import { errorText, httpStatusOf, type Logger } from '../kube/log.ts';
import { createAuthority, issueLeaf } from './authority.ts';
import { fromSecret, toSecret } from './authority-secret.ts';
import { readSecret, writeSecret } from './kube-objects.ts';
import { leafProblem, planAuthority, trustBundle, type AuthorityTiming } from './rotation.ts';

export interface ControlTlsOptions {
  core: CoreV1Api;
  admission: AdmissionregistrationV1Api;
  /** The operator's namespace, where the managed Secret lives. */
  namespace: string;
  /** Manage this Secret (CA + serving cert). Undefined: files in `dir` are provided (cert-manager). */
  secretName: string | undefined;
  /** tls.crt, tls.key and ca.crt: written here when managed, read from here when mounted. */
  dir: string;
  dnsNames: readonly string[];
  ipAddresses: readonly string[];
  authority: AuthorityTiming;
  leafLifetimeMs: number;
  /** MutatingWebhookConfiguration whose caBundle to keep current (managed mode only). */
  webhookConfiguration: string | undefined;
  syncIntervalMs: number;
  log: Logger;
  now?: () => number;
}

export class ControlTls {
  readonly #o: ControlTlsOptions;
  readonly #now: () => number;
  #bundle = '';
  #written = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(opts: ControlTlsOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
  }

  get files() {
    const f = (n: string) => join(this.#o.dir, n);
    return { cert: f('tls.crt'), key: f('tls.key'), ca: f('ca.crt') };
  }

  /** The CA bundle sidecars should trust to reach the push server. */
  caBundle(): string {
    return this.#bundle;
  }

  /** Resolves once the serving files exist; keeps them current until stop(). */
  async start(): Promise<void> {
    for (let attempt = 0; !(await this.#syncOnce()); attempt++) {
      if (this.#stopped) throw new Error('stopped before a serving certificate was available');
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** attempt, 5000)));
    }
    const tick = () => {
      this.#timer = setTimeout(
        () => void this.#syncOnce().finally(() => !this.#stopped && tick()),
        this.#o.syncIntervalMs,
      );
      this.#timer.unref();
    };
    tick();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** One pass; true when serving files are in place. Errors are logged, never thrown. */
  async #syncOnce(): Promise<boolean> {
    try {
      if (this.#o.secretName === undefined) {
        this.#bundle = await readFile(this.files.ca, 'utf8');
        await readFile(this.files.cert);
        return true;
      }
      const data = await this.#reconcileSecret(this.#o.secretName);
      if (!data) return false;
      await this.#mirror(data);
      this.#bundle = data['ca.crt'] ?? '';
      if (this.#o.webhookConfiguration) await this.#patchCaBundle(this.#o.webhookConfiguration, this.#bundle);
      return true;
    } catch (e) {
      this.#o.log.warn('serving certificate sync failed', { error: errorText(e) });
      return this.#written.size > 0;
    }
  }

  /** Plans the rotation from what is stored; returns the Secret's data as it now stands (undefined: retry). */
  async #reconcileSecret(name: string): Promise<Record<string, string> | undefined> {
    const { core, namespace } = this.#o;
    const now = this.#now();
    const stored = await readSecret(core, namespace, name);
    const before = fromSecret(stored?.data, stored?.annotations);
    const cn = `${name}.${namespace}`;
    const plan = planAuthority(before.authority, this.#o.authority, now, () =>
      createAuthority(`${cn} CA ${new Date(now).toISOString()}`, this.#o.authority.lifetimeMs, now),
    );
    const ca = plan.state.current;
    if (!ca) return undefined;
    const names = [...this.#o.dnsNames, ...this.#o.ipAddresses];
    const problem = leafProblem(before.leaf, ca, { names, lifetimeMs: this.#o.leafLifetimeMs }, now);
    if (plan.steps.length === 0 && !problem) return stored?.data;
    const leaf = problem
      ? issueLeaf(
          ca,
          {
            commonName: this.#o.dnsNames[0] ?? cn,
            dnsNames: this.#o.dnsNames,
            ipAddresses: this.#o.ipAddresses,
            lifetimeMs: this.#o.leafLifetimeMs,
          },
          now,
        )
      : before.leaf;
    const next = toSecret({ authority: plan.state, ...(leaf && { leaf }) });
    const result = await writeSecret(
      core,
      { namespace, name, ...next, resourceVersion: stored?.resourceVersion },
      'kubernetes.io/tls',
    );
    if (result === 'conflict') return undefined;
    this.#o.log.info('serving certificate updated', {
      secret: `${namespace}/${name}`,
      steps: plan.steps,
      ...(problem && { leaf: problem }),
      caCount: trustBundle(plan.state).split('BEGIN').length - 1,
    });
    return next.data;
  }

  /** Writes tls.crt, tls.key and ca.crt; each atomically (temp file + rename), only when changed. */
  async #mirror(data: Record<string, string>): Promise<void> {
    await mkdir(this.#o.dir, { recursive: true, mode: 0o700 });
    // Key before certificate: a reader that sees the new certificate also finds its key.
    for (const name of ['tls.key', 'ca.crt', 'tls.crt']) {
      const content = data[name];
      if (content === undefined || this.#written.get(name) === content) continue;
      const path = join(this.#o.dir, name);
      await writeFile(`${path}.tmp`, content, { mode: 0o600 });
      await rename(`${path}.tmp`, path);
      this.#written.set(name, content);
    }
  }

  async #patchCaBundle(name: string, bundle: string): Promise<void> {
    const want = Buffer.from(bundle).toString('base64');
    let config;
    try {
      config = await this.#o.admission.readMutatingWebhookConfiguration({ name });
    } catch (e) {
      if (httpStatusOf(e) !== 404) throw e;
      this.#o.log.warn('webhook configuration not found: caBundle not managed', { name });
      return;
    }
    const hooks = config.webhooks ?? [];
    if (hooks.every((h) => h.clientConfig.caBundle === want)) return;
    for (const h of hooks) h.clientConfig.caBundle = want;
    // Replace carries the resourceVersion just read: a concurrent edit makes this fail and retry.
    await this.#o.admission.replaceMutatingWebhookConfiguration({ name, body: config });
    this.#o.log.info('webhook caBundle updated', { name, webhooks: hooks.length });
  }
}
