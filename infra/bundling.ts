/**
 * How every Lambda function is bundled — one options object, read by the stack and by the bundle-size
 * benchmark, so the benchmark measures exactly what is deployed.
 *
 * Why not NodejsFunction's own bundling: it runs one esbuild process per function, and every step handler
 * re-parses @kubernetes/client-node (~2 MB). With ~35 functions that alone took over a minute on a 2-core
 * machine. FunctionBundler runs ONE esbuild build over every entry point instead (shared parsing, ~7 s for
 * 20 entries), with the options NodejsFunction would pass (ESM, node24, minify, external source maps,
 * `@aws-sdk/*` external), and hands each function its own `index.mjs` + `index.mjs.map` as a local bundling
 * result. Skipping bundling (context `aws:cdk:bundling-stacks: []`) skips the build entirely.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BuildOptions, buildSync } from 'esbuild';

export const BUNDLE = {
  format: 'esm',
  platform: 'node',
  /** Matches the Lambda runtime (NODEJS_24_X): no down-levelling. */
  target: 'node24',
  minify: true,
  sourcemap: 'linked',
  /** Maps point at repository paths; embedding the sources would only double the asset size. */
  sourcesContent: false,
  /** The Node.js 24 runtime ships AWS SDK v3: bundling it again costs cold-start time for nothing. */
  external: ['@aws-sdk/*'],
  /** Prefer ESM entry points of dependencies: better tree shaking. */
  mainFields: ['module', 'main'],
  /** CommonJS dependencies inside an ESM bundle still call require() for Node built-ins. */
  banner: "import { createRequire as __slipwayCreateRequire } from 'node:module';const require = __slipwayCreateRequire(import.meta.url);",
  /** Lambda loads `index.mjs` as ESM: handler `index.handler`. */
  outExtension: '.mjs',
} as const;

/** NODE_OPTIONS set on every function so stack traces use the source maps. */
export const RUNTIME_NODE_OPTIONS = '--enable-source-maps';

export const HANDLER = 'index.handler';

/** The options for esbuild's API. */
export function esbuildOptions(): BuildOptions {
  return {
    bundle: true,
    format: BUNDLE.format,
    platform: BUNDLE.platform,
    target: BUNDLE.target,
    minify: BUNDLE.minify,
    sourcemap: BUNDLE.sourcemap,
    sourcesContent: BUNDLE.sourcesContent,
    external: [...BUNDLE.external],
    mainFields: [...BUNDLE.mainFields],
    banner: { js: BUNDLE.banner },
    outExtension: { '.js': BUNDLE.outExtension },
    logLevel: 'error',
  };
}

/** Output key of an entry: its path relative to the repository, without extension, e.g. `functions/api/me`. */
const keyOf = (root: string, entry: string) => relative(root, entry).replace(/\.[cm]?ts$/, '');

/**
 * Bundles registered entry points in as few esbuild builds as possible: the first function to bundle builds
 * every entry registered so far. Register all entries before creating the first function.
 */
export class FunctionBundler {
  private readonly registered = new Set<string>();
  private readonly built = new Set<string>();
  private outdir: string | undefined;

  /**
   * @param root repository root (output keys are entry paths relative to it)
   * @param outdir where bundles are written (emptied first); default a fresh temporary directory
   */
  constructor(
    private readonly root: string,
    private readonly requestedOutdir?: string,
  ) {}

  register(...entries: string[]): void {
    for (const e of entries) {
      if (!existsSync(e)) throw new Error(`no handler file ${e}`);
      this.registered.add(e);
    }
  }

  /** Builds whatever is registered and not built yet; returns the directory holding `<key>/index.mjs`. */
  buildPending(): string {
    if (!this.outdir) {
      if (this.requestedOutdir) {
        rmSync(this.requestedOutdir, { recursive: true, force: true });
        mkdirSync(this.requestedOutdir, { recursive: true });
      }
      this.outdir = this.requestedOutdir ?? mkdtempSync(join(tmpdir(), 'slipway-bundles-'));
    }
    const pending = [...this.registered].filter((e) => !this.built.has(e));
    if (pending.length > 0) {
      buildSync({
        ...esbuildOptions(),
        entryPoints: Object.fromEntries(pending.map((e) => [`${keyOf(this.root, e)}/index`, e])),
        outdir: this.outdir,
      });
      for (const e of pending) this.built.add(e);
    }
    return this.outdir;
  }

  /** Directory of one entry's bundle (`index.mjs`, `index.mjs.map`), building if needed. */
  bundleDir(entry: string): string {
    this.register(entry);
    return join(this.buildPending(), keyOf(this.root, entry));
  }

  /** Removes the bundles (CDK has copied them into the cloud assembly's assets by then). */
  cleanup(): void {
    if (this.outdir) rmSync(this.outdir, { recursive: true, force: true });
    this.outdir = undefined;
    this.built.clear();
  }

  /** Lambda code for one entry: a local bundling step that copies the entry's bundle. */
  code(entry: string): lambda.Code {
    this.register(entry);
    // The asset's source is the handler's own folder: CDK walks it (never the repository and its node_modules).
    return lambda.Code.fromAsset(dirname(entry), {
      // Never used: local bundling always succeeds or throws. Docker is not needed on any machine.
      bundling: {
        image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs24.x'),
        // Part of the asset cache key: without it, every function would share the first one's bundle.
        command: ['slipway-bundle', keyOf(this.root, entry)],
        local: {
          tryBundle: (outputDir: string) => {
            cpSync(this.bundleDir(entry), outputDir, { recursive: true });
            return true;
          },
        },
      },
    });
  }
}
