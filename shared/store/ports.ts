/**
 * The store's ports: what handlers and steps see. One DynamoDB adapter implements them
 * (shared/store/dynamo/*). Conditional-check failures surface as domain errors from shared/errors.ts:
 * AlreadyExistsError, NotFoundError, ConcurrentModificationError (version/generation mismatch),
 * OperationInFlightError, InUseError, PolicyViolationError (quota exhausted at reservation time).
 */
import type {
  CloudAccess,
  Cluster,
  ClusterPhase,
  ClusterPlan,
  ClusterPlanRevision,
  ClusterPlanSpec,
  ComputeTemplate,
  HistoryRecord,
  Member,
  NetworkPlan,
  Package,
  ProvisioningPolicy,
  Workspace,
} from '../domain/schemas.ts';
import type { OnboardedAccount, OnboardingRule } from '../domain/onboarding.ts';

export interface PageRequest {
  /** 1..100, default 50. */
  limit?: number;
  /** Opaque token from a previous page; a token that does not belong to this list → ValidationError. */
  nextToken?: string;
}

export interface Page<T> {
  items: T[];
  nextToken: string | null;
}

/** Who did it: recorded as createdBy and in the audit trail. */
export interface Actor {
  principal: string;
}

/** A CRUD collection of admin configuration with optimistic locking on `version`. */
export interface ConfigCollection<T extends { id: string; version: number }, New> {
  /** Stores version 1; AlreadyExistsError if the id is taken. Audited. */
  create(item: New, actor: Actor): Promise<T>;
  get(id: string): Promise<T | null>;
  /** Like get, but NotFoundError when missing. */
  load(id: string): Promise<T>;
  list(page?: PageRequest): Promise<Page<T>>;
  /**
   * Replaces the item's content; `expectedVersion` (when given) must match the stored version, else
   * ConcurrentModificationError. NotFoundError when missing. Audited.
   */
  replace(id: string, content: New, actor: Actor, expectedVersion?: number): Promise<T>;
  /** NotFoundError when missing. Audited. */
  delete(id: string, actor: Actor): Promise<void>;
}

export type NewCloudAccess = Omit<CloudAccess, 'createdAt' | 'createdBy' | 'version'>;
export type NewNetworkPlan = Omit<NetworkPlan, 'createdAt' | 'createdBy' | 'updatedAt' | 'version'>;
export type NewComputeTemplate = Omit<ComputeTemplate, 'createdAt' | 'createdBy' | 'updatedAt' | 'version'>;
export type NewPolicy = Omit<ProvisioningPolicy, 'createdAt' | 'createdBy' | 'updatedAt' | 'version'>;
export type NewPackage = Omit<Package, 'createdAt' | 'createdBy'>;

export interface CloudAccessStore extends ConfigCollection<CloudAccess, NewCloudAccess> {
  setVerification(id: string, verification: CloudAccess['verification']): Promise<CloudAccess>;
}

export type NetworkPlanStore = ConfigCollection<NetworkPlan, NewNetworkPlan>;
export type ComputeTemplateStore = ConfigCollection<ComputeTemplate, NewComputeTemplate>;

export interface PolicyStore extends ConfigCollection<ProvisioningPolicy, NewPolicy> {
  /** Global policies plus the workspace's own: everything that applies to a request in `workspaceId`. */
  applicableTo(workspaceId: string): Promise<ProvisioningPolicy[]>;
}

export interface ClusterPlanStore {
  /** Creates the plan head and revision 1 in one transaction. AlreadyExistsError if the id is taken. */
  create(id: string, spec: ClusterPlanSpec, actor: Actor): Promise<ClusterPlan>;
  /** Appends revision head+1 (revisions are immutable). NotFoundError when the plan does not exist. */
  addRevision(id: string, spec: ClusterPlanSpec, actor: Actor): Promise<ClusterPlanRevision>;
  get(id: string): Promise<ClusterPlan | null>;
  list(page?: PageRequest): Promise<Page<ClusterPlan>>;
  getRevision(id: string, revision: number): Promise<ClusterPlanRevision | null>;
  listRevisions(id: string, page?: PageRequest): Promise<Page<ClusterPlanRevision>>;
}

export interface PackageStore {
  /** Packages are immutable: AlreadyExistsError for an existing name@version. Audited. */
  create(pkg: NewPackage, actor: Actor): Promise<Package>;
  get(name: string, version: string): Promise<Package | null>;
  list(page?: PageRequest): Promise<Page<Package>>;
}

export type NewWorkspace = Omit<Workspace, 'createdAt' | 'createdBy' | 'updatedAt' | 'version'>;

export interface WorkspaceStore {
  /** Workspace + one member item per member, in one transaction. AlreadyExistsError. Audited. */
  create(ws: NewWorkspace, actor: Actor): Promise<Workspace>;
  /** With its members. */
  get(id: string): Promise<Workspace | null>;
  list(page?: PageRequest): Promise<Page<Workspace>>;
  /** Refuses (InUseError) while the workspace has clusters that are not Deleted. Audited. */
  delete(id: string, actor: Actor): Promise<void>;
  /** Upsert a member. NotFoundError when the workspace does not exist. Audited. */
  putMember(id: string, member: Member, actor: Actor): Promise<Workspace>;
  /** NotFoundError when the workspace or the member does not exist. Audited. */
  removeMember(id: string, principal: string, actor: Actor): Promise<Workspace>;
  /**
   * Adds a cloud access to the workspace's allowed accesses (no-op when present). NotFoundError when the
   * workspace does not exist. Audited.
   */
  attachCloudAccess(id: string, cloudAccessId: string, actor: Actor): Promise<Workspace>;
  /** Removes it again (no-op when absent). NotFoundError when the workspace does not exist. Audited. */
  detachCloudAccess(id: string, cloudAccessId: string, actor: Actor): Promise<Workspace>;
  /** The roles the given principals hold in one workspace (one BatchGet). */
  rolesIn(id: string, principals: readonly string[]): Promise<Array<Member['role']>>;
  /** Every workspace any of the principals belongs to, with the strongest role. */
  membershipsOf(principals: readonly string[]): Promise<Array<{ id: string; role: Member['role'] }>>;
}

export interface WorkspaceUsage {
  clusters: number;
  monthlyUsd: number;
}

/** Limits checked atomically when a cluster reserves its quota. Absent → unlimited. */
export interface QuotaLimits {
  maxClusters?: { value: number; policyId: string };
  maxMonthlyUsd?: { value: number; policyId: string };
}

export interface ClusterPatch {
  phase?: ClusterPhase;
  step?: string | null;
  message?: string | null;
  conditions?: Cluster['conditions'];
  observedGeneration?: number;
  capiLocation?: Cluster['capiLocation'];
  executionId?: string | null;
  operation?: Cluster['operation'];
  /** Replace the desired spec fields (update operations). */
  spec?: Partial<Pick<Cluster, 'nodePools' | 'kubernetesVersion' | 'clusterClass' | 'plan' | 'controlPlane' | 'costEstimate'>>;
  generation?: number;
}

export interface ClusterStore {
  /**
   * Records the cluster (phase Requested, generation 1) and reserves its quota — cluster count and monthly
   * cost added to the workspace usage under the limits' conditions — in one TransactWriteItems.
   * AlreadyExistsError when a cluster of that name exists and is not Deleted; PolicyViolationError
   * (code `quota.clusters_exceeded` / `quota.monthly_cost_exceeded`) when the reservation would exceed a limit.
   */
  create(cluster: Cluster, limits: QuotaLimits): Promise<Cluster>;
  /**
   * Compensation when the workflow could not be started after `create`: removes the record (only if it is
   * still the incarnation `uid`, phase Requested) and releases its reservation in one transaction, so a
   * failed request leaves nothing behind and a retry starts clean. Idempotent.
   */
  discardCreate(ws: string, name: string, uid: string): Promise<void>;
  get(ws: string, name: string): Promise<Cluster | null>;
  list(ws: string, page?: PageRequest): Promise<Page<Cluster>>;
  usage(ws: string): Promise<WorkspaceUsage>;
  /**
   * Starts an operation: bumps the generation, sets `operation`, applies the patch. Conditions: no
   * operation in flight (else OperationInFlightError), `expectedGeneration` matches when given (else
   * ConcurrentModificationError). Adjusts the workspace's reserved cost by `costDelta` in the same
   * transaction (limits as in create). Appends a history record attributed to `actor` (default `system`).
   */
  beginOperation(
    ws: string,
    name: string,
    op: NonNullable<Cluster['operation']>,
    patch: ClusterPatch,
    opts: { expectedGeneration?: number; costDelta?: number; limits?: QuotaLimits; actor?: Actor },
  ): Promise<Cluster>;
  /**
   * Status change from a workflow step: guarded by `generation` (a stale workflow cannot overwrite a newer
   * operation's record) and appends a history record in the same transaction.
   */
  recordStatus(ws: string, name: string, generation: number, patch: ClusterPatch, actor: Actor): Promise<Cluster>;
  /** Marks Deleted and releases the reserved quota (count and cost) in one transaction; idempotent. */
  markDeleted(ws: string, name: string, generation: number, actor: Actor): Promise<Cluster>;
  history(uid: string, page?: PageRequest): Promise<Page<HistoryRecord>>;
  /** Clusters with an operation in flight (sparse index; for resume after restart). */
  listActive(page?: PageRequest): Promise<Page<{ workspaceId: string; name: string }>>;
  /** Clusters whose expiresAt is before `now` (sparse index; for the TTL sweeper). */
  listExpired(now: string, page?: PageRequest): Promise<Page<{ workspaceId: string; name: string }>>;
}

export interface AuditRecord {
  at: string;
  actor: string;
  action: string;
  resource: string;
  detail?: Record<string, unknown>;
}

export interface AuditStore {
  append(record: Omit<AuditRecord, 'at'>): Promise<void>;
  listDay(day: string, page?: PageRequest): Promise<Page<AuditRecord>>;
}

export interface IdempotencyRecord {
  requestHash: string;
  state: 'in-progress' | 'done';
  response?: { statusCode: number; headers: Record<string, string>; body: string };
}

export interface IdempotencyStore {
  /**
   * Claims the key for this request hash. Returns null when newly claimed; otherwise the existing record
   * (the caller compares the hash and replays or refuses). Records expire after 24 h.
   */
  claim(principal: string, key: string, requestHash: string): Promise<IdempotencyRecord | null>;
  complete(principal: string, key: string, response: NonNullable<IdempotencyRecord['response']>): Promise<void>;
  /** Releases a claim whose request failed with a retryable error so a retry can run again. */
  release(principal: string, key: string): Promise<void>;
}

export type NewOnboardingRule = Omit<OnboardingRule, 'createdAt' | 'createdBy' | 'updatedAt' | 'version'>;
export type OnboardingRuleStore = ConfigCollection<OnboardingRule, NewOnboardingRule>;

export type NewOnboardedAccount = Omit<OnboardedAccount, 'createdAt' | 'updatedAt' | 'version'>;
/** What the onboarding steps change on an account record. */
export type AccountPatch = Partial<
  Pick<OnboardedAccount, 'status' | 'workspaceId' | 'verification' | 'baselineCluster' | 'changes' | 'reason' | 'failedStep'>
>;

/**
 * What a new onboarding attempt takes from the event that asked for it (the account's facts, the rule that
 * matches now, the trigger) and its execution name. Everything else — workspace, changes, baseline — carries
 * over: the undo left there exactly what still exists.
 */
export type AccountRetry = Pick<OnboardedAccount, 'accountName' | 'email' | 'organizationalUnit' | 'tags' | 'ruleId' | 'ruleVersion' | 'rule' | 'trigger' | 'executionName'>;

export interface AccountStore {
  /**
   * Records the account as Onboarding unless a record exists (conditional put, audited): `claimed` says
   * whether this call made it. The one place where "exactly one onboarding per account" is decided.
   */
  claim(account: NewOnboardedAccount, actor: Actor): Promise<{ account: OnboardedAccount; claimed: boolean }>;
  /**
   * Compensation when the workflow could not be started after a claim: removes the record only if it is
   * still that execution's and still Onboarding. Idempotent.
   */
  discardClaim(accountId: string, executionName: string): Promise<void>;
  /**
   * Starts the next attempt of a Failed onboarding: `failed` (as read) becomes Onboarding with `attempt + 1`,
   * its attempt moved to `previousAttempts` (audited). Conditional on the record being unchanged since it was
   * read: of simultaneous retries exactly one gets `retried: true`; the others get the record as it is now.
   */
  retry(failed: OnboardedAccount, next: AccountRetry, actor: Actor): Promise<{ account: OnboardedAccount; retried: boolean }>;
  /**
   * Compensation when the workflow could not be started after a retry: puts `failed` back, only if the record
   * is still that attempt's (`executionName`) and untouched since. Idempotent.
   */
  revertRetry(failed: OnboardedAccount, executionName: string): Promise<void>;
  get(accountId: string): Promise<OnboardedAccount | null>;
  /** NotFoundError when missing. */
  load(accountId: string): Promise<OnboardedAccount>;
  list(page?: PageRequest): Promise<Page<OnboardedAccount>>;
  /** A step's change; bumps `version`, guarded by `expectedVersion` when given. NotFoundError when missing. */
  update(accountId: string, patch: AccountPatch, expectedVersion?: number): Promise<OnboardedAccount>;
}

/** Why a principal's cluster access must go. */
export type RevocationReason = 'member-removed' | 'owner-demoted';

/**
 * An outbox item: written in the same transaction as the membership change that makes it necessary, read by
 * the revocation processor (shared/clusters/revoke-access.ts), deleted once every cluster was handled.
 */
export interface AccessRevocation {
  /** `<iso time>#<random>`: sorts by time. */
  id: string;
  workspaceId: string;
  /** `user:<sub>` or `group:<name>`. */
  principal: string;
  reason: RevocationReason;
  at: string;
  actor: string;
  /** Uids of the clusters already handled (a retry skips them). */
  doneClusters: string[];
}

export interface RevocationStore {
  /** Pending revocations, oldest first (one Query on one partition; no Scan). */
  listPending(page?: PageRequest): Promise<Page<AccessRevocation>>;
  /** Records one cluster as handled; a no-op once the revocation is complete. */
  markClusterDone(id: string, clusterUid: string): Promise<void>;
  /** Every cluster handled: the item goes (idempotent). */
  complete(id: string): Promise<void>;
}

/** Everything a handler may need, built once per Lambda container. */
export interface Stores {
  cloudAccesses: CloudAccessStore;
  networkPlans: NetworkPlanStore;
  clusterPlans: ClusterPlanStore;
  computeTemplates: ComputeTemplateStore;
  packages: PackageStore;
  policies: PolicyStore;
  workspaces: WorkspaceStore;
  clusters: ClusterStore;
  audit: AuditStore;
  idempotency: IdempotencyStore;
  onboardingRules: OnboardingRuleStore;
  accounts: AccountStore;
  revocations: RevocationStore;
}
