// How an authority (with its successor and predecessor) and an optional leaf are laid out in a Secret.
// `ca.crt`, `tls.crt` and `tls.key` use the names cert-manager uses, so a consumer can mount either.
import type { KeyPair } from './authority.ts';
import { trustBundle, type AuthorityState } from './rotation.ts';

const NEXT_PUBLISHED = 'turnout.dev/next-ca-published-at';
const PROMOTED = 'turnout.dev/ca-promoted-at';

export interface AuthoritySecret {
  authority: AuthorityState;
  leaf?: KeyPair;
}

const pair = (data: Record<string, string>, cert: string, key: string): KeyPair | undefined => {
  const c = data[cert];
  const k = data[key];
  return c && k ? { cert: c, key: k } : undefined;
};

const time = (text: string | undefined) => {
  const t = text === undefined ? NaN : Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
};

export function fromSecret(
  data: Record<string, string> = {},
  annotations: Record<string, string> = {},
): AuthoritySecret {
  const current = pair(data, 'authority.crt', 'authority.key');
  const next = pair(data, 'next-authority.crt', 'next-authority.key');
  const previous = data['previous-authority.crt'];
  const nextPublishedAt = time(annotations[NEXT_PUBLISHED]);
  const promotedAt = time(annotations[PROMOTED]);
  const leaf = pair(data, 'tls.crt', 'tls.key');
  return {
    authority: {
      ...(current && { current }),
      ...(next && { next }),
      ...(nextPublishedAt !== undefined && { nextPublishedAt }),
      ...(previous && { previous }),
      ...(promotedAt !== undefined && { promotedAt }),
    },
    ...(leaf && { leaf }),
  };
}

export function toSecret(s: AuthoritySecret): {
  data: Record<string, string>;
  annotations: Record<string, string>;
} {
  const a = s.authority;
  const data: Record<string, string> = { 'ca.crt': trustBundle(a) };
  if (a.current) Object.assign(data, { 'authority.crt': a.current.cert, 'authority.key': a.current.key });
  if (a.next) Object.assign(data, { 'next-authority.crt': a.next.cert, 'next-authority.key': a.next.key });
  if (a.previous) data['previous-authority.crt'] = a.previous;
  if (s.leaf) Object.assign(data, { 'tls.crt': s.leaf.cert, 'tls.key': s.leaf.key });
  const annotations: Record<string, string> = {};
  if (a.nextPublishedAt !== undefined)
    annotations[NEXT_PUBLISHED] = new Date(a.nextPublishedAt).toISOString();
  if (a.promotedAt !== undefined) annotations[PROMOTED] = new Date(a.promotedAt).toISOString();
  return { data, annotations };
}
