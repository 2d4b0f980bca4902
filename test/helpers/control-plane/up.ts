// Starts a throwaway control plane for poking at by hand, e.g. while debugging an e2e test:
//   scripts/k8s/up.sh [--no-controller-manager]
// Prints the KUBECONFIG to export and stays up until Ctrl-C, then removes everything
// (set TURNOUT_KEEP_CONTROL_PLANE=1 to keep the work dir with its logs).
import { startControlPlane } from '../control-plane.ts';

const controllerManager = !process.argv.includes('--no-controller-manager');
const cp = await startControlPlane({ controllerManager });

process.stdout.write(
  [
    `control plane up: ${cp.server} (logs in ${cp.dir})`,
    `  export KUBECONFIG=${cp.kubeconfig}`,
    `  export PATH=${cp.binDir}:$PATH   # helm, etcd, kube-apiserver`,
    'Ctrl-C to stop.',
    '',
  ].join('\n'),
);

// Keeps the event loop alive: the component processes are unref'd on purpose.
const keepAlive = setInterval(() => {}, 1 << 30);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    clearInterval(keepAlive);
    void cp.stop().then(() => process.exit(0));
  });
}
