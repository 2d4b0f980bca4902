// Every write the operator makes to Turnout objects: status through the status subresource, the
// last-accepted annotation, and Events. Status patches carry the resourceVersion they were computed
// from, so a status never describes a spec the writer has not seen (a conflict just requeues).
import {
  CoreV1Api,
  type CoreV1Event,
  CustomObjectsApi,
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, API_GROUP_VERSION } from '../../api/index.ts';
import type { ObjectRef } from './objects.ts';
import type { RawObject } from './store.ts';

export type TurnoutKind = 'ModelProvider' | 'RoutingPolicy';

const PLURAL: Record<TurnoutKind, string> = {
  ModelProvider: 'modelproviders',
  RoutingPolicy: 'routingpolicies',
};

export const FIELD_MANAGER = 'turnout-operator';
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

export interface EventInput {
  kind: TurnoutKind;
  ref: ObjectRef;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export class KubeWriter {
  readonly #custom: CustomObjectsApi;
  readonly #core: CoreV1Api;
  readonly #identity: string;

  constructor(kubeConfig: KubeConfig, identity: string) {
    this.#custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#identity = identity;
  }

  /** Merge-patches status; `resourceVersion` makes it fail with 409 if the object moved on. */
  async patchStatus(
    kind: TurnoutKind,
    ref: ObjectRef,
    resourceVersion: string,
    status: Record<string, unknown>,
  ): Promise<RawObject> {
    return (await this.#custom.patchNamespacedCustomObjectStatus(
      {
        ...this.#target(kind, ref),
        body: { metadata: { resourceVersion }, status },
        fieldManager: FIELD_MANAGER,
      },
      MERGE,
    )) as RawObject;
  }

  async annotate(kind: TurnoutKind, ref: ObjectRef, key: string, value: string): Promise<void> {
    await this.#custom.patchNamespacedCustomObject(
      {
        ...this.#target(kind, ref),
        body: { metadata: { uid: ref.uid, annotations: { [key]: value } } },
        fieldManager: FIELD_MANAGER,
      },
      MERGE,
    );
  }

  async event(e: EventInput): Promise<void> {
    const now = new Date();
    const body: CoreV1Event = {
      metadata: { generateName: `${e.ref.name}.`, namespace: e.ref.namespace },
      involvedObject: {
        apiVersion: API_GROUP_VERSION,
        kind: e.kind,
        name: e.ref.name,
        namespace: e.ref.namespace,
        uid: e.ref.uid,
        resourceVersion: e.ref.resourceVersion,
      },
      type: e.type,
      reason: e.reason,
      message: e.message,
      action: 'Reconcile',
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      source: { component: FIELD_MANAGER },
      reportingComponent: FIELD_MANAGER,
      reportingInstance: this.#identity,
    };
    await this.#core.createNamespacedEvent({ namespace: e.ref.namespace, body });
  }

  #target(kind: TurnoutKind, ref: ObjectRef) {
    return {
      group: API_GROUP,
      version: API_VERSION,
      plural: PLURAL[kind],
      namespace: ref.namespace,
      name: ref.name,
    };
  }
}
