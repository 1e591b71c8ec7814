/**
 * CAPI's ClusterClass controller, reduced to what the simulator needs: it makes the ClusterClass an owner of
 * the templates it references (so `clusterctl move` carries them along) and reports its status.
 */
import { API_CORE } from '../classes.ts';
import type { ClusterRuntime, Key, Reconciler, ReconcileResult } from './runtime.ts';
import type { ClusterClass, KObject, TemplateRef } from './types.ts';
import { A_PAUSED, cond, conditionsFrom, copy, hasAnnotation, isDeleting, ownerRef, writeStatus } from './util.ts';

export function clusterClassReconciler(): Reconciler {
  return {
    name: 'clusterclass',
    gate: 'cluster-api',
    apiVersion: API_CORE,
    kind: 'ClusterClass',
    async reconcile(rt: ClusterRuntime, key: Key): Promise<ReconcileResult | undefined> {
      const cc = await rt.client.get<ClusterClass>(API_CORE, 'ClusterClass', key.name, key.namespace);
      if (cc === undefined || isDeleting(cc) || hasAnnotation(cc, A_PAUSED)) return undefined;
      const refs: (TemplateRef | undefined)[] = [
        cc.spec?.infrastructure?.templateRef,
        cc.spec?.controlPlane?.templateRef,
        cc.spec?.controlPlane?.machineInfrastructure?.templateRef,
        ...(cc.spec?.workers?.machineDeployments ?? []).flatMap((md) => [md.bootstrap?.templateRef, md.infrastructure?.templateRef]),
      ];
      const missing: string[] = [];
      for (const ref of refs) {
        if (ref === undefined) continue;
        const t = await rt.client.get<KObject>(ref.apiVersion, ref.kind, ref.name, key.namespace);
        if (t === undefined) {
          missing.push(`${ref.kind} ${ref.name}`);
          continue;
        }
        if ((t.metadata.ownerReferences ?? []).some((r) => r.uid === cc.metadata.uid)) continue;
        const next = copy(t);
        next.metadata.ownerReferences = [...(t.metadata.ownerReferences ?? []), ownerRef(cc, false)];
        await rt.client.update(next);
      }
      await writeStatus(rt.client, cc, {
        observedGeneration: cc.metadata.generation,
        conditions: conditionsFrom(
          (cc.status as { conditions?: [] } | undefined)?.conditions,
          [
            missing.length === 0 ? cond('RefVersionsUpToDate', true, 'RefVersionsUpToDate') : cond('RefVersionsUpToDate', false, 'RefVersionsNotUpToDate', `Templates not found: ${missing.join(', ')}`),
            cond('VariablesReady', true, 'VariablesReady'),
            cond('Paused', false, 'NotPaused'),
          ],
          cc.metadata.generation,
        ),
      });
      return undefined;
    },
  };
}
