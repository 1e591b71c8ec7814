/**
 * Event source and detail-types of the Slipway bus. Shared by the runtime (PutEvents) and the CDK rules,
 * so a rule can never drift from what is published.
 */
export const EVENT_SOURCE = 'slipway';

export const DetailType = {
  ClusterPhaseChanged: 'Cluster Phase Changed',
  ClusterReady: 'Cluster Ready',
  ClusterFailed: 'Cluster Failed',
  ClusterDeleted: 'Cluster Deleted',
  AccountVended: 'Account Vended',
  AccountOnboarded: 'Account Onboarded',
  AccountOnboardingFailed: 'Account Onboarding Failed',
} as const;
export type DetailType = (typeof DetailType)[keyof typeof DetailType];

/** Version of every detail schema; consumers branch on it. */
export const DETAIL_SCHEMA_VERSION = '1';
