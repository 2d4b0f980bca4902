// What the apiserver itself can refuse at `kubectl apply` time, as CEL x-kubernetes-validations. The
// same rules live in zod (api/*.ts) or the compiler (operator/compile); these give users the error
// before the operator ever sees the object. Every string or list a rule touches is bounded
// (maxLength/maxItems) in the schema, or the apiserver rejects the CRD for unbounded CEL cost.
// https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#validation-rules
import { DNS_LABEL_PATTERN } from '../common.ts';
import { ENDPOINT_HOST_PATTERN, PLAINTEXT_HOST_PATTERN } from '../model-provider.ts';
import { CREDENTIAL_HEADERS, CREDENTIAL_SCOPE_MESSAGE } from '../routing-policy.ts';
import type { CelValidation } from './structural.ts';

/** Rules to attach at a manifest-style path (see schemaAt). */
export interface RulesAt {
  at: string;
  rules: CelValidation[];
}

/** A CEL single-quoted string literal holding `text` verbatim. */
export function celString(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/**
 * A whole-URL pattern for plain-http endpoints whose host PLAINTEXT_HOST_PATTERN allows. Matching the
 * string rather than url(self).getHostname() keeps CEL's cost estimate bounded by the field's maxLength
 * (the estimator cannot bound a function's result), and keeps "[::1]" bracketed as in the zod rule.
 */
export function celPlaintextUrlPattern(): string {
  const host = PLAINTEXT_HOST_PATTERN;
  if (!host.startsWith('^') || !host.endsWith('$')) {
    throw new Error('PLAINTEXT_HOST_PATTERN must be anchored with ^ and $ to be embedded in a URL pattern');
  }
  return `^http://${host.slice(1, -1)}(:[0-9]{1,5})?(/.*)?$`;
}

/**
 * A whole-URL pattern whose host ENDPOINT_HOST_PATTERN allows (any scheme, optional userinfo, port, path,
 * query: other rules judge those), matched against the lower-cased URL for the reason given above. It
 * judges the host as written, so it is stricter than endpointProblem() only for hosts URL() would
 * rewrite first (percent-encoded or non-ASCII names: write them in punycode).
 */
export function celEndpointHostUrlPattern(): string {
  const host = ENDPOINT_HOST_PATTERN;
  if (!host.startsWith('^') || !host.endsWith('$')) {
    throw new Error('ENDPOINT_HOST_PATTERN must be anchored with ^ and $ to be embedded in a URL pattern');
  }
  return `^[a-z][a-z0-9+.-]*://([^/?#@]*@)?(${host.slice(1, -1)})(:[0-9]{1,5})?([/?#].*)?$`;
}

/**
 * The apiserver accepts any DNS subdomain (dots, 253 characters) as a name, but Turnout objects are
 * referenced by DNS label (targets[].provider, route names in headers), and the operator refuses others.
 */
function metadataNameRule(kind: string): CelValidation {
  return {
    rule: `self.metadata.name.size() <= 63 && self.metadata.name.matches(${celString(DNS_LABEL_PATTERN)})`,
    // No fieldPath: the apiserver only accepts paths into the declared schema, and metadata is opaque there.
    message: `metadata.name of a ${kind} must be a DNS label: at most 63 lowercase letters, digits and '-', no dots`,
  };
}

const HTTPS_MESSAGE =
  'endpoint must use https (plain http only for localhost, 127.0.0.0/8, [::1] or in-cluster *.svc hosts)';

/** Mirrors endpointProblem() in api/model-provider.ts. `!isURL(self) ||` guards url(), which errors on bad input. */
function endpointRules(): CelValidation[] {
  return [
    {
      rule: "isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",
      message: 'endpoint must be an absolute http(s) URL such as https://api.openai.com/v1',
    },
    {
      rule: "!self.matches('^[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*@')",
      message: 'endpoint must not embed credentials: use auth.secretRef',
    },
    {
      rule: "!self.contains('?') && !self.contains('#')",
      message: 'endpoint must not carry a query or fragment',
    },
    {
      rule: `!isURL(self) || self.lowerAscii().matches(${celString(celEndpointHostUrlPattern())})`,
      message:
        "endpoint host must be an exact DNS name like api.openai.com (lowercase letters, digits, '-' and '.') or an IP address: wildcards such as *.example.com are not allowed",
    },
    {
      rule:
        "!isURL(self) || url(self).getScheme() != 'http' || " +
        `self.lowerAscii().matches(${celString(celPlaintextUrlPattern())})`,
      message: HTTPS_MESSAGE,
    },
  ];
}

/** Which fields each provider type needs or must not have. */
function providerTypeRules(): CelValidation[] {
  return [
    {
      rule: "self.type == 'mock' || has(self.endpoint)",
      message:
        "endpoint is required unless type is mock: set the provider's base URL, e.g. https://api.openai.com/v1",
      fieldPath: '.endpoint',
      reason: 'FieldValueRequired',
    },
    {
      rule: "self.type != 'mock' || !has(self.endpoint)",
      message: 'a mock provider is simulated in-process: remove endpoint',
      fieldPath: '.endpoint',
      reason: 'FieldValueForbidden',
    },
    {
      rule: "self.type == 'mock' || !has(self.mock)",
      message: 'mock settings apply only to type: mock: remove mock or set type: mock',
      fieldPath: '.mock',
      reason: 'FieldValueForbidden',
    },
    {
      rule: "self.type != 'azure-openai' || has(self.azure)",
      message: 'azure-openai needs azure.apiVersion, e.g. 2024-10-21',
      fieldPath: '.azure',
      reason: 'FieldValueRequired',
    },
  ];
}

export const MODEL_PROVIDER_RULES: readonly RulesAt[] = [
  { at: '', rules: [metadataNameRule('ModelProvider')] },
  { at: 'spec', rules: providerTypeRules() },
  { at: 'spec.endpoint', rules: endpointRules() },
];

/** Cross-field references inside one policy: names a route list must contain. */
function policyReferenceRules(): CelValidation[] {
  return [
    {
      rule: '!has(self.defaultRoute) || self.routes.exists(r, r.name == self.defaultRoute)',
      message:
        'defaultRoute must be the name of one of spec.routes (or be omitted to answer 404 when no route matches)',
      fieldPath: '.defaultRoute',
      reason: 'FieldValueInvalid',
    },
    {
      rule:
        "!has(self.budgets) || self.budgets.all(b, !has(b.action) || !b.action.startsWith('route:') || " +
        "self.routes.exists(r, b.action == 'route:' + r.name))",
      message: 'a budget action "route:<name>" must name one of spec.routes',
      fieldPath: '.budgets',
      reason: 'FieldValueInvalid',
    },
  ];
}

function routeRules(): CelValidation[] {
  return [
    {
      rule: "!has(self.strategy) || self.strategy != 'weighted' || self.targets.exists(t, !has(t.weight) || t.weight > 0)",
      message: 'weighted strategy needs at least one target with weight > 0',
      fieldPath: '.targets',
      reason: 'FieldValueInvalid',
    },
    {
      rule: "!has(self.strategy) || self.strategy != 'cascade' || has(self.cascade)",
      message: 'strategy cascade needs cascade.accept: how to tell an acceptable answer',
      fieldPath: '.cascade',
      reason: 'FieldValueRequired',
    },
  ];
}

/** Mirrors isCredentialScope() in api/routing-policy.ts, on a budget or rate limit item. */
function credentialScopeRule(): CelValidation {
  const scopes = CREDENTIAL_HEADERS.map((h) => celString(`header:${h}`)).join(', ');
  return {
    rule: `!has(self.scope) || !(self.scope.lowerAscii() in [${scopes}])`,
    message: CREDENTIAL_SCOPE_MESSAGE,
    fieldPath: '.scope',
    reason: 'FieldValueInvalid',
  };
}

export const ROUTING_POLICY_RULES: readonly RulesAt[] = [
  { at: '', rules: [metadataNameRule('RoutingPolicy')] },
  { at: 'spec', rules: policyReferenceRules() },
  { at: 'spec.routes[]', rules: routeRules() },
  {
    at: 'spec.routes[].match.promptTokens',
    rules: [
      {
        rule: '!has(self.min) || !has(self.max) || self.min <= self.max',
        message:
          'promptTokens.min is above promptTokens.max, so no request could match: lower min or raise max',
      },
    ],
  },
  { at: 'spec.budgets[]', rules: [credentialScopeRule()] },
  {
    at: 'spec.rateLimits[]',
    rules: [
      {
        rule: 'has(self.requestsPerMinute) || has(self.tokensPerMinute)',
        message: 'a rate limit needs requestsPerMinute, tokensPerMinute or both',
      },
      credentialScopeRule(),
    ],
  },
];
