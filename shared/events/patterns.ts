/**
 * EventBridge event patterns, in EventBridge's own JSON form (`detail-type`, arrays of allowed values). The CDK
 * rules are built from these objects and the local bus matches with the same ones, so what AWS delivers and
 * what the local runtime delivers cannot differ.
 */
import { DetailType, EVENT_SOURCE } from './constants.ts';

/** A scalar an event field may equal. */
export type PatternScalar = string | number | boolean | null;

/**
 * A content filter in a leaf list. The local bus implements each (local/eventbus.ts `matchesPattern`);
 * see docs/events.md for their meaning.
 */
export type PatternFilter =
  | { readonly prefix: string | { readonly 'equals-ignore-case': string } }
  | { readonly suffix: string | { readonly 'equals-ignore-case': string } }
  | { readonly 'equals-ignore-case': string }
  | { readonly wildcard: string }
  | {
      readonly 'anything-but':
        | PatternScalar
        | readonly PatternScalar[]
        | { readonly prefix: string }
        | { readonly suffix: string }
        | { readonly 'equals-ignore-case': string | readonly string[] }
        | { readonly wildcard: string | readonly string[] };
    }
  | { readonly numeric: readonly (string | number)[] }
  | { readonly exists: boolean }
  | { readonly cidr: string };

/**
 * A pattern: each field either a list of allowed values/filters (OR), a nested pattern, or under `$or` a list
 * of alternative patterns.
 */
export interface EventPattern {
  readonly [field: string]: readonly (PatternScalar | PatternFilter)[] | readonly EventPattern[] | EventPattern;
}

/** Control Tower's lifecycle event, on the account's default bus. */
export const CONTROL_TOWER = {
  source: 'aws.controltower',
  detailType: 'AWS Service Event via CloudTrail',
  eventName: 'CreateManagedAccount',
  succeeded: 'SUCCEEDED',
} as const;

/**
 * Control Tower `CreateManagedAccount` lifecycle events. Deliberately not filtered on
 * `createManagedAccountStatus.state`: a FAILED vending must reach the handler too, which ignores it and
 * writes an audit record.
 */
export const CONTROL_TOWER_ACCOUNT_VENDED_PATTERN: EventPattern = {
  source: [CONTROL_TOWER.source],
  'detail-type': [CONTROL_TOWER.detailType],
  detail: { eventName: [CONTROL_TOWER.eventName] },
};

/**
 * Only the Control Tower vendings that succeeded, for consumers that must not see the others. Slipway's own
 * rule uses the broader pattern above (failed ones are audited), and its handler applies this one.
 */
export const CONTROL_TOWER_ACCOUNT_SUCCEEDED_PATTERN: EventPattern = {
  source: [CONTROL_TOWER.source],
  'detail-type': [CONTROL_TOWER.detailType],
  detail: {
    eventName: [CONTROL_TOWER.eventName],
    serviceEventDetails: { createManagedAccountStatus: { state: [CONTROL_TOWER.succeeded] } },
  },
};

/**
 * The generic `Account Vended` event, on the Slipway bus, for vending machines other than Control Tower.
 * Any source: who may put events on the Slipway bus (its resource policy) is the trust boundary.
 */
export const ACCOUNT_VENDED_PATTERN: EventPattern = {
  'detail-type': [DetailType.AccountVended],
};

/** Every status event Slipway publishes: cluster phases and onboarding outcomes (the status log rule). */
export const STATUS_PATTERN: EventPattern = {
  source: [EVENT_SOURCE],
  'detail-type': [
    DetailType.ClusterPhaseChanged,
    DetailType.ClusterReady,
    DetailType.ClusterFailed,
    DetailType.ClusterDeleted,
    DetailType.AccountOnboarded,
    DetailType.AccountOnboardingFailed,
  ],
};

/** Events an operator must hear about (the notification rule). */
export const FAILURE_PATTERN: EventPattern = {
  source: [EVENT_SOURCE],
  'detail-type': [DetailType.ClusterFailed, DetailType.AccountOnboardingFailed],
};

/** The detail-types about clusters. */
export const CLUSTER_DETAIL_TYPES: readonly DetailType[] = [
  DetailType.ClusterPhaseChanged,
  DetailType.ClusterReady,
  DetailType.ClusterFailed,
  DetailType.ClusterDeleted,
];

/** Every cluster event (phase changes and outcomes) of every workspace. */
export const CLUSTER_EVENTS_PATTERN: EventPattern = { source: [EVENT_SOURCE], 'detail-type': CLUSTER_DETAIL_TYPES };

/** Onboarding outcomes. */
export const ACCOUNT_ONBOARDING_PATTERN: EventPattern = {
  source: [EVENT_SOURCE],
  'detail-type': [DetailType.AccountOnboarded, DetailType.AccountOnboardingFailed],
};

/**
 * Cluster events narrowed to a workspace (and optionally one cluster and some detail-types), e.g. for a team
 * that forwards its own clusters' outcomes to its chat.
 */
export function clusterEventsPattern(filter: { workspaceId?: string; name?: string; detailTypes?: readonly DetailType[] } = {}): EventPattern {
  const cluster: Record<string, readonly string[]> = {};
  if (filter.workspaceId !== undefined) cluster.workspaceId = [filter.workspaceId];
  if (filter.name !== undefined) cluster.name = [filter.name];
  return {
    source: [EVENT_SOURCE],
    'detail-type': filter.detailTypes ?? CLUSTER_DETAIL_TYPES,
    ...(Object.keys(cluster).length > 0 ? { detail: { cluster } } : {}),
  };
}
