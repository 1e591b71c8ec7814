/**
 * Step dependencies on one machine: the same stores, the local event bus, and the management cluster from
 * a kubeconfig (the simulator's, or a real kind + CAPD cluster's). Workload connections are cached per
 * cluster incarnation, as a warm Lambda container would keep them. Provider components come from the
 * simulator's release repository when it is the management cluster, else from GitHub.
 */
import { connectAccess } from '../shared/capi/access.ts';
import type { KubeClient } from '../shared/capi/client.ts';
import { createComponentsFetcher, defaultComponentsFetcher } from '../shared/capi/providers/index.ts';
import type { EventPublisher } from '../shared/events/publisher.ts';
import { createLogger } from '../shared/log.ts';
import { loadPriceCatalog } from '../shared/policy/cost.ts';
import { DEFAULT_WAITS, type StepDeps, type WaitPolicy } from '../shared/steps/runtime.ts';
import type { Stores } from '../shared/store/ports.ts';

export interface LocalStepDepsOptions {
  stores: Stores;
  events: EventPublisher;
  management: KubeClient;
  /**
   * Where provider components come from: a repository base URL and the PEM CA of its server (the simulator's
   * `<url>/releases` with its self-signed certificate); default each provider's GitHub release.
   */
  providers?: { repository?: string; ca?: string };
  clock?: () => Date;
  waits?: Partial<WaitPolicy>;
}

export function localStepDeps(o: LocalStepDepsOptions): StepDeps {
  const workloads = new Map<string, Promise<KubeClient>>();
  return {
    stores: o.stores,
    events: o.events,
    management: async () => o.management,
    workload: (cluster) => {
      let client = workloads.get(cluster.uid);
      if (!client) {
        client = connectAccess(o.management, cluster);
        // A failed connection (kubeconfig not written yet) must be retried, not remembered.
        client.catch(() => workloads.delete(cluster.uid));
        workloads.set(cluster.uid, client);
      }
      return client;
    },
    providers: {
      ...(o.providers?.repository === undefined ? {} : { repository: o.providers.repository }),
      fetcher: o.providers?.ca === undefined ? defaultComponentsFetcher() : createComponentsFetcher({ ca: o.providers.ca }),
    },
    prices: loadPriceCatalog(),
    clock: o.clock ?? (() => new Date()),
    waits: { ...DEFAULT_WAITS, ...o.waits },
    log: createLogger({ component: 'steps' }),
  };
}
