// The wire protocol between the push server and the sidecar's sync client (see README.md). Kept free of
// I/O and of operator code, so the sidecar can import it without pulling the operator in.
import { z } from 'zod';

export const STREAM_PATH = '/v1/snapshots/stream';
export const ACK_PATH = '/v1/snapshots/ack';

export const HEADER_POD = 'x-turnout-pod';
export const HEADER_HAVE = 'x-turnout-have';
export const HEADER_REVISION = 'x-turnout-revision';

export const EVENT_SNAPSHOT = 'snapshot';
export const EVENT_PING = 'ping';

/** Upper bound on an ACK body: a version, a revision and an error message. */
export const MAX_ACK_BYTES = 16 * 1024;
/** NACK messages are cut to this length before they are stored or reported. */
export const MAX_NACK_MESSAGE = 2048;

/** `data` of a `snapshot` event: `{ revision, snapshot }` (the snapshot is validated by the sidecar). */
export interface SnapshotEvent {
  revision: number;
  snapshot: unknown;
}

export const ackBody = z.strictObject({
  version: z.string().min(1).max(200),
  revision: z.number().int().min(0),
  ok: z.boolean(),
  error: z.string().optional(),
});
export type AckBody = z.infer<typeof ackBody>;

/** JSON body of every error answer, stream or ACK. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** `namespace/name`, as the sidecar sends it in {@link HEADER_POD}. */
export function parsePodRef(value: string | undefined): { namespace: string; name: string } | undefined {
  const m = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\/([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?)$/.exec(
    value ?? '',
  );
  return m?.[1] && m[3] ? { namespace: m[1], name: m[3] } : undefined;
}
