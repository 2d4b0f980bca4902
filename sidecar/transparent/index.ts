export { startTransparentListener } from './listener.ts';
export type { TransparentListener, TransparentOptions } from './listener.ts';
export { rewriteTransparentPath } from './paths.ts';
