// A real Kubernetes control plane for tests: etcd + kube-apiserver (+ optionally
// kube-controller-manager) built from Go modules by scripts/k8s/build.sh, on random loopback ports,
// with real TLS, RBAC, ServiceAccount token signing and admission webhooks. See test/helpers/README.md.
import { rmSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { ensureKubeBinaries } from './control-plane/binaries.ts';
import { type CommandResult, runCommand } from './control-plane/command.ts';
import {
  apiServerArgs,
  controllerManagerArgs,
  etcdArgs,
  kubernetesServiceIp,
  logFile,
  serviceAccountIssuer,
} from './control-plane/components.ts';
import { writeKubeconfig } from './control-plane/kubeconfig.ts';
import {
  freePort,
  httpGet,
  httpsGet,
  loadTlsClient,
  pollUntil,
  type TlsClient,
} from './control-plane/net.ts';
import { createPki, issueClientCert, type Pki } from './control-plane/pki.ts';
import { ManagedProcess } from './control-plane/process.ts';
import { startWatchdog, track } from './control-plane/reaper.ts';

export { ensureKubeBinaries } from './control-plane/binaries.ts';
export type { KubeBinaries } from './control-plane/binaries.ts';
export type { CommandResult } from './control-plane/command.ts';
export type { Pki } from './control-plane/pki.ts';

export interface ControlPlaneOptions {
  /** Also run kube-controller-manager (default ServiceAccounts, namespace deletion, GC). Needed to create Pods. */
  controllerManager?: boolean;
  /**
   * Extra audiences the apiserver accepts for its own authentication. Default none: like a real
   * cluster, a token minted for "turnout" is only valid in a TokenReview that names "turnout".
   */
  apiAudiences?: readonly string[];
  /** Extra kube-apiserver flags, appended after the defaults (a repeated flag wins). */
  apiServerArgs?: readonly string[];
  /** Per-component readiness timeout. Default 120 s (2 shared CI cores can be slow). */
  startTimeoutMs?: number;
  /** Keep the work dir (logs, PKI, etcd data) after stop(). Default: TURNOUT_KEEP_CONTROL_PLANE=1. */
  keepDir?: boolean;
}

export interface RunOptions {
  input?: string;
}

export interface ControlPlane {
  /** Work dir: PKI, kubeconfigs, etcd data, one <component>.log per component. */
  readonly dir: string;
  readonly binDir: string;
  /** Path of an admin (system:masters) kubeconfig. */
  readonly kubeconfig: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  readonly caFile: string;
  readonly pki: Pki;
  readonly serviceAccountIssuer: string;
  /** process.env plus KUBECONFIG, helm homes in `dir`, the bin dir on PATH; in-cluster vars removed. */
  readonly env: NodeJS.ProcessEnv;
  kubectl(args: readonly string[], opts?: RunOptions): Promise<CommandResult>;
  helm(args: readonly string[], opts?: RunOptions): Promise<CommandResult>;
  /** Writes a kubeconfig for a client-cert user (CN = user, O = groups), e.g. to test RBAC denials. */
  kubeconfigFor(user: string, groups?: readonly string[]): Promise<string>;
  /** The last lines of a component's log: 'etcd', 'kube-apiserver', 'kube-controller-manager'. */
  logTail(component: string, lines?: number): Promise<string>;
  stop(): Promise<void>;
}

const maxStartAttempts = 3;

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const { binDir } = await ensureKubeBinaries();
  for (let attempt = 1; ; attempt++) {
    const cluster = await Cluster.prepare(binDir, opts);
    try {
      await cluster.boot();
      return cluster;
    } catch (error) {
      await cluster.stop();
      // Ports are picked free but released before the component binds them; a lost race is the
      // one failure a retry fixes.
      const collided = error instanceof Error && /address already in use/i.test(error.message);
      if (!collided || attempt >= maxStartAttempts) throw error;
    }
  }
}

interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
}

class Cluster implements ControlPlane {
  readonly dir: string;
  readonly binDir: string;
  readonly kubeconfig: string;
  readonly server: string;
  readonly caFile: string;
  readonly pki: Pki;
  readonly serviceAccountIssuer = serviceAccountIssuer;
  readonly env: NodeJS.ProcessEnv;
  #opts: ControlPlaneOptions;
  #ports: Ports;
  #tls: TlsClient;
  #processes: ManagedProcess[] = [];
  #watchdogPid: number | undefined;
  #untrack: () => void;
  #stopped = false;

  private constructor(
    dir: string,
    binDir: string,
    pki: Pki,
    ports: Ports,
    tls: TlsClient,
    opts: ControlPlaneOptions,
  ) {
    this.dir = dir;
    this.binDir = binDir;
    this.pki = pki;
    this.caFile = pki.caFile;
    this.server = `https://127.0.0.1:${ports.apiserver}`;
    this.kubeconfig = join(dir, 'admin.kubeconfig');
    this.env = clientEnv(dir, binDir, this.kubeconfig);
    this.#ports = ports;
    this.#tls = tls;
    this.#opts = opts;
    this.#untrack = track(this);
  }

  static async prepare(binDir: string, opts: ControlPlaneOptions): Promise<Cluster> {
    const dir = await mkdtemp(join(tmpdir(), 'turnout-cp-'));
    const watchdogPid = startWatchdog(dir, keepDir(opts));
    try {
      const pki = await createPki(dir, kubernetesServiceIp);
      const ports = { etcdClient: await freePort(), etcdPeer: await freePort(), apiserver: await freePort() };
      const tls = await loadTlsClient(pki.caFile, pki.adminCertFile, pki.adminKeyFile);
      const cluster = new Cluster(dir, binDir, pki, ports, tls, opts);
      cluster.#watchdogPid = watchdogPid;
      return cluster;
    } catch (error) {
      if (watchdogPid !== undefined) process.kill(watchdogPid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  async boot(): Promise<void> {
    await writeKubeconfig(this.kubeconfig, this.server, this.caFile, {
      certFile: this.pki.adminCertFile,
      keyFile: this.pki.adminKeyFile,
    });
    await this.#startEtcd();
    await this.#startApiServer();
    if (this.#opts.controllerManager === true) await this.#startControllerManager();
  }

  async #startEtcd(): Promise<void> {
    const etcdUrl = `http://127.0.0.1:${this.#ports.etcdClient}`;
    const args = etcdArgs(join(this.dir, 'etcd-data'), {
      client: this.#ports.etcdClient,
      peer: this.#ports.etcdPeer,
    });
    const etcd = await this.#spawn('etcd', args);
    await this.#waitFor(etcd, 'health', async () => {
      const res = await httpGet(`${etcdUrl}/health`);
      return {
        ok: res.status === 200 && res.body.includes('"health":"true"'),
        detail: `${res.status} ${res.body}`,
      };
    });
  }

  async #startApiServer(): Promise<void> {
    const args = apiServerArgs({
      pki: this.pki,
      etcdUrl: `http://127.0.0.1:${this.#ports.etcdClient}`,
      securePort: this.#ports.apiserver,
      extraAudiences: this.#opts.apiAudiences ?? [],
    });
    const apiserver = await this.#spawn('kube-apiserver', [...args, ...(this.#opts.apiServerArgs ?? [])]);
    await this.#waitFor(apiserver, '/readyz', () => this.#get('/readyz'));
    // /readyz can pass a moment before the bootstrap controller has created the `default` namespace.
    await this.#waitFor(apiserver, 'default namespace', () => this.#get('/api/v1/namespaces/default'));
  }

  async #startControllerManager(): Promise<void> {
    const kubeconfig = join(this.dir, 'kube-controller-manager.kubeconfig');
    await writeKubeconfig(kubeconfig, this.server, this.caFile, {
      certFile: this.pki.controllerManagerCertFile,
      keyFile: this.pki.controllerManagerKeyFile,
    });
    const kcm = await this.#spawn(
      'kube-controller-manager',
      controllerManagerArgs({ pki: this.pki, kubeconfig }),
    );
    // It serves no health endpoint (--secure-port=0); its first visible effect is the readiness signal.
    await this.#waitFor(kcm, 'default ServiceAccount', () =>
      this.#get('/api/v1/namespaces/default/serviceaccounts/default'),
    );
  }

  async #get(path: string): Promise<{ ok: boolean; detail: string }> {
    const res = await httpsGet(`${this.server}${path}`, this.#tls);
    return { ok: res.status === 200, detail: `${res.status} ${res.body.slice(0, 500)}` };
  }

  async #spawn(component: string, args: readonly string[]): Promise<ManagedProcess> {
    const proc = ManagedProcess.start(component, join(this.binDir, component), args, {
      logFile: logFile(this.dir, component),
    });
    this.#processes.push(proc);
    // The watchdog kills what this file lists if the test process dies without running exit handlers.
    if (proc.pid !== undefined) await appendFile(join(this.dir, 'pids'), `${proc.pid}\n`);
    return proc;
  }

  async #waitFor(
    proc: ManagedProcess,
    what: string,
    check: () => Promise<{ ok: boolean; detail: string }>,
  ): Promise<void> {
    try {
      await pollUntil(check, {
        timeoutMs: this.#opts.startTimeoutMs ?? 120_000,
        what: `${proc.name} ${what}`,
        abort: () => proc.exitDescription,
      });
    } catch (error) {
      throw new Error(
        `${error instanceof Error ? error.message : String(error)}\n${await this.#allLogTails()}`,
        { cause: error },
      );
    }
  }

  async #allLogTails(): Promise<string> {
    const parts = await Promise.all(
      this.#processes.map(async (p) => `--- ${p.name} (${p.logFile}) ---\n${await p.logTail(30)}`),
    );
    return parts.join('\n');
  }

  kubectl(args: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    return runCommand(process.env.KUBECTL ?? 'kubectl', args, { env: this.env, input: opts.input });
  }

  helm(args: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    return runCommand(join(this.binDir, 'helm'), args, { env: this.env, input: opts.input });
  }

  async kubeconfigFor(user: string, groups: readonly string[] = []): Promise<string> {
    const usersDir = join(this.dir, 'users');
    await mkdir(usersDir, { recursive: true });
    const safe = user.replace(/[^A-Za-z0-9_.-]/g, '_');
    const cert = await issueClientCert(usersDir, this.pki, safe, user, groups);
    const path = join(usersDir, `${safe}.kubeconfig`);
    await writeKubeconfig(path, this.server, this.caFile, cert, safe);
    return path;
  }

  async logTail(component: string, lines = 40): Promise<string> {
    const proc = this.#processes.find((p) => p.name === component);
    return proc ? proc.logTail(lines) : '';
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#untrack();
    // Reverse start order: clients of the apiserver first, etcd last, so nothing logs spurious errors.
    for (const proc of [...this.#processes].reverse()) await proc.stop();
    this.#killWatchdog();
    if (!keepDir(this.#opts)) await rm(this.dir, { recursive: true, force: true });
  }

  /** Exit-handler path: synchronous, no grace period. */
  reapNow(): void {
    for (const proc of this.#processes) proc.killNow();
    this.#killWatchdog();
    if (!keepDir(this.#opts)) rmSync(this.dir, { recursive: true, force: true });
  }

  #killWatchdog(): void {
    if (this.#watchdogPid === undefined) return;
    try {
      process.kill(this.#watchdogPid, 'SIGKILL');
    } catch {
      // Already gone.
    }
    this.#watchdogPid = undefined;
  }
}

function keepDir(opts: ControlPlaneOptions): boolean {
  return opts.keepDir ?? process.env.TURNOUT_KEEP_CONTROL_PLANE === '1';
}

/** Environment for kubectl/helm/test subprocesses talking to this control plane and nothing else. */
function clientEnv(dir: string, binDir: string, kubeconfig: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBECONFIG: kubeconfig,
    // kubectl caches discovery per host:port; random ports would litter ~/.kube/cache.
    KUBECACHEDIR: join(dir, 'kube-cache'),
    HELM_CACHE_HOME: join(dir, 'helm', 'cache'),
    HELM_CONFIG_HOME: join(dir, 'helm', 'config'),
    HELM_DATA_HOME: join(dir, 'helm', 'data'),
    PATH: [binDir, process.env.PATH ?? ''].join(delimiter),
    NO_PROXY: ['127.0.0.1', 'localhost', process.env.NO_PROXY].filter(Boolean).join(','),
  };
  // Run inside a pod (some CI), client libraries would otherwise prefer the real cluster.
  delete env.KUBERNETES_SERVICE_HOST;
  delete env.KUBERNETES_SERVICE_PORT;
  return env;
}
