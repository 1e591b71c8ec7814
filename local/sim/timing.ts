/**
 * Timing profiles of the simulator. Every delay the simulated controllers and cloud wait is read from here, so
 * tests run the whole CAPI flow in well under a second per cluster while demos look like a real cloud.
 */

export type ProfileName = 'fast' | 'realistic';

export interface Timing {
  /** SimCluster: network + load balancer provisioning. */
  infraProvisionMs: number;
  /** Cloud instance: pending → running. */
  instanceBootMs: number;
  /** Cloud instance: shutting-down → terminated. */
  instanceTerminateMs: number;
  /** Kubelet: running instance → Node registered. */
  nodeRegisterMs: number;
  /** Node NotReady → Ready once a CNI DaemonSet exists. */
  cniReadyMs: number;
  /** Deployment/DaemonSet pods: schedulable → available. */
  podStartMs: number;
  /** CAAPH: helm install/upgrade of a release. */
  helmInstallMs: number;
  /** Delay between an event and the reconcile it triggers (queue latency of a real controller). */
  reconcileDelayMs: number;
  /** Requeue of a reconcile that waits on something without an event to wake it. */
  requeueMs: number;
  /** Running instance with no Machine claiming it for this long counts as leaked. */
  leakGraceMs: number;
}

const PROFILES: Record<ProfileName, Timing> = {
  fast: {
    infraProvisionMs: 10,
    instanceBootMs: 40,
    instanceTerminateMs: 10,
    nodeRegisterMs: 10,
    cniReadyMs: 10,
    podStartMs: 10,
    helmInstallMs: 20,
    reconcileDelayMs: 1,
    requeueMs: 50,
    leakGraceMs: 300,
  },
  realistic: {
    infraProvisionMs: 3_000,
    instanceBootMs: 12_000,
    instanceTerminateMs: 4_000,
    nodeRegisterMs: 2_000,
    cniReadyMs: 3_000,
    podStartMs: 4_000,
    helmInstallMs: 5_000,
    reconcileDelayMs: 50,
    requeueMs: 1_000,
    leakGraceMs: 30_000,
  },
};

export class UnknownProfileError extends Error {
  override name = 'UnknownProfileError';
}

/** A profile scaled by `timeFactor` (0.5 = twice as fast). Zero or negative factors are refused. */
export function timingFor(profile: ProfileName = 'fast', timeFactor = 1, overrides: Partial<Timing> = {}): Timing {
  const base = PROFILES[profile];
  if (base === undefined) throw new UnknownProfileError(`unknown timing profile "${profile}" (fast | realistic)`);
  if (!(timeFactor > 0)) throw new RangeError(`timeFactor must be > 0, got ${timeFactor}`);
  const scaled = {} as Timing;
  for (const key of Object.keys(base) as (keyof Timing)[]) {
    scaled[key] = Math.max(0, Math.round(base[key] * timeFactor));
  }
  return { ...scaled, ...overrides };
}
