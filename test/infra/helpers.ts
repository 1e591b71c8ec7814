/**
 * Builds the Slipway stack for template assertions: workflow parts from test/infra/fixtures (the real ASL and
 * step handlers land separately), API handlers from the repository, bundling skipped (context
 * `aws:cdk:bundling-stacks: []`) so a synth takes a second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { loadConfig } from '../../infra/config.ts';
import { DEFAULT_PATHS, type SlipwayPaths, SlipwayStack } from '../../infra/stack.ts';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export const FIXTURE_PATHS: SlipwayPaths = {
  ...DEFAULT_PATHS,
  statemachines: join(FIXTURES, 'statemachines'),
  stepHandlers: join(FIXTURES, 'functions/steps'),
  eventHandlers: join(FIXTURES, 'functions/events'),
};

const outdirs: string[] = [];
const tempOutdir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-cdk-'));
  outdirs.push(dir);
  return dir;
};

/** Removes the cloud assemblies this file's tests synthesised (call from afterAll). */
export function removeOutdirs(): void {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface Built {
  app: App;
  stack: SlipwayStack;
  template: Template;
}

export function buildStack(
  options: {
    context?: Record<string, unknown>;
    paths?: Partial<SlipwayPaths>;
    bundle?: boolean;
    outdir?: string;
    env?: { account: string; region: string };
  } = {},
): Omit<Built, 'template'> {
  const context = { ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }), ...options.context };
  const app = new App({ context, outdir: options.outdir ?? tempOutdir() });
  const config = loadConfig((k) => app.node.tryGetContext(k), Object.keys(options.context ?? {}));
  const stack = new SlipwayStack(app, config.stackName, { config, paths: options.paths ?? FIXTURE_PATHS, ...(options.env ? { env: options.env } : {}) });
  return { app, stack };
}

export function synthTemplate(options: Parameters<typeof buildStack>[0] = {}): Built {
  const built = buildStack(options);
  return { ...built, template: Template.fromStack(built.stack) };
}

type CfnResource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string };

/** Resources of a type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/** The logical id a `{ "Fn::GetAtt": [id, "Arn"] }` or `{ Ref: id }` names, if it is one. */
export function referencedId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { 'Fn::GetAtt'?: unknown[]; Ref?: unknown };
  if (Array.isArray(v['Fn::GetAtt']) && typeof v['Fn::GetAtt'][0] === 'string') return v['Fn::GetAtt'][0];
  if (typeof v.Ref === 'string') return v.Ref;
  return undefined;
}

/**
 * A CloudFormation value rendered as text, intrinsics as `<Ref>` / `<Id.Attr>` placeholders, so ARNs built
 * with Fn::Join can be matched as strings.
 */
export function renderValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value !== 'object' || value === null) return String(value);
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return `<${v.Ref}>`;
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt)) return `<${getAtt.join('.')}>`;
  const join = v['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) return (join[1] as unknown[]).map(renderValue).join(String(join[0]));
  return JSON.stringify(value);
}

export interface StatementJson {
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: unknown;
  Resource?: unknown;
  Condition?: unknown;
}

/** The statements of an AWS::IAM::Policy resource. */
export function policyStatements(policy: CfnResource | undefined): StatementJson[] {
  const doc = policy?.Properties?.PolicyDocument as { Statement?: StatementJson[] } | undefined;
  return doc?.Statement ?? [];
}

/** `${name}` as it appears in ASL, built so that no literal looks like a template by mistake. */
export const substitution = (name: string): string => ['$', '{', name, '}'].join('');
