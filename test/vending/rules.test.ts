/** What a rule decides for an account: matching and order, templates to DNS labels, members from sources. */
import { describe, expect, it } from 'vitest';
import { CreateOnboardingRuleBody, type OnboardingRule } from '../../shared/domain/onboarding.ts';
import { firstMatchingRule, membersFor, ruleMatches, toDnsLabel, workspaceIdFor, workspaceNameFor } from '../../shared/onboarding/rules.ts';

function rule(over: Record<string, unknown> = {}): OnboardingRule {
  const body = CreateOnboardingRuleBody.parse({
    id: 'r',
    priority: 10,
    access: { roleName: 'SlipwayProvisioner', regions: ['eu-west-1'] },
    workspace: {},
    ...over,
  });
  return { ...body, createdAt: '2026-11-20T00:00:00Z', createdBy: 'user:root', updatedAt: '2026-11-20T00:00:00Z', version: 1 };
}

const account = {
  accountId: '222233334444',
  accountName: 'Team-Payments_Dev',
  email: 'owner@example.com',
  organizationalUnit: { id: 'ou-ab12-34cd56ef', name: 'Sandbox' },
  tags: { owner: 'group:payments', costcenter: 'cc-1234', lead: 'dana' },
};

describe('matching', () => {
  it('every given criterion must match: OU by id or name (any case), a name glob, tags by glob', () => {
    expect(ruleMatches(rule(), account)).toBe(true);
    expect(ruleMatches(rule({ match: { organizationalUnits: ['ou-ab12-34cd56ef'] } }), account)).toBe(true);
    expect(ruleMatches(rule({ match: { organizationalUnits: ['sandbox'] } }), account)).toBe(true);
    expect(ruleMatches(rule({ match: { organizationalUnits: ['Production'] } }), account)).toBe(false);
    expect(ruleMatches(rule({ match: { accountName: 'team-*' } }), account)).toBe(true);
    expect(ruleMatches(rule({ match: { accountName: 'ops-*' } }), account)).toBe(false);
    expect(ruleMatches(rule({ match: { tags: { costcenter: 'cc-*' } } }), account)).toBe(true);
    expect(ruleMatches(rule({ match: { tags: { costcenter: 'cc-*', env: '*' } } }), account)).toBe(false);
    expect(ruleMatches(rule({ match: { organizationalUnits: ['Sandbox'], accountName: 'ops-*' } }), account)).toBe(false);
    expect(ruleMatches(rule({ enabled: false }), account)).toBe(false);
  });

  it('rules are tried in ascending priority, ties by id; the first match wins', () => {
    const rules = [
      rule({ id: 'b-catch-all', priority: 50 }),
      rule({ id: 'prod', priority: 1, match: { organizationalUnits: ['Production'] } }),
      rule({ id: 'z-sandbox', priority: 10, match: { organizationalUnits: ['Sandbox'] } }),
      rule({ id: 'a-sandbox', priority: 10, match: { organizationalUnits: ['Sandbox'] } }),
    ];
    expect(firstMatchingRule(rules, account)?.id).toBe('a-sandbox');
    expect(firstMatchingRule([rules[1] as OnboardingRule], account)).toBeNull();
  });
});

describe('workspace templates', () => {
  it('fill placeholders and sanitise to a DNS label of at most 40 characters', () => {
    expect(workspaceIdFor(rule(), account)).toBe('acct-team-payments-dev');
    expect(workspaceIdFor(rule({ workspace: { idTemplate: '{ouName}-{accountId}' } }), account)).toBe('sandbox-222233334444');
    expect(workspaceNameFor(rule(), account)).toBe('Team-Payments_Dev');
    expect(toDnsLabel('--Ünïcode  & Spaces--')).toBe('n-code-spaces');
    const long = toDnsLabel(`acct-${'a'.repeat(30)}-${'b'.repeat(30)}`);
    expect(long.length).toBeLessThanOrEqual(40);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(toDnsLabel(`${'x'.repeat(39)}-y`)).toBe('x'.repeat(39));
    expect(toDnsLabel('***')).toBe('');
  });
});

describe('members', () => {
  it('come from principals, the email and tags; owners win; what yields nothing is skipped, not guessed', () => {
    const r = rule({
      workspace: {
        owners: ['user:alice', { fromEmail: true }, { fromTag: 'missing' }],
        members: ['user:alice', { fromTag: 'owner' }, { fromTag: 'lead' }, { fromTag: 'costcenter' }],
      },
    });
    const { members, skipped } = membersFor(r, account);
    expect(members).toEqual([
      { principal: 'user:alice', role: 'owner' },
      { principal: 'user:owner@example.com', role: 'owner' },
      { principal: 'group:payments', role: 'member' },
      { principal: 'user:dana', role: 'member' },
      { principal: 'user:cc-1234', role: 'member' },
    ]);
    expect(skipped).toEqual(['tag missing (absent or not a principal)']);
    const { members: none, skipped: noEmail } = membersFor(rule({ workspace: { owners: [{ fromEmail: true }] } }), { ...account, email: undefined });
    expect(none).toEqual([]);
    expect(noEmail).toEqual(['the account email (none given)']);
  });
});
