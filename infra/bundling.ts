/**
 * How every Lambda function is bundled — one options object, read by the stack (NodejsFunction) and by the
 * bundle-size benchmark (esbuild directly), so the benchmark measures exactly what is deployed.
 */
import type { BuildOptions } from 'esbuild';
import { type BundlingOptions, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';

export const BUNDLE = {
  format: 'esm',
  platform: 'node',
  /** Matches the Lambda runtime (NODEJS_24_X): no down-levelling. */
  target: 'node24',
  minify: true,
  sourcemap: true,
  /** Maps point at repository paths; embedding the sources would only double the asset size. */
  sourcesContent: false,
  /** The Node.js 24 runtime ships AWS SDK v3: bundling it again costs cold-start time for nothing. */
  external: ['@aws-sdk/*'],
  /** Prefer ESM entry points of dependencies: better tree shaking. */
  mainFields: ['module', 'main'],
  /** CommonJS dependencies inside an ESM bundle still call require() for Node built-ins. */
  banner: "import { createRequire as __slipwayCreateRequire } from 'node:module';const require = __slipwayCreateRequire(import.meta.url);",
} as const;

/** NODE_OPTIONS set on every function so stack traces use the source maps. */
export const RUNTIME_NODE_OPTIONS = '--enable-source-maps';

/** The options as NodejsFunction takes them. */
export function cdkBundling(): BundlingOptions {
  return {
    format: BUNDLE.format === 'esm' ? OutputFormat.ESM : OutputFormat.CJS,
    target: BUNDLE.target,
    minify: BUNDLE.minify,
    sourceMap: BUNDLE.sourcemap,
    sourceMapMode: SourceMapMode.EXTERNAL,
    sourcesContent: BUNDLE.sourcesContent,
    externalModules: [...BUNDLE.external],
    bundleAwsSDK: false,
    mainFields: [...BUNDLE.mainFields],
    banner: BUNDLE.banner,
  };
}

/** The same options for esbuild's API (what NodejsFunction passes on its command line). */
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
  };
}
