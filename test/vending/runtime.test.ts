/**
 * Account vending in the whole local runtime: an admin adds an onboarding rule through the API, puts the
 * Control Tower sample event on the runtime's bus through `POST /local/events` (what `npm run vend` does),
 * and the account is onboarded with no further step — its baseline cluster provisioned to Ready on the CAPI
 * simulator by the real provision-cluster workflow.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_DEVELOPER } from '../../local/seed.ts';
import { DetailType } from '../../shared/events/constants.ts';
import { type RuntimeHarness, startRuntimeHarness } from '../helpers/runtime.ts';
import { CONTROL_TOWER_FIXTURE } from './harness.ts';

const fixture = JSON.parse(readFileSync(CONTROL_TOWER_FIXTURE, 'utf8')) as Record<string, unknown>;
const ACCOUNT = '222233334444';
const WORKSPACE = 'acct-team-payments-dev';

const rule = {
  id: 'sandbox',
  priority: 10,
  match: { organizationalUnits: ['Sandbox'] },
  // A simulated account: verified without AWS, provisioned on the simulator.
  access: { provider: 'sim', roleName: 'SlipwayProvisioner', externalId: 'slipway-local', regions: ['eu-west-1'] },
  workspace: { idTemplate: 'acct-{accountName}', owners: [`user:${DEMO_DEVELOPER.sub}`], members: ['group:demo-devs'] },
  baseline: { name: 'baseline', plan: { id: 'standard' }, computeTemplateId: 'small', region: 'eu-west-1' },
};

let h: RuntimeHarness;
let admin: string;
let dev: string;

beforeAll(async () => {
  h = await startRuntimeHarness();
  admin = await h.token({ sub: 'admin', groups: ['slipway-admins'] });
  dev = await h.token(DEMO_DEVELOPER);
});

afterAll(async () => {
  await h?.close();
});

const envelope = { source: fixture.source, 'detail-type': fixture['detail-type'], account: fixture.account, region: fixture.region, time: fixture.time, detail: fixture.detail };

describe('POST /local/events', () => {
  it('is for admins only, and validates the event', async () => {
    expect((await h.call('POST', '/local/events', { body: envelope })).status).toBe(401);
    expect((await h.call('POST', '/local/events', { token: dev, body: envelope })).status).toBe(403);
    const bad = await h.call('POST', '/local/events', { token: admin, body: { source: 'x', detail: 'not an object' } });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(h.runtime.events.history({ bus: 'default' })).toEqual([]);
  });
});

describe('account vending in the local runtime', () => {
  it('the Control Tower sample event onboards the account and its baseline cluster reaches Ready on the simulator', async () => {
    // Prepare
    const created = await h.call('POST', '/v1/onboarding-rules', { token: admin, body: rule });
    expect(created.status, JSON.stringify(created.body)).toBe(201);

    // Act
    const put = await h.call('POST', '/local/events', { token: admin, body: envelope });
    expect(put.status, JSON.stringify(put.body)).toBe(202);
    expect(put.body).toMatchObject({ bus: 'default' });

    // Assess: the account
    const account = await h.waitFor(
      'account onboarded',
      async () => (await h.call('GET', `/v1/accounts/${ACCOUNT}`, { token: admin })).body,
      (a) => a?.status === 'Onboarded' || a?.status === 'Failed',
    );
    expect(account.status, account.reason).toBe('Onboarded');
    expect(account).toMatchObject({ workspaceId: WORKSPACE, cloudAccessId: `aws-${ACCOUNT}`, verification: { status: 'Verified' }, baselineCluster: { name: 'baseline', status: 'Requested' } });
    const listed = await h.call('GET', '/v1/accounts', { token: admin });
    expect(listed.body.items.map((a: { accountId: string }) => a.accountId)).toEqual([ACCOUNT]);

    // the workspace, visible to its new owner
    const ws = await h.call('GET', `/v1/workspaces/${WORKSPACE}`, { token: dev });
    expect(ws.status).toBe(200);
    expect(ws.body.members).toEqual([
      { principal: 'group:demo-devs', role: 'member' },
      { principal: `user:${DEMO_DEVELOPER.sub}`, role: 'owner' },
    ]);

    // the baseline cluster, provisioned for real on the simulator
    const cluster = await h.waitFor(
      'baseline cluster Ready',
      async () => (await h.call('GET', `/v1/workspaces/${WORKSPACE}/clusters/baseline`, { token: dev })).body,
      (c) => c?.phase === 'Ready' || c?.phase === 'Failed',
      120_000,
    );
    expect(cluster.phase, `${cluster.step}: ${cluster.message}`).toBe('Ready');
    expect(cluster).toMatchObject({ capiLocation: 'self', createdBy: `system:onboarding:${ACCOUNT}`, cloudAccessId: `aws-${ACCOUNT}` });

    // the events
    await h.runtime.events.drain();
    const onboarded = h.runtime.events.history({ detailType: DetailType.AccountOnboarded });
    expect(onboarded).toHaveLength(1);
    expect(onboarded[0]?.event.detail).toMatchObject({ accountId: ACCOUNT, workspaceId: WORKSPACE, baselineCluster: { name: 'baseline', uid: cluster.uid } });
    expect(h.runtime.events.history({ detailType: DetailType.ClusterReady })).toHaveLength(1);
  });
});

describe('npm run vend', () => {
  it('puts a generic Account Vended event (it has an email) on the running runtime; the account is onboarded with its owner from the email', async () => {
    // Prepare: Dev accounts get a workspace owned by the account's email, no baseline cluster.
    const devRule = { ...rule, id: 'dev-accounts', priority: 5, match: { organizationalUnits: ['Dev'] }, workspace: { idTemplate: 'dev-{accountName}', owners: [{ fromEmail: true }] }, baseline: undefined };
    expect((await h.call('POST', '/v1/onboarding-rules', { token: admin, body: devRule })).status).toBe(201);
    const root = join(import.meta.dirname, '../..');

    // Act
    const { stdout } = await promisify(execFile)(
      join(root, 'node_modules/.bin/tsx'),
      ['bin/vend-account.ts', '--account-id', '333344445555', '--name', 'Dana Sandbox', '--ou', 'Dev', '--email', 'dana@example.com', '--url', h.runtime.url, '--token', admin],
      { cwd: root },
    );

    // Assess
    expect(stdout).toContain('Account Vended event for 333344445555 put on the local bus');
    const account = await h.waitFor(
      'account onboarded',
      async () => (await h.call('GET', '/v1/accounts/333344445555', { token: admin })).body,
      (a) => a?.status === 'Onboarded' || a?.status === 'Failed',
    );
    expect(account).toMatchObject({ status: 'Onboarded', ruleId: 'dev-accounts', email: 'dana@example.com', workspaceId: 'dev-dana-sandbox', baselineCluster: null });
    const ws = await h.runtime.stores.workspaces.get('dev-dana-sandbox');
    expect(ws?.members).toEqual([{ principal: 'user:dana@example.com', role: 'owner' }]);
    expect(ws?.name).toBe('Dana Sandbox');
  });
});
