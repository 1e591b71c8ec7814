/**
 * The onboard-account workflow's steps (statemachines/onboard-account.asl.json; each functions/steps/<name>.ts
 * is a thin handler over one of these). They are about accounts, not clusters, hence their own deps and
 * input: the execution carries only the account id, and every step reads the account record the trigger
 * claimed — the rule is snapshotted there, so editing a rule never changes an onboarding under way.
 *
 * Every step is idempotent (Step Functions retries them and Lambda may run one twice): what it creates is
 * created under the onboarding's own actor (`system:onboarding:<account>`), so a retry recognises its own
 * work and the failure path undoes exactly what this onboarding created or added — and only that.
 */
import { describeCaught } from '../workflow/caught.ts';
import type { BaselineOutcome, OnboardedAccount, OnboardingChanges } from '../domain/onboarding.ts';
import { type Cluster, type CreateClusterBody, type Violation, Violation as ViolationSchema } from '../domain/schemas.ts';
import { type ClusterRequestDeps, requestCluster, startProvisioning } from '../clusters/create.ts';
import type { AccessVerifier, VerificationResult } from '../aws/verify-access.ts';
import { AlreadyExistsError, InUseError, NotFoundError, PolicyViolationError, UnprocessableError } from '../errors.ts';
import type { EventPublisher } from '../events/publisher.ts';
import { accountOnboardedEvent, accountOnboardingFailedEvent } from '../events/schemas.ts';
import type { Logger } from '../log.ts';
import type { Actor } from '../store/ports.ts';
import { membersFor, roleArnFor, workspaceIdFor, workspaceNameFor } from './rules.ts';

export interface OnboardingDeps extends ClusterRequestDeps {
  events: EventPublisher;
  /** Verifies `aws` accesses (sim ones need nothing). */
  verifier: AccessVerifier;
  log: Logger;
}

/** The execution's input plus what the ASL adds on the failure path. */
export interface OnboardingInput {
  accountId: string;
  /** Which attempt the execution is (its name carries it too); a step of an older attempt changes nothing. */
  attempt?: number;
  error?: { Error?: string; Cause?: string };
  failedStep?: string;
}

/** The actor every onboarding change is made (and audited) as; also how a retry recognises its own work. */
export const onboardingActor = (accountId: string): Actor => ({ principal: `system:onboarding:${accountId}` });

/** The access could not be verified: the reason is the verification's. */
export class AccessVerificationFailedError extends Error {
  override readonly name = 'AccessVerificationFailedError';
}

/** The rule cannot be applied to this account (e.g. its id template leaves nothing usable). */
export class OnboardingRuleError extends Error {
  override readonly name = 'OnboardingRuleError';
}

/** The execution is of an attempt the account has moved past (a late or repeated invocation): it does nothing. */
export class StaleOnboardingError extends Error {
  override readonly name = 'StaleOnboardingError';
}

/**
 * The account this execution onboards, refusing to act for an earlier attempt: once an attempt has Failed and a
 * retry started the next one, a late invocation of the old one must not touch the new one's record.
 */
export async function loadAttempt(d: Pick<OnboardingDeps, 'stores'>, input: OnboardingInput): Promise<OnboardedAccount> {
  const account = await d.stores.accounts.load(input.accountId);
  if (input.attempt !== undefined && account.attempt !== input.attempt) {
    throw new StaleOnboardingError(`onboarding attempt ${input.attempt} of account ${account.accountId} was superseded by attempt ${account.attempt}`);
  }
  return account;
}

/** Something Slipway would have to take over belongs to someone else. */
export class OnboardingConflictError extends Error {
  override readonly name = 'OnboardingConflictError';
}

/** Builds a step handler over lazily built deps (once per container), logging outcomes without payloads. */
export function onboardingStep<O>(name: string, deps: () => OnboardingDeps, fn: (input: OnboardingInput, deps: OnboardingDeps) => Promise<O>): (input: OnboardingInput) => Promise<O> {
  let built: OnboardingDeps | undefined;
  return async (input) => {
    built ??= deps();
    const started = Date.now();
    try {
      const out = await fn(input, built);
      built.log.debug('step done', { step: name, accountId: input.accountId, ms: Date.now() - started });
      return out;
    } catch (error) {
      built.log.warn('step failed', { step: name, accountId: input.accountId, error });
      throw error;
    }
  };
}

// ---------- register-access ----------

export async function registerAccess(input: OnboardingInput, d: OnboardingDeps): Promise<null> {
  const account = await loadAttempt(d, input);
  const actor = onboardingActor(account.accountId);
  const existing = await d.stores.cloudAccesses.get(account.cloudAccessId);
  if (existing) {
    if (existing.accountId !== account.accountId) {
      throw new OnboardingConflictError(`cloud access ${existing.id} exists for another account (${existing.accountId})`);
    }
    // Ours from an earlier attempt, or registered by an admin beforehand (then used, never undone).
    if (existing.createdBy === actor.principal && !account.changes.createdCloudAccess) await setChanges(d, account, { createdCloudAccess: true });
    return null;
  }
  const { access } = account.rule;
  try {
    await d.stores.cloudAccesses.create(
      {
        id: account.cloudAccessId,
        description: `Onboarded account ${account.accountName} (rule ${account.ruleId})`,
        provider: access.provider,
        accountId: account.accountId,
        roleArn: roleArnFor(account.accountId, access.roleName),
        ...(access.externalId === undefined ? {} : { externalId: access.externalId }),
        regions: access.regions,
        verification: { status: 'Pending' },
      },
      actor,
    );
  } catch (err) {
    // A concurrent attempt of this very step won: the retry below sees its access.
    if (!(err instanceof AlreadyExistsError)) throw err;
    return registerAccess(input, d);
  }
  await setChanges(d, account, { createdCloudAccess: true });
  return null;
}

// ---------- verify-access ----------

export async function verifyAccess(input: OnboardingInput, d: OnboardingDeps): Promise<null> {
  const account = await loadAttempt(d, input);
  const access = await d.stores.cloudAccesses.load(account.cloudAccessId);
  const result: VerificationResult =
    access.provider === 'sim'
      ? { status: 'Verified', message: 'simulated provider: nothing to assume' }
      : await d.verifier.verify({ provider: access.provider, accountId: access.accountId, roleArn: access.roleArn, externalId: access.externalId, regions: access.regions });
  const verification = {
    status: result.status,
    lastVerifiedAt: d.clock().toISOString(),
    message: result.message,
    ...(result.offerings === undefined ? {} : { offerings: result.offerings }),
  };
  await d.stores.cloudAccesses.setVerification(access.id, verification);
  await d.stores.accounts.update(account.accountId, { verification });
  if (result.status !== 'Verified') throw new AccessVerificationFailedError(result.message);
  return null;
}

// ---------- attach-workspace ----------

export async function attachWorkspace(input: OnboardingInput, d: OnboardingDeps): Promise<null> {
  let account = await loadAttempt(d, input);
  const actor = onboardingActor(account.accountId);
  const vended = vendedOf(account);
  const wsId = workspaceIdFor(account.rule, vended);
  if (wsId.length === 0) {
    throw new OnboardingRuleError(`rule ${account.ruleId}: workspace id template "${account.rule.workspace.idTemplate}" gives no usable id for account ${account.accountName}`);
  }
  const { members, skipped } = membersFor(account.rule, vended);
  if (skipped.length > 0) d.log.info('member sources skipped', { accountId: account.accountId, skipped });

  const existing = await d.stores.workspaces.get(wsId);
  if (!existing) {
    try {
      await d.stores.workspaces.create({ id: wsId, name: workspaceNameFor(account.rule, vended), members, cloudAccessIds: [account.cloudAccessId] }, actor);
      account = await setChanges(d, account, { createdWorkspace: true });
      await d.stores.accounts.update(account.accountId, { workspaceId: wsId });
      return null;
    } catch (err) {
      // Someone created it in between: attach to theirs instead.
      if (!(err instanceof AlreadyExistsError)) throw err;
      return attachWorkspace(input, d);
    }
  }

  if (existing.createdBy === actor.principal) {
    // Created by an earlier attempt of this onboarding (its record update was lost): it is ours.
    if (!account.changes.createdWorkspace) account = await setChanges(d, account, { createdWorkspace: true });
  } else {
    // Attach: say what will be added *before* adding it, so the failure path can take exactly that away.
    const present = new Set(existing.members.map((m) => m.principal));
    const toAdd = members.filter((m) => !present.has(m.principal)).map((m) => m.principal);
    account = await setChanges(d, account, {
      attachedCloudAccess: account.changes.attachedCloudAccess || !existing.cloudAccessIds.includes(account.cloudAccessId),
      addedMembers: [...new Set([...account.changes.addedMembers, ...toAdd])],
    });
  }
  await d.stores.workspaces.attachCloudAccess(wsId, account.cloudAccessId, actor);
  const now = await d.stores.workspaces.get(wsId);
  const have = new Set((now?.members ?? []).map((m) => m.principal));
  for (const m of members) if (!have.has(m.principal)) await d.stores.workspaces.putMember(wsId, m, actor);
  await d.stores.accounts.update(account.accountId, { workspaceId: wsId });
  return null;
}

// ---------- request-baseline ----------

export async function requestBaseline(input: OnboardingInput, d: OnboardingDeps): Promise<null> {
  const account = await loadAttempt(d, input);
  const baseline = account.rule.baseline;
  if (!baseline || account.workspaceId === null) return null;
  const actor = onboardingActor(account.accountId);
  const workspace = await d.stores.workspaces.get(account.workspaceId);
  if (!workspace) throw new NotFoundError(`workspace ${account.workspaceId} disappeared during onboarding`);
  const ref = { workspaceId: workspace.id, name: baseline.name };

  const existing = await d.stores.clusters.get(workspace.id, baseline.name);
  if (existing && existing.phase !== 'Deleted') {
    const outcome = await adoptOrRefuse(d, existing, actor);
    await d.stores.accounts.update(account.accountId, { baselineCluster: outcome });
    return null;
  }
  const body: CreateClusterBody = { ...baseline, cloudAccessId: account.cloudAccessId };
  let outcome: BaselineOutcome;
  try {
    const cluster = await requestCluster(d, { workspace, body, actor });
    outcome = { ...ref, uid: cluster.uid, status: 'Requested' };
  } catch (err) {
    if (err instanceof PolicyViolationError) {
      // Recorded and published (Account Onboarded carries the violations), never bypassed.
      outcome = { ...ref, status: 'Refused', violations: violationsOf(err), reason: err.message };
    } else if (err instanceof UnprocessableError) {
      outcome = { ...ref, status: 'Refused', reason: `${err.message}: ${err.errors.map((e) => e.message).join('; ')}` };
    } else if (err instanceof AlreadyExistsError) {
      const raced = await d.stores.clusters.get(workspace.id, baseline.name);
      outcome = raced ? await adoptOrRefuse(d, raced, actor) : { ...ref, status: 'Refused', reason: err.message };
    } else {
      throw err;
    }
  }
  await d.stores.accounts.update(account.accountId, { baselineCluster: outcome });
  return null;
}

/** A cluster of the baseline's name exists: ours from an earlier attempt (make sure it runs), or someone else's. */
async function adoptOrRefuse(d: OnboardingDeps, cluster: Cluster, actor: Actor): Promise<BaselineOutcome> {
  const ref = { workspaceId: cluster.workspaceId, name: cluster.name };
  if (cluster.createdBy !== actor.principal) return { ...ref, status: 'Refused', reason: `a cluster named ${cluster.name} already exists in workspace ${cluster.workspaceId}` };
  // Same deterministic execution name: a no-op when the first attempt did start it.
  if (cluster.phase === 'Requested' && cluster.operation === 'provision') await startProvisioning(d, cluster, false);
  return { ...ref, uid: cluster.uid, status: 'Requested' };
}

function violationsOf(err: PolicyViolationError): Violation[] {
  return err.errors.flatMap((e) => {
    const parsed = ViolationSchema.safeParse(e);
    return parsed.success ? [parsed.data] : [];
  });
}

// ---------- mark-onboarded ----------

export async function markOnboarded(input: OnboardingInput, d: OnboardingDeps): Promise<null> {
  const before = await loadAttempt(d, input);
  const refused = before.baselineCluster?.status === 'Refused' ? before.baselineCluster : null;
  const account =
    before.status === 'Onboarded' ? before : await d.stores.accounts.update(before.accountId, { status: 'Onboarded', reason: refused?.reason ?? null, failedStep: null });
  const baseline = account.baselineCluster;
  // Published on every attempt: a retry after a failed PutEvents must still announce it (consumers dedupe).
  await d.events.publish([
    accountOnboardedEvent({
      accountId: account.accountId,
      attempt: account.attempt,
      cloudAccessId: account.cloudAccessId,
      ...(account.workspaceId === null ? {} : { workspaceId: account.workspaceId }),
      ...(baseline ? { baselineCluster: { workspaceId: baseline.workspaceId, name: baseline.name, ...(baseline.uid === undefined ? {} : { uid: baseline.uid }) } } : {}),
      ...(refused?.reason === undefined ? {} : { reason: `baseline cluster not requested: ${refused.reason}` }),
      ...(refused?.violations === undefined ? {} : { violations: refused.violations }),
      time: d.clock(),
    }),
  ]);
  return null;
}

// ---------- undo-onboarding (failure path) ----------

/**
 * Takes back what this onboarding created or added, newest first: members it added and the access it
 * attached to an existing workspace, the workspace it created, the access it registered. A baseline
 * cluster already provisioning keeps its workspace and access (they are in use): that is said in `kept`.
 */
export async function undoOnboarding(input: OnboardingInput, d: OnboardingDeps): Promise<{ undone: string[]; kept: string[] }> {
  const undone: string[] = [];
  const kept: string[] = [];
  let account: OnboardedAccount;
  try {
    account = await loadAttempt(d, input);
  } catch (err) {
    // What is there now is a later attempt's: nothing of this one is left to undo.
    if (err instanceof StaleOnboardingError) return { undone, kept };
    throw err;
  }
  const actor = onboardingActor(account.accountId);
  if (account.baselineCluster?.status === 'Requested') {
    kept.push(`workspace ${account.workspaceId} and access ${account.cloudAccessId}: baseline cluster ${account.baselineCluster.name} is provisioning in them`);
    return { undone, kept };
  }
  const wsId = account.workspaceId ?? workspaceIdFor(account.rule, vendedOf(account));
  const ws = wsId.length > 0 ? await d.stores.workspaces.get(wsId) : null;
  let workspaceGone = false;
  if (ws && ws.createdBy === actor.principal) {
    try {
      await d.stores.workspaces.delete(ws.id, actor);
      undone.push(`workspace ${ws.id} deleted`);
      workspaceGone = true;
    } catch (err) {
      if (err instanceof NotFoundError) workspaceGone = true;
      else if (err instanceof InUseError) kept.push(`workspace ${ws.id}: ${err.message}`);
      else throw err;
    }
  } else if (ws) {
    for (const principal of account.changes.addedMembers) {
      try {
        await d.stores.workspaces.removeMember(ws.id, principal, actor);
        undone.push(`member ${principal} removed from ${ws.id}`);
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    if (account.changes.attachedCloudAccess) {
      await d.stores.workspaces.detachCloudAccess(ws.id, account.cloudAccessId, actor);
      undone.push(`access ${account.cloudAccessId} detached from ${ws.id}`);
    }
    workspaceGone = true;
  } else {
    workspaceGone = true;
  }
  account = await d.stores.accounts.update(account.accountId, {
    changes: { ...account.changes, createdWorkspace: false, attachedCloudAccess: false, addedMembers: [] },
    ...(workspaceGone ? { workspaceId: null } : {}),
  });

  const access = await d.stores.cloudAccesses.get(account.cloudAccessId);
  if (access && access.createdBy === actor.principal && workspaceGone) {
    try {
      await d.stores.cloudAccesses.delete(access.id, actor);
      undone.push(`access ${access.id} deleted`);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  } else if (access && access.createdBy === actor.principal) {
    kept.push(`access ${access.id}: its workspace is kept`);
  }
  await setChanges(d, account, { createdCloudAccess: false });
  return { undone, kept };
}

// ---------- mark-onboarding-failed ----------

export async function markOnboardingFailed(input: OnboardingInput & { undo?: { kept?: string[] } }, d: OnboardingDeps): Promise<null> {
  let before: OnboardedAccount;
  try {
    before = await loadAttempt(d, input);
  } catch (err) {
    // A later attempt runs (or ran): its record is not this execution's to mark.
    if (err instanceof StaleOnboardingError) return null;
    throw err;
  }
  const { name, cause } = describeCaught(input.error);
  const kept = input.undo?.kept ?? [];
  const reason = `${input.failedStep ?? 'onboarding'}: ${name}: ${cause}${kept.length > 0 ? ` (kept: ${kept.join('; ')})` : ''}`;
  const account =
    before.status === 'Failed' ? before : await d.stores.accounts.update(before.accountId, { status: 'Failed', reason, failedStep: input.failedStep ?? null });
  const access = await d.stores.cloudAccesses.get(account.cloudAccessId);
  await d.events.publish([
    accountOnboardingFailedEvent({
      accountId: account.accountId,
      attempt: account.attempt,
      reason: account.reason ?? reason,
      ...(access ? { cloudAccessId: access.id } : {}),
      ...(account.workspaceId === null ? {} : { workspaceId: account.workspaceId }),
      time: d.clock(),
    }),
  ]);
  return null;
}

// ---------- helpers ----------

function vendedOf(account: OnboardedAccount) {
  return {
    accountId: account.accountId,
    accountName: account.accountName,
    organizationalUnit: account.organizationalUnit,
    ...(account.email === undefined ? {} : { email: account.email }),
    ...(account.tags === undefined ? {} : { tags: account.tags }),
  };
}

async function setChanges(d: OnboardingDeps, account: OnboardedAccount, change: Partial<OnboardingChanges>): Promise<OnboardedAccount> {
  return d.stores.accounts.update(account.accountId, { changes: { ...account.changes, ...change } });
}
