import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const buildScript = fileURLToPath(new URL('../../../scripts/k8s/build.sh', import.meta.url));

export interface KubeBinaries {
  binDir: string;
}

let pending: Promise<KubeBinaries> | undefined;

/**
 * Builds (or finds cached) kube-apiserver, kube-controller-manager, etcd and helm via
 * scripts/k8s/build.sh. Memoised per process: every control plane in a test file shares one check.
 */
export function ensureKubeBinaries(): Promise<KubeBinaries> {
  pending ??= runBuild().catch((error: unknown) => {
    pending = undefined; // let a later caller retry, e.g. after a transient proxy failure
    throw error;
  });
  return pending;
}

function runBuild(): Promise<KubeBinaries> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [buildScript], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderrTail: string[] = [];
    let announced = false;
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 40) stderrTail.shift();
      // "up to date" lines are noise on every run; anything else means real work (or trouble).
      if (line.endsWith(': up to date')) return;
      if (!announced) {
        announced = true;
        process.stderr.write(
          '[control-plane] building Kubernetes test binaries from Go modules (first run only: ~10 min on 2 cores)\n',
        );
      }
      process.stderr.write(`${line}\n`);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const binDir = Buffer.concat(stdout).toString('utf8').trim().split('\n').pop() ?? '';
      if (code === 0 && binDir !== '') {
        resolve({ binDir });
        return;
      }
      reject(new Error(`scripts/k8s/build.sh failed (exit ${String(code)}):\n${stderrTail.join('\n')}`));
    });
  });
}
