import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterAll, describe, expect, it } from 'vitest';
import { addNagChecks } from '../../infra/nag.ts';
import { DEFAULT_PATHS } from '../../infra/stack.ts';
import { buildStack, removeOutdirs } from './helpers.ts';

afterAll(removeOutdirs);

const outdirs: string[] = [];
const outdir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-nag-'));
  outdirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the stack (fixture workflows, onboarding and vending included)', () => {
    const { app } = buildStack({ outdir: outdir() });
    addNagChecks(app);
    expect(() => app.synth()).not.toThrow();
  });

  it('finds nothing unacknowledged in the stack as the repository stands', () => {
    const { app } = buildStack({ outdir: outdir(), paths: DEFAULT_PATHS });
    addNagChecks(app);
    expect(() => app.synth()).not.toThrow();
  });

  it.each([
    ['public-and-private', {}],
    ['private', { 'slipway:managementEndpointAccess': 'private' }],
  ])('finds nothing unacknowledged with a created management cluster (endpoint %s)', (_endpoint, extra) => {
    const { app } = buildStack({
      outdir: outdir(),
      context: { 'slipway:managementClusterMode': 'create', 'slipway:managementAdminPrincipalArns': 'arn:aws:iam::123456789012:role/Admin', ...extra },
    });
    addNagChecks(app);
    expect(() => app.synth()).not.toThrow();
  });

  it('does fail a synth on an unacknowledged finding (the check is live)', () => {
    const app = new App({ outdir: outdir() });
    new sns.Topic(new Stack(app, 'Bad'), 'Plain');
    addNagChecks(app);
    expect(() => app.synth()).toThrow();
  });
});
