// The one shape every gateway under comparison takes in bench/ (Turnout's sidecar, the bare pass-through
// floor, Portkey, LiteLLM): started in its own process in front of fake OpenAI upstreams, configured for
// the same routes, so latency, throughput, memory and the reliability scorecard drive them identically.

/** Where the fake upstreams listen; every gateway gets the same routes to them. */
export interface GatewayRoutes {
  /** Model name the client asks for. */
  model: string;
  /** Base URL (scheme://host:port, no path) of the primary fake OpenAI upstream. */
  primaryUrl: string;
  /**
   * Base URL of the fallback fake OpenAI upstream. When set, the gateway is configured to fail over to it
   * (on connection errors, 5xx and 429, as each gateway's config allows); when absent, single target.
   */
  fallbackUrl?: string;
}

export interface GatewayStartOptions {
  /** CPU list for `taskset -c` (e.g. "1"), to pin the gateway's process to one core; unpinned when absent. */
  cpus?: string;
}

export interface RunningGateway {
  /** OpenAI-compatible base URL clients use, ending in /v1 (POST {baseUrl}/chat/completions). */
  baseUrl: string;
  /** Extra headers each request must carry for this gateway (e.g. Portkey's x-portkey-config). */
  headers: Record<string, string>;
  /** OS pid of the process whose RSS is the gateway's memory (the server process, not a wrapper shell). */
  pid: number;
  stop(): Promise<void>;
}

export interface Gateway {
  /** Short stable name used in tables and charts, e.g. "turnout", "passthrough", "portkey", "litellm". */
  name: string;
  /**
   * True when the gateway cannot be configured with a fallback (the bare pass-through): start() throws
   * if `fallbackUrl` is given, and fallback rows show it as not applicable.
   */
  singleTargetOnly?: boolean;
  /** Version string shown in RESULTS.md (package version, or "n/a"). */
  version(): Promise<string>;
  /** Installs what the gateway needs (cached outside the repo) or throws with the exact error. */
  ensureInstalled(): Promise<void>;
  start(routes: GatewayRoutes, options?: GatewayStartOptions): Promise<RunningGateway>;
}
