/**
 * An admin's retry through the API, end to end: the Control Tower sample event onboards nothing while
 * AssumeRole is denied (attempt 1 Failed, undone); the role fixed, `POST /v1/accounts/{accountId}/retry` on
 * the local HTTP server starts attempt 2 on the real onboard-account ASL with the real steps, and it onboards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApiHandlers } from '../../functions/api/registry.ts';
import { DEFAULT_BUS, type EventEnvelope } from '../../local/eventbus.ts';
import { startLocalApiServer } from '../../local/http/server.ts';
import { LocalIssuer } from '../../local/issuer.ts';
import { DetailType } from '../../shared/events/constants.ts';
import { onboardingExecutionName } from '../../shared/onboarding/retry.ts';
import { loadPriceCatalog } from '../../shared/policy/cost.ts';
import { WorkflowId } from '../../shared/workflow/names.ts';
import { people } from '../api/fixtures.ts';
import { type AwsBackend, startAwsBackend } from './aws-backend.ts';
import { addRule, CONTROL_TOWER_FIXTURE, seedClusterConfig, startVendingHarness, type VendingHarness } from './harness.ts';

const fixture = JSON.parse(readFileSync(CONTROL_TOWER_FIXTURE, 'utf8')) as EventEnvelope;
const ACCOUNT = '222233334444';
const WORKSPACE = 'acct-team-payments-dev';

const sandboxRule = {
  id: 'sandbox',
  priority: 10,
  match: { organizationalUnits: ['Sandbox'] },
  access: { provider: 'aws', roleName: 'SlipwayProvisioner', externalId: 'slipway-ext-1', regions: ['eu-west-1', 'eu-central-1'] },
  workspace: { idTemplate: 'acct-{accountName}', owners: ['user:alice'], members: ['group:payments-devs'] },
};

let aws: AwsBackend;
let t: VendingHarness;
let dataDir: string;

beforeAll(async () => {
  aws = await startAwsBackend();
  dataDir = await mkdtemp(join(tmpdir(), 'slipway-retry-'));
});

afterAll(async () => {
  await t?.close();
  await aws?.close();
  await rm(dataDir, { recursive: true, force: true });
});

it('a denied onboarding, its role fixed, is retried by an admin through the API and onboards', async () => {
  // Prepare: AssumeRole is refused until the account's role is fixed; the API over the same table and starter
  let roleFixed = false;
  const denying = aws.denyingVerifier();
  t = await startVendingHarness({ verifier: { verify: (request) => (roleFixed ? aws.verifier : denying).verify(request) } });
  await seedClusterConfig(t.stores);
  await addRule(t.stores, sandboxRule);
  const issuer = await LocalIssuer.open(dataDir);
  const handlers = buildApiHandlers({
    adminGroup: 'slipway-admins',
    idempotency: t.stores.idempotency,
    stores: t.stores,
    workflows: t.workflows,
    prices: loadPriceCatalog(),
    clock: () => new Date(),
  });
  const server = await startLocalApiServer({ port: 0, handlers, verifier: issuer });
  try {
    const admin = await issuer.issue({ sub: people.admin.sub, groups: [...people.admin.groups] });
    t.bus.putEnvelope(fixture, DEFAULT_BUS);
    const first = await t.settle(ACCOUNT);
    expect(first?.status).toBe('FAILED');
    expect(await t.stores.accounts.load(ACCOUNT)).toMatchObject({ status: 'Failed', attempt: 1, failedStep: 'verify-access', workspaceId: null });

    // Act: the role fixed, an admin retries
    roleFixed = true;
    const res = await fetch(`${server.url}/v1/accounts/${ACCOUNT}/retry`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
    const body = await res.json();
    const second = await t.settle(ACCOUNT);

    // Assess: attempt 2 ran under its own name and onboarded the account
    expect(res.status, JSON.stringify(body)).toBe(202);
    expect(body).toMatchObject({ status: 'Onboarding', attempt: 2, executionName: onboardingExecutionName(ACCOUNT, 2) });
    expect(second?.status, `${second?.error}: ${second?.cause}`).toBe('SUCCEEDED');
    expect(second?.name).toBe(onboardingExecutionName(ACCOUNT, 2));
    expect(t.runner.list().filter((e) => e.workflow === WorkflowId.onboardAccount).map((e) => e.name).sort()).toEqual([
      onboardingExecutionName(ACCOUNT, 1),
      onboardingExecutionName(ACCOUNT, 2),
    ]);
    expect(await t.stores.accounts.load(ACCOUNT)).toMatchObject({ status: 'Onboarded', attempt: 2, workspaceId: WORKSPACE, verification: { status: 'Verified' } });
    expect(await t.stores.workspaces.get(WORKSPACE)).not.toBeNull();
    expect(t.bus.history({ detailType: DetailType.AccountOnboarded }).map((r) => r.event.detail)).toEqual([expect.objectContaining({ accountId: ACCOUNT, attempt: 2 })]);
    const day = new Date().toISOString().slice(0, 10);
    const retries = (await t.stores.audit.listDay(day, { limit: 100 })).items.filter((a) => a.action === 'Account.retry');
    expect(retries).toEqual([expect.objectContaining({ actor: `user:${people.admin.sub}`, resource: `accounts/${ACCOUNT}` })]);
  } finally {
    await server.close();
  }
});
