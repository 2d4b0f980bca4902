// A finished span built directly from what a call recorded, handed to the SDK's span processors (batch
// or simple) and exporters as the ReadableSpan they consume. Spans here are only ever made after the
// fact, complete, so the live-span machinery (Tracer.startSpan, attribute validation on every set,
// per-span clock bookkeeping) would be pure overhead: this is most of the cost of tracing a call.
import type { Attributes, HrTime, Link, SpanContext, SpanKind, SpanStatus } from '@opentelemetry/api';
import { hrTimeDuration, millisToHrTime, type InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';

export interface SpanOrigin {
  resource: Resource;
  scope: InstrumentationScope;
  /** Added to a performance.now() reading to give Unix epoch ms (corrected for clock drift, as the SDK does). */
  epochOffset: number;
  /** OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, when set. */
  valueLengthLimit?: number;
}

const NO_LINKS: Link[] = [];

export class RecordedSpan implements ReadableSpan {
  readonly name: string;
  readonly kind: SpanKind;
  readonly parentSpanContext: SpanContext | undefined;
  readonly startTime: HrTime;
  readonly endTime: HrTime;
  readonly duration: HrTime;
  readonly status: SpanStatus;
  readonly attributes: Attributes;
  readonly events: TimedEvent[];
  readonly links = NO_LINKS;
  readonly ended = true;
  readonly resource: Resource;
  readonly instrumentationScope: InstrumentationScope;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  readonly #context: SpanContext;

  constructor(
    origin: SpanOrigin,
    s: {
      name: string;
      kind: SpanKind;
      context: SpanContext;
      parent: SpanContext | undefined;
      /** performance.now() readings. */
      start: number;
      end: number;
      attributes: Attributes;
      events: { name: string; at: number; attributes?: Attributes }[];
      status: SpanStatus;
    },
  ) {
    this.name = s.name;
    this.kind = s.kind;
    this.#context = s.context;
    this.parentSpanContext = s.parent;
    this.startTime = millisToHrTime(s.start + origin.epochOffset);
    this.endTime = millisToHrTime(Math.max(s.start, s.end) + origin.epochOffset);
    this.duration = hrTimeDuration(this.startTime, this.endTime);
    this.status = s.status;
    this.attributes =
      origin.valueLengthLimit === undefined ? s.attributes : truncate(s.attributes, origin.valueLengthLimit);
    this.events = s.events.map((e) => ({
      name: e.name,
      time: millisToHrTime(e.at + origin.epochOffset),
      ...(e.attributes && { attributes: e.attributes }),
    }));
    this.resource = origin.resource;
    this.instrumentationScope = origin.scope;
  }

  spanContext(): SpanContext {
    return this.#context;
  }
}

function truncate(attributes: Attributes, limit: number): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (typeof v === 'string') out[k] = v.length > limit ? v.slice(0, limit) : v;
    else if (Array.isArray(v))
      out[k] = v.map((x: unknown) => (typeof x === 'string' && x.length > limit ? x.slice(0, limit) : x));
    else out[k] = v;
  }
  return out;
}
