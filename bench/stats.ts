/** Latency statistics and a bounded-concurrency driver shared by the benchmarks. */
import { performance } from 'node:perf_hooks';

export interface Latency {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  samples: number;
}

export function latencyOf(samplesMs: readonly number[]): Latency {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { p50Ms: round(at(0.5)), p99Ms: round(at(0.99)), meanMs: round(mean), samples: sorted.length };
}

/** Runs `total` calls of `fn` with at most `concurrency` in flight; returns each call's duration. */
export async function measure(total: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  const durations: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      const t0 = performance.now();
      await fn(i);
      durations.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return durations;
}

export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
