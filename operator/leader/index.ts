export { LeaderElector, REVISION_ANNOTATION } from './lease-elector.ts';
export type { LeaderElectorOptions, RevisionFloor } from './lease-elector.ts';
export { LEADER_LABEL, LeaderPodLabel } from './pod-label.ts';
