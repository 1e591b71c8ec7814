import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureBundles } from '../../bench/bundles.ts';
import { apiEntries } from '../../infra/api.ts';
import { BUNDLE, FunctionBundler } from '../../infra/bundling.ts';
import { capiProvidersEntries } from '../../infra/capi-providers.ts';
import { DEFAULT_PATHS, REPO_ROOT } from '../../infra/stack.ts';
import { planWorkflows } from '../../infra/workflows.ts';
import { buildStack, FIXTURE_PATHS, resourcesOf, removeOutdirs } from './helpers.ts';

afterAll(removeOutdirs);

interface AssetManifest {
  files: Record<string, { source: { path: string; packaging?: string } }>;
}

describe('a real synth, bundling with the local esbuild (offline, no Docker)', () => {
  let outdir: string;
  let template: Template;
  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'slipway-synth-'));
    const { app, stack } = buildStack({ bundle: true, outdir });
    app.synth();
    template = Template.fromStack(stack);
  }, 180_000);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  /** Every Lambda function's asset directory in the cloud assembly. */
  const assetDirs = () => {
    const manifest = JSON.parse(readFileSync(join(outdir, 'Slipway.assets.json'), 'utf8')) as AssetManifest;
    const byHash = new Map(Object.entries(manifest.files).map(([hash, f]) => [hash, join(outdir, f.source.path)]));
    return Object.values(resourcesOf(template, 'AWS::Lambda::Function')).map((fn) => {
      const key = String((fn.Properties?.Code as { S3Key?: string } | undefined)?.S3Key);
      return { description: String(fn.Properties?.Description), dir: byHash.get(key.replace(/\.zip$/, '')) ?? '' };
    });
  };

  it('gives every function a minified ESM bundle with its external source map', () => {
    const dirs = assetDirs();
    expect(dirs.length).toBeGreaterThanOrEqual(15);
    for (const { description, dir } of dirs) {
      expect(existsSync(join(dir, 'index.mjs')), description).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map')), description).toBe(true);
      const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
      expect(code.startsWith(BUNDLE.banner), description).toBe(true);
      expect(code, description).toContain('//# sourceMappingURL=index.mjs.map');
    }
  });

  it('leaves the AWS SDK out of the API bundles (the runtime ships it)', () => {
    const clusters = assetDirs().find((d) => d.description === 'Slipway API: clusters routes');
    const code = readFileSync(join(clusters?.dir ?? '', 'index.mjs'), 'utf8');
    expect(code).toMatch(/from"@aws-sdk\/client-sfn"/);
    expect(code).not.toContain('StartExecutionCommand=class');
  });

  it('produces a bundle Node can load and call', async () => {
    const step = assetDirs().find((d) => d.description === 'Slipway step mark-provisioning');
    const mod = (await import(pathToFileURL(join(step?.dir ?? '', 'index.mjs')).href)) as { handler: (e: unknown) => Promise<unknown> };
    await expect(mod.handler({ ok: 1 })).resolves.toEqual({ ok: 1 });
  });
});

describe('bench: bundle sizes, built the way the stack builds them', () => {
  it('reports each API route group and each step handler in KB', async () => {
    const sizes = await measureBundles(FIXTURE_PATHS);
    expect(Object.keys(sizes.api)).toContain('clusters');
    expect(Object.keys(sizes.steps).sort()).toEqual(['check-nodes', 'mark-failed', 'mark-provisioning', 'register-cloud-access']);
    for (const s of [...Object.values(sizes.api), ...Object.values(sizes.steps)]) expect(s.kb).toBeGreaterThan(0);
    expect(sizes.totals.apiKb).toBeGreaterThan(sizes.api.clusters?.kb ?? 0);
  }, 120_000);
});

describe('every real handler bundle loads in Node (ESM, CommonJS interop, externals)', () => {
  it('imports each API route group, each present step handler and the custom-resource handlers, and finds its handler', async () => {
    // Inside the repository, so the external @aws-sdk/* resolve from node_modules as the runtime's would.
    const outdir = mkdtempSync(join(REPO_ROOT, 'node_modules/.cache-slipway-bundles-'));
    try {
      const steps = planWorkflows(DEFAULT_PATHS.statemachines, DEFAULT_PATHS.stepHandlers).referencedStepEntries.filter((e) => existsSync(e));
      const entries = [...apiEntries(DEFAULT_PATHS.apiHandlers), ...steps, ...capiProvidersEntries(DEFAULT_PATHS.customResourceHandlers)];
      const bundler = new FunctionBundler(REPO_ROOT, outdir);
      bundler.register(...entries);
      bundler.buildPending();
      for (const entry of entries) {
        const mod = (await import(pathToFileURL(join(bundler.bundleDir(entry), 'index.mjs')).href)) as { handler?: unknown };
        expect(typeof mod.handler, entry).toBe('function');
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 180_000);
});
