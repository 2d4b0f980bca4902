// Who is asking: the pod a request claims to be (x-turnout-pod) must be the pod its token is bound to,
// and a pod the reconciler knows with that same uid. Only then is it served, and only its own snapshot.
import type { IncomingHttpHeaders } from 'node:http';
import type { DesiredState, PodIdentity } from '../contract.ts';
import { PushError } from './errors.ts';
import { HEADER_POD, parsePodRef } from './protocol.ts';
import { tokenExpiry, type CachingReviewer } from './token-review.ts';

export interface Authenticated {
  pod: PodIdentity;
  /** When the presented token expires (ms since epoch), if it says. */
  tokenExpiresAt: number | undefined;
}

export async function authenticate(
  headers: IncomingHttpHeaders,
  reviewer: CachingReviewer,
  desired: DesiredState,
): Promise<Authenticated> {
  const token = /^Bearer +(\S+)$/i.exec(headers.authorization ?? '')?.[1];
  if (!token)
    throw new PushError(
      401,
      'unauthenticated',
      'send "Authorization: Bearer <projected ServiceAccount token with audience turnout>"',
    );
  const claimed = parsePodRef(headerValue(headers[HEADER_POD]));
  if (!claimed)
    throw new PushError(400, 'bad_request', `send the header ${HEADER_POD}: <namespace>/<pod name>`);

  let review;
  try {
    review = await reviewer.review(token);
  } catch (e) {
    // The cause is logged: make sure a client library that echoes its request cannot leak the token.
    const detail = (e instanceof Error ? e.message : String(e)).split(token).join('<token>');
    throw new PushError(503, 'review_unavailable', 'cannot verify the token right now; retry later', {
      cause: new Error(detail),
    });
  }
  if (!review.authenticated)
    throw new PushError(
      401,
      'unauthenticated',
      'the token was refused (expired, revoked or not for audience turnout)',
    );
  if (!review.podName || !review.podUid)
    throw new PushError(
      403,
      'forbidden',
      'the token is not bound to a pod: mount a projected ServiceAccount token (audience turnout)',
    );
  if (review.namespace !== claimed.namespace || review.podName !== claimed.name)
    throw new PushError(
      403,
      'forbidden',
      `the token does not belong to pod ${claimed.namespace}/${claimed.name}`,
    );
  const pod = desired.pod(claimed.namespace, claimed.name);
  // A uid mismatch is a token of an earlier pod with the same name: it must not see the new one's config.
  if (!pod || pod.uid !== review.podUid)
    throw new PushError(
      403,
      'forbidden',
      `pod ${claimed.namespace}/${claimed.name} is not a Turnout-injected pod known to the operator`,
    );
  return { pod, tokenExpiresAt: tokenExpiry(token) };
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? undefined : v;
}
