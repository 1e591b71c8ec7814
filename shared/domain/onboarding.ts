/**
 * Account vending: onboarding rules (admin configuration) and onboarded accounts (what the onboard-account
 * workflow did). Same conventions as shared/domain/schemas.ts: request bodies are strict and generate the
 * OpenAPI document; stored entities are the body plus server-owned fields.
 */
import * as z from 'zod';
import {
  AwsAccountId,
  AwsRegion,
  CloudProvider,
  ClusterName,
  Dns1123Label,
  ExternalId,
  PoolOverride,
  Principal,
  Timestamp,
  VerificationStatus,
  Violation,
} from './schemas.ts';

// ---------- onboarding rules ----------

/** Account-name globs: `*` any run of characters, `?` one. */
export const AccountNameGlob = z.string().min(1).max(100).regex(/^[A-Za-z0-9 _.*?+=,@-]+$/, 'must be an account-name glob such as team-*');
export const TagKey = z.string().min(1).max(128);
export const TagValueGlob = z.string().max(256);
/** IAM role names (the last segment of `arn:aws:iam::<account>:role/<name>`). */
export const RoleName = z.string().regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name');

/** The placeholders a workspace id or name template may use. */
export const TEMPLATE_PLACEHOLDERS = ['accountName', 'accountId', 'ouName', 'ouId'] as const;
const Template = z
  .string()
  .min(1)
  .max(128)
  .refine((t) => [...t.matchAll(/\{([^}]*)\}/g)].every((m) => (TEMPLATE_PLACEHOLDERS as readonly string[]).includes(m[1] ?? '')), {
    message: `placeholders are ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}`,
  });

/**
 * Who becomes owner/member of the workspace: a fixed principal, the account's email (`user:<email>`: for
 * IdPs whose subject is the email), or the value of one of the account's tags (a principal, or a bare
 * subject taken as `user:<value>`).
 */
export const MemberSource = z
  .union([Principal, z.strictObject({ fromEmail: z.literal(true) }), z.strictObject({ fromTag: TagKey })])
  .meta({ id: 'MemberSource' });
export type MemberSource = z.infer<typeof MemberSource>;

export const BaselineCluster = z
  .strictObject({
    name: ClusterName,
    plan: z.strictObject({ id: Dns1123Label, revision: z.number().int().positive().optional() }),
    computeTemplateId: Dns1123Label,
    region: AwsRegion,
    nodePools: z.array(PoolOverride).max(20).optional(),
    ttlHours: z.number().int().positive().max(87_600).optional(),
  })
  .meta({ id: 'BaselineCluster' });
export type BaselineCluster = z.infer<typeof BaselineCluster>;

const OnboardingRuleFields = z.strictObject({
  description: z.string().max(1024).optional(),
  /** Lower first; ties go to the lower id. */
  priority: z.number().int().min(0).max(1_000_000).describe('rules are tried in ascending priority (ties: by id); the first match wins'),
  enabled: z.boolean().default(true),
  match: z
    .strictObject({
      organizationalUnits: z.array(z.string().min(1).max(128)).min(1).max(100).optional().describe('OU ids or names; any may match'),
      accountName: AccountNameGlob.optional(),
      tags: z.record(TagKey, TagValueGlob).optional().describe('every tag must be present with a value matching the glob'),
    })
    .default({})
    .describe('every given criterion must match; none given matches every account'),
  access: z.strictObject({
    provider: CloudProvider.default('aws'),
    roleName: RoleName,
    externalId: ExternalId.optional(),
    regions: z.array(AwsRegion).min(1).max(10),
  }),
  workspace: z.strictObject({
    idTemplate: Template.default('acct-{accountName}').describe('sanitised to a DNS label of at most 40 characters'),
    nameTemplate: Template.default('{accountName}'),
    owners: z.array(MemberSource).max(50).default([]),
    members: z.array(MemberSource).max(50).default([]),
  }),
  baseline: BaselineCluster.optional(),
});

function checkRule(v: z.infer<typeof OnboardingRuleFields>, ctx: z.RefinementCtx): void {
  if (new Set(v.access.regions).size !== v.access.regions.length) ctx.addIssue({ code: 'custom', path: ['access', 'regions'], message: 'regions must be unique' });
  if (v.baseline && !v.access.regions.includes(v.baseline.region)) {
    ctx.addIssue({ code: 'custom', path: ['baseline', 'region'], message: `the baseline region must be one of the access regions (${v.access.regions.join(', ')})` });
  }
}

export const CreateOnboardingRuleBody = OnboardingRuleFields.extend({ id: Dns1123Label }).superRefine(checkRule).meta({ id: 'CreateOnboardingRuleBody' });
export const UpdateOnboardingRuleBody = OnboardingRuleFields.extend({ version: z.number().int().optional() })
  .superRefine(checkRule)
  .meta({ id: 'UpdateOnboardingRuleBody' });

export const OnboardingRule = OnboardingRuleFields.extend({
  id: Dns1123Label,
  createdAt: Timestamp,
  createdBy: z.string(),
  updatedAt: Timestamp,
  version: z.number().int(),
}).meta({ id: 'OnboardingRule' });
export type OnboardingRule = z.infer<typeof OnboardingRule>;
export type CreateOnboardingRuleBody = z.infer<typeof CreateOnboardingRuleBody>;

// ---------- onboarded accounts ----------

export const AccountStatus = z.enum(['Onboarding', 'Onboarded', 'Failed']);
export type AccountStatus = z.infer<typeof AccountStatus>;

export const AccountVerification = z
  .object({
    status: VerificationStatus,
    message: z.string().optional(),
    lastVerifiedAt: Timestamp.optional(),
    /** Instance types EC2 offers, per region of the access. */
    offerings: z.record(z.string(), z.array(z.string())).optional(),
  })
  .meta({ id: 'AccountVerification' });
export type AccountVerification = z.infer<typeof AccountVerification>;

export const BaselineOutcome = z
  .object({
    workspaceId: Dns1123Label,
    name: ClusterName,
    uid: z.string().optional(),
    status: z.enum(['Requested', 'Refused']),
    violations: z.array(Violation).optional(),
    reason: z.string().optional(),
  })
  .meta({ id: 'BaselineOutcome' });
export type BaselineOutcome = z.infer<typeof BaselineOutcome>;

/**
 * What this onboarding changed, so that a failure undoes exactly that: an access or workspace it created
 * (deleted again), members it added and the access it attached to an existing workspace (removed again).
 */
export const OnboardingChanges = z.object({
  createdCloudAccess: z.boolean(),
  createdWorkspace: z.boolean(),
  attachedCloudAccess: z.boolean(),
  addedMembers: z.array(z.string()),
});
export type OnboardingChanges = z.infer<typeof OnboardingChanges>;

/** An earlier attempt at onboarding the account that failed (and was undone); the newest last. */
export const PreviousOnboardingAttempt = z
  .object({
    attempt: z.number().int().positive(),
    executionName: z.string(),
    ruleId: Dns1123Label,
    /** The event that started it. */
    eventId: z.string(),
    failedStep: z.string().nullable(),
    reason: z.string().nullable(),
    /** When the next attempt replaced it. */
    retriedAt: Timestamp,
  })
  .meta({ id: 'PreviousOnboardingAttempt' });
export type PreviousOnboardingAttempt = z.infer<typeof PreviousOnboardingAttempt>;

/** How many earlier attempts an account keeps (the audit trail has every one). */
export const PREVIOUS_ATTEMPTS_KEPT = 10;

export const OnboardedAccount = z
  .object({
    accountId: AwsAccountId,
    accountName: z.string(),
    email: z.string().optional(),
    organizationalUnit: z.object({ id: z.string().optional(), name: z.string().optional() }),
    tags: z.record(z.string(), z.string()).optional(),
    status: AccountStatus,
    /** The rule that matched, as it was then (later edits do not change a running onboarding). */
    ruleId: Dns1123Label,
    ruleVersion: z.number().int(),
    rule: OnboardingRule,
    /** The event that triggered the onboarding. */
    trigger: z.object({ source: z.string(), detailType: z.string(), eventId: z.string() }),
    /**
     * 1 for the first onboarding; a vending event for an account whose onboarding Failed starts the next one.
     * The execution name carries it: each attempt runs exactly once, however many events ask for it.
     */
    attempt: z.number().int().positive().describe('1 for the first onboarding, one more for each retry of a Failed one (the vending event sent again)'),
    executionName: z.string(),
    cloudAccessId: Dns1123Label,
    workspaceId: Dns1123Label.nullable(),
    verification: AccountVerification.nullable(),
    baselineCluster: BaselineOutcome.nullable(),
    changes: OnboardingChanges,
    reason: z.string().nullable(),
    failedStep: z.string().nullable(),
    previousAttempts: z.array(PreviousOnboardingAttempt).describe(`failed attempts before this one, oldest first (the last ${PREVIOUS_ATTEMPTS_KEPT})`),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: z.number().int(),
  })
  .meta({ id: 'OnboardedAccount' });
export type OnboardedAccount = z.infer<typeof OnboardedAccount>;

/**
 * An account as lists show it: without the rule snapshot and the per-region instance-type lists (hundreds per
 * region), which only `GET /v1/accounts/{accountId}` returns — a page of 100 accounts stays small.
 */
export const OnboardedAccountSummary = OnboardedAccount.omit({ rule: true })
  .extend({
    verification: AccountVerification.omit({ offerings: true })
      .extend({ offeringCounts: z.record(z.string(), z.number().int()).optional().describe('instance types offered, per region') })
      .nullable(),
  })
  .meta({ id: 'OnboardedAccountSummary' });
export type OnboardedAccountSummary = z.infer<typeof OnboardedAccountSummary>;

export function summariseAccount(account: OnboardedAccount): OnboardedAccountSummary {
  const { rule: _rule, verification, ...rest } = account;
  if (verification === null) return { ...rest, verification: null };
  const { offerings, ...v } = verification;
  return {
    ...rest,
    verification: offerings === undefined ? v : { ...v, offeringCounts: Object.fromEntries(Object.entries(offerings).map(([r, types]) => [r, types.length])) },
  };
}
