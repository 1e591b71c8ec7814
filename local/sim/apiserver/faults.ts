/**
 * Injectable API faults (per virtual cluster or for all of them) and a seedable RNG, so a test that injects a
 * 20 % error rate sees the same failures on every run.
 */

/** The Kubernetes verbs the server counts and faults can be restricted to. */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection' | 'discovery';

export interface Faults {
  /** Added to every request before it is handled. */
  latencyMs?: number;
  /** Uniform random extra latency in [0, jitterMs). */
  jitterMs?: number;
  /** Probability (0..1) that a request is answered with 503 ServiceUnavailable instead of being handled. */
  errorRate?: number;
  /** After this many requests (counted from when the faults were set), connections are destroyed unanswered. */
  dropAfterRequests?: number;
  /** How many requests to drop once `dropAfterRequests` is reached (default: all of them). */
  dropCount?: number;
  /** Restrict errorRate and drops to these verbs (default: all). */
  verbs?: readonly Verb[];
  /** Seed of the RNG behind errorRate and jitter (default: 1). */
  seed?: number;
}

/** mulberry32: tiny, fast, good enough for fault dice. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type FaultDecision = { action: 'pass' | 'error' | 'drop'; delayMs: number };

/** One fault set with its own request count and RNG. */
export class FaultState {
  private readonly random: () => number;
  private seen = 0;
  private dropped = 0;

  constructor(readonly faults: Faults) {
    this.random = seededRandom(faults.seed ?? 1);
  }

  decide(verb: Verb): FaultDecision {
    const f = this.faults;
    let delayMs = f.latencyMs ?? 0;
    if (f.jitterMs) delayMs += this.random() * f.jitterMs;
    if (f.verbs !== undefined && !f.verbs.includes(verb)) return { action: 'pass', delayMs };
    this.seen++;
    if (f.dropAfterRequests !== undefined && this.seen > f.dropAfterRequests && this.dropped < (f.dropCount ?? Number.POSITIVE_INFINITY)) {
      this.dropped++;
      return { action: 'drop', delayMs };
    }
    if (f.errorRate !== undefined && f.errorRate > 0 && this.random() < f.errorRate) return { action: 'error', delayMs };
    return { action: 'pass', delayMs };
  }
}
