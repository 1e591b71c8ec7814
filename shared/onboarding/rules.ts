/**
 * What an onboarding rule decides for a vended account: whether it matches, the workspace id and name its
 * templates give, the members it names, and the cloud access it registers. Pure functions: the trigger
 * handler and the steps share them, and the tests pin them down without a table.
 */
import type { MemberSource, OnboardingRule } from '../domain/onboarding.ts';
import type { Member } from '../domain/schemas.ts';
import type { AccountVendedDetail } from '../events/schemas.ts';
import { matchesGlob } from '../policy/engine.ts';

/** The facts of a vended account rules look at (the `Account Vended` detail, whatever the trigger). */
export type VendedAccount = Pick<AccountVendedDetail, 'accountId' | 'accountName' | 'email' | 'organizationalUnit' | 'tags'>;

/** Account names are matched case-insensitively: vending machines differ in how they case them. */
export function ruleMatches(rule: OnboardingRule, account: VendedAccount): boolean {
  if (!rule.enabled) return false;
  const { organizationalUnits, accountName, tags } = rule.match;
  if (organizationalUnits) {
    const ou = account.organizationalUnit;
    if (!organizationalUnits.some((o) => o === ou.id || (ou.name !== undefined && o.toLowerCase() === ou.name.toLowerCase()))) return false;
  }
  if (accountName !== undefined && !globMatches(accountName.toLowerCase(), account.accountName.toLowerCase())) return false;
  if (tags) {
    for (const [key, glob] of Object.entries(tags)) {
      const value = account.tags?.[key];
      if (value === undefined || !globMatches(glob, value)) return false;
    }
  }
  return true;
}

/** `*` any run of characters, `?` one, anchored; the policy engine's glob semantics. */
function globMatches(glob: string, value: string): boolean {
  return matchesGlob(glob, value);
}

/** Ascending priority, ties by id: the order rules are tried in. */
export function ruleOrder(a: Pick<OnboardingRule, 'priority' | 'id'>, b: Pick<OnboardingRule, 'priority' | 'id'>): number {
  return a.priority - b.priority || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function firstMatchingRule(rules: readonly OnboardingRule[], account: VendedAccount): OnboardingRule | null {
  return [...rules].sort(ruleOrder).find((r) => ruleMatches(r, account)) ?? null;
}

/** A template's placeholders filled from the account. */
export function fillTemplate(template: string, account: VendedAccount): string {
  const values: Record<string, string> = {
    accountName: account.accountName,
    accountId: account.accountId,
    ouName: account.organizationalUnit.name ?? '',
    ouId: account.organizationalUnit.id ?? '',
  };
  return template.replace(/\{([A-Za-z]+)\}/g, (whole, key: string) => values[key] ?? whole);
}

export const WORKSPACE_ID_MAX = 40;

/**
 * A DNS-1123 label of at most 40 characters (workspace ids prefix Kubernetes namespaces): lower-cased, every
 * run of other characters one `-`, no `-` at either end. Empty when nothing usable is left.
 */
export function toDnsLabel(text: string, max = WORKSPACE_ID_MAX): string {
  const label = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return label.slice(0, max).replace(/-+$/, '');
}

export function workspaceIdFor(rule: OnboardingRule, account: VendedAccount): string {
  return toDnsLabel(fillTemplate(rule.workspace.idTemplate, account));
}

export function workspaceNameFor(rule: OnboardingRule, account: VendedAccount): string {
  const name = fillTemplate(rule.workspace.nameTemplate, account).trim().slice(0, 128);
  return name.length > 0 ? name : account.accountName;
}

/** The cloud access Slipway registers for an account: one per account, whatever the rule. */
export const cloudAccessIdFor = (accountId: string): string => `aws-${accountId}`;

export const roleArnFor = (accountId: string, roleName: string, partition = 'aws'): string => `arn:${partition}:iam::${accountId}:role/${roleName}`;

const PRINCIPAL = /^(user|group):[A-Za-z0-9._@+=:/-]{1,256}$/;
const SUBJECT = /^[A-Za-z0-9._@+=:/-]{1,256}$/;

/**
 * The members a rule names for an account, owners first; a principal named twice keeps its strongest role.
 * Sources that yield nothing (no email on a Control Tower event, a missing tag) or nothing valid are
 * reported in `skipped`, never guessed at.
 */
export function membersFor(rule: OnboardingRule, account: VendedAccount): { members: Member[]; skipped: string[] } {
  const roles = new Map<string, Member['role']>();
  const skipped: string[] = [];
  const add = (source: MemberSource, role: Member['role']) => {
    const principal = principalOf(source, account);
    if (principal === null) {
      skipped.push(describeSource(source));
      return;
    }
    if (roles.get(principal) !== 'owner') roles.set(principal, role);
  };
  for (const s of rule.workspace.owners) add(s, 'owner');
  for (const s of rule.workspace.members) add(s, 'member');
  return { members: [...roles].map(([principal, role]) => ({ principal, role })), skipped };
}

function principalOf(source: MemberSource, account: VendedAccount): string | null {
  if (typeof source === 'string') return source;
  const raw = 'fromEmail' in source ? account.email : account.tags?.[source.fromTag];
  if (raw === undefined || raw === '') return null;
  if (PRINCIPAL.test(raw)) return raw;
  return SUBJECT.test(raw) ? `user:${raw}` : null;
}

function describeSource(source: MemberSource): string {
  if (typeof source === 'string') return source;
  return 'fromEmail' in source ? 'the account email (none given)' : `tag ${source.fromTag} (absent or not a principal)`;
}
