/**
 * Bundle sizes of the Lambda functions, built exactly as the stack builds them: the same FunctionBundler and
 * options object (infra/bundling.ts), the same entries (every API route group; every step handler a workflow
 * names). Reported in KB, API and steps separately.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { apiEntries } from '../infra/api.ts';
import { FunctionBundler } from '../infra/bundling.ts';
import { DEFAULT_PATHS, REPO_ROOT, type SlipwayPaths } from '../infra/stack.ts';
import { planWorkflows } from '../infra/workflows.ts';

export interface BundleSize {
  /** Minified JavaScript (`index.mjs`), what Lambda loads at cold start. */
  kb: number;
  /** The external source map beside it. */
  mapKb: number;
}

export interface BundleSizes {
  /** Route group → size, one per API function. */
  api: Record<string, BundleSize>;
  /** Step handler name → size, one per step handler named by a workflow (and present). */
  steps: Record<string, BundleSize>;
  totals: { apiKb: number; stepsKb: number };
  /** Wall time of the single esbuild pass, ms. */
  buildMs: number;
}

const kb = (bytes: number) => Math.round((bytes / 1024) * 10) / 10;
const sum = (sizes: Record<string, BundleSize>) => Math.round(Object.values(sizes).reduce((t, s) => t + s.kb, 0) * 10) / 10;
const baseName = (entry: string) => entry.replace(/^.*\//, '').replace(/\.ts$/, '');

export async function measureBundles(paths: Pick<SlipwayPaths, 'apiHandlers' | 'stepHandlers' | 'statemachines'> = DEFAULT_PATHS): Promise<BundleSizes> {
  const api = apiEntries(paths.apiHandlers);
  // Steps of every workflow, deployable or not yet: measure every named handler that exists.
  const steps = planWorkflows(paths.statemachines, paths.stepHandlers).referencedStepEntries.filter((e) => existsSync(e));
  const bundler = new FunctionBundler(REPO_ROOT);
  bundler.register(...api, ...steps);
  const started = Date.now();
  bundler.buildPending();
  const buildMs = Date.now() - started;
  const size = (entry: string): BundleSize => {
    const dir = bundler.bundleDir(entry);
    return { kb: kb(statSync(join(dir, 'index.mjs')).size), mapKb: kb(statSync(join(dir, 'index.mjs.map')).size) };
  };
  const apiSizes = Object.fromEntries(api.map((e) => [baseName(e), size(e)]));
  const stepSizes = Object.fromEntries(steps.map((e) => [baseName(e), size(e)]));
  bundler.cleanup();
  return { api: apiSizes, steps: stepSizes, totals: { apiKb: sum(apiSizes), stepsKb: sum(stepSizes) }, buildMs };
}
