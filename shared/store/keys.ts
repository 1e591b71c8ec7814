/**
 * Every key format of the single table, in one place. Nothing else builds `pk`/`sk`/`gsi*` strings.
 *
 * | item                  | pk                     | sk                      | gsi1pk / gsi1sk                 | gsi2pk / gsi2sk            |
 * |-----------------------|------------------------|-------------------------|---------------------------------|----------------------------|
 * | cloud access          | CLOUDACCESS            | <id>                    |                                 |                            |
 * | network plan          | NETWORKPLAN            | <id>                    |                                 |                            |
 * | cluster plan (head)   | PLAN                   | <id>                    |                                 |                            |
 * | cluster plan revision | PLAN#<id>              | REV#<rev, 8 digits>     |                                 |                            |
 * | compute template      | TEMPLATE               | <id>                    |                                 |                            |
 * | package               | PACKAGE                | <name>#<version>        |                                 |                            |
 * | policy                | POLICY                 | <id>                    | POLICYSCOPE#<ws or *> / <id>    |                            |
 * | workspace             | WS#<ws>                | META                    | WORKSPACES / <ws>               |                            |
 * | member                | WS#<ws>                | MEMBER#<principal>      | PRINCIPAL#<principal> / <ws>    |                            |
 * | workspace usage       | WS#<ws>                | USAGE                   |                                 |                            |
 * | cluster               | WS#<ws>                | CLUSTER#<name>          | ACTIVE / <ws>#<name> (sparse)   | EXPIRY / <iso>#<ws>#<name> (sparse) |
 * | cluster history       | HISTORY#<cluster uid>  | <iso time>#<seq>        |                                 |                            |
 * | admin audit           | AUDIT#<yyyy-mm-dd>     | <iso time>#<random>     |                                 |                            |
 * | idempotency record    | IDEMPOTENCY#<principal>#<key> | META             |                                 |                            |
 * | onboarding rule       | ONBOARDINGRULE         | <id>                    |                                 |                            |
 * | onboarded account     | ACCOUNT                | <aws account id>        |                                 |                            |
 * | access revocation     | REVOCATION             | <iso time>#<random>     |                                 |                            |
 *
 * Config collections are small (admins write them) and live in one partition each so that lists are a
 * single Query. Clusters sit in their workspace's partition; the sparse `ACTIVE` index lets the runtime
 * find clusters with an operation in flight (resume after restart) and `EXPIRY` finds clusters past TTL —
 * both without a Scan. Pending access revocations (the outbox a membership change writes in its own
 * transaction) share one partition: they are rare and short-lived (deleted once every cluster is handled),
 * so the processor reads them all with one Query in time order.
 */

export const GLOBAL_POLICY_SCOPE = '*';

export const keys = {
  cloudAccess: (id: string) => ({ pk: 'CLOUDACCESS', sk: id }),
  cloudAccesses: () => ({ pk: 'CLOUDACCESS' }),

  networkPlan: (id: string) => ({ pk: 'NETWORKPLAN', sk: id }),
  networkPlans: () => ({ pk: 'NETWORKPLAN' }),

  clusterPlan: (id: string) => ({ pk: 'PLAN', sk: id }),
  clusterPlans: () => ({ pk: 'PLAN' }),
  clusterPlanRevision: (id: string, revision: number) => ({ pk: `PLAN#${id}`, sk: `REV#${String(revision).padStart(8, '0')}` }),
  clusterPlanRevisions: (id: string) => ({ pk: `PLAN#${id}`, skPrefix: 'REV#' }),

  computeTemplate: (id: string) => ({ pk: 'TEMPLATE', sk: id }),
  computeTemplates: () => ({ pk: 'TEMPLATE' }),

  package: (name: string, version: string) => ({ pk: 'PACKAGE', sk: `${name}#${version}` }),
  packages: () => ({ pk: 'PACKAGE' }),
  packageVersions: (name: string) => ({ pk: 'PACKAGE', skPrefix: `${name}#` }),

  policy: (id: string) => ({ pk: 'POLICY', sk: id }),
  policies: () => ({ pk: 'POLICY' }),
  policyScope: (workspaceId: string | null, id: string) => ({
    gsi1pk: `POLICYSCOPE#${workspaceId ?? GLOBAL_POLICY_SCOPE}`,
    gsi1sk: id,
  }),
  policiesInScope: (workspaceId: string | null) => ({ gsi1pk: `POLICYSCOPE#${workspaceId ?? GLOBAL_POLICY_SCOPE}` }),

  workspace: (ws: string) => ({ pk: `WS#${ws}`, sk: 'META' }),
  workspaceIndex: (ws: string) => ({ gsi1pk: 'WORKSPACES', gsi1sk: ws }),
  workspaces: () => ({ gsi1pk: 'WORKSPACES' }),
  member: (ws: string, principal: string) => ({ pk: `WS#${ws}`, sk: `MEMBER#${principal}` }),
  members: (ws: string) => ({ pk: `WS#${ws}`, skPrefix: 'MEMBER#' }),
  memberIndex: (ws: string, principal: string) => ({ gsi1pk: `PRINCIPAL#${principal}`, gsi1sk: ws }),
  membershipsOf: (principal: string) => ({ gsi1pk: `PRINCIPAL#${principal}` }),
  usage: (ws: string) => ({ pk: `WS#${ws}`, sk: 'USAGE' }),

  cluster: (ws: string, name: string) => ({ pk: `WS#${ws}`, sk: `CLUSTER#${name}` }),
  clusters: (ws: string) => ({ pk: `WS#${ws}`, skPrefix: 'CLUSTER#' }),
  activeClusterIndex: (ws: string, name: string) => ({ gsi1pk: 'ACTIVE', gsi1sk: `${ws}#${name}` }),
  activeClusters: () => ({ gsi1pk: 'ACTIVE' }),
  expiryIndex: (expiresAt: string, ws: string, name: string) => ({ gsi2pk: 'EXPIRY', gsi2sk: `${expiresAt}#${ws}#${name}` }),
  expiringClusters: () => ({ gsi2pk: 'EXPIRY' }),

  history: (clusterUid: string, at: string, seq: string) => ({ pk: `HISTORY#${clusterUid}`, sk: `${at}#${seq}` }),
  histories: (clusterUid: string) => ({ pk: `HISTORY#${clusterUid}` }),

  audit: (at: string, id: string) => ({ pk: `AUDIT#${at.slice(0, 10)}`, sk: `${at}#${id}` }),
  auditDay: (day: string) => ({ pk: `AUDIT#${day}` }),

  idempotency: (principal: string, key: string) => ({ pk: `IDEMPOTENCY#${principal}#${key}`, sk: 'META' }),

  onboardingRule: (id: string) => ({ pk: 'ONBOARDINGRULE', sk: id }),
  onboardingRules: () => ({ pk: 'ONBOARDINGRULE' }),

  account: (accountId: string) => ({ pk: 'ACCOUNT', sk: accountId }),

  revocation: (id: string) => ({ pk: 'REVOCATION', sk: id }),
  revocations: () => ({ pk: 'REVOCATION' }),
  accounts: () => ({ pk: 'ACCOUNT' }),
} as const;
