// POST /v1/spend: a sidecar reports its own settled spend per budget key and window (README.md, "Fleet
// budgets"). Same authentication as everything else: a pod can only report as itself, and only the
// budgets of policies that select it count.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DesiredState, SpendCollector } from '../contract.ts';
import { authenticate } from './authenticate.ts';
import { PushError } from './errors.ts';
import { method, readBody, send } from './http.ts';
import { MAX_SPEND_BYTES, spendReport } from './spend-protocol.ts';
import type { CachingReviewer } from './token-review.ts';
import type { PushLog } from './publisher.ts';

export interface SpendEndpointDeps {
  reviewer: CachingReviewer;
  desired: DesiredState;
  spend: SpendCollector | undefined;
  acceptStreams: () => boolean;
  log: PushLog;
}

export async function handleSpend(
  req: IncomingMessage,
  res: ServerResponse,
  d: SpendEndpointDeps,
): Promise<void> {
  method(req, 'POST');
  if (!d.spend)
    throw new PushError(404, 'not_found', 'this operator does not collect spend (fleet budgets are off)');
  // Spend goes where the leases come from: the replica that serves streams.
  if (!d.acceptStreams())
    throw new PushError(503, 'not_serving', 'this replica does not collect spend now; retry (another will)');
  const auth = await authenticate(req.headers, d.reviewer, d.desired);
  const text = await readBody(req, MAX_SPEND_BYTES);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new PushError(400, 'bad_request', 'the body must be JSON: {"instance","records":[…]}');
  }
  const parsed = spendReport.safeParse(json);
  if (!parsed.success)
    throw new PushError(
      400,
      'bad_request',
      `invalid spend report: ${parsed.error.issues
        .slice(0, 5)
        .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
        .join('; ')}`,
    );
  const answer = d.spend.report(auth.pod, parsed.data);
  if (!answer)
    throw new PushError(503, 'not_ready', 'the operator does not know this namespace’s policies yet; retry');
  if (answer.ignored > 0)
    d.log('spend.ignored', { pod: `${auth.pod.namespace}/${auth.pod.name}`, ignored: answer.ignored });
  send(res, 200, answer);
}
