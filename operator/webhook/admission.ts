// admission.k8s.io/v1 AdmissionReview in, AdmissionReview out. Anything that is not a Pod CREATE is
// allowed untouched; a malformed review is a 400 (the apiserver then applies failurePolicy).
import { planInjection, type InjectionContext, type InjectionPlan } from './inject.ts';
import type { PodLike } from './pod.ts';

export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  namespace?: string;
  operation?: string;
  dryRun?: boolean;
  object?: PodLike;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  warnings?: string[];
  status?: { code: number; message: string };
}

export class BadReview extends Error {}

export interface Reviewed {
  response: AdmissionResponse;
  plan: InjectionPlan | undefined;
  namespace: string;
  dryRun: boolean;
}

export function parseReview(body: string): AdmissionRequest {
  let review: unknown;
  try {
    review = JSON.parse(body);
  } catch {
    throw new BadReview('the body is not JSON');
  }
  const r = review as { apiVersion?: unknown; kind?: unknown; request?: AdmissionRequest } | null;
  if (r?.apiVersion !== 'admission.k8s.io/v1' || r.kind !== 'AdmissionReview')
    throw new BadReview('expected an admission.k8s.io/v1 AdmissionReview');
  if (typeof r.request?.uid !== 'string') throw new BadReview('the review has no request.uid');
  return r.request;
}

export function review(request: AdmissionRequest, ctx: InjectionContext): Reviewed {
  const namespace = request.namespace ?? request.object?.metadata?.namespace ?? '';
  const dryRun = request.dryRun === true;
  const isPodCreate =
    request.kind?.group === '' && request.kind.kind === 'Pod' && request.operation === 'CREATE';
  if (!isPodCreate || !request.object)
    return { response: { uid: request.uid, allowed: true }, plan: undefined, namespace, dryRun };
  const plan = planInjection(request.object, namespace, ctx);
  return { response: toResponse(request.uid, plan), plan, namespace, dryRun };
}

function toResponse(uid: string, plan: InjectionPlan): AdmissionResponse {
  switch (plan.kind) {
    case 'skip':
      return { uid, allowed: true };
    case 'deny':
      return { uid, allowed: false, status: { code: 400, message: plan.message } };
    case 'patch':
      return {
        uid,
        allowed: true,
        ...(plan.ops.length > 0 && {
          patchType: 'JSONPatch' as const,
          patch: Buffer.from(JSON.stringify(plan.ops)).toString('base64'),
        }),
        ...(plan.warnings.length > 0 && { warnings: plan.warnings }),
      };
  }
}

export const reviewEnvelope = (response: AdmissionResponse) => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  response,
});
