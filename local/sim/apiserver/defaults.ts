/**
 * The defaulting a real API server applies to the built-in kinds the simulated clusters hold, so that a client
 * reading back what it created sees the same fields it would see on a real cluster (e.g. a Deployment's
 * `spec.replicas` of 1). Applied to stored objects, never to apply configurations (defaults are nobody's fields).
 */
import { isObject, type JsonObject } from './json.ts';
import type { KindInfo } from './kinds.ts';
import type { KubeObject } from './types.ts';

function spec(obj: KubeObject): JsonObject {
  if (!isObject(obj.spec)) obj.spec = {};
  return obj.spec as JsonObject;
}

export function applyDefaults(info: KindInfo, obj: KubeObject): void {
  if (info.group === '' && info.kind === 'Secret') {
    if (obj.type === undefined) obj.type = 'Opaque';
    return;
  }
  if (info.group !== 'apps') return;
  const s = spec(obj);
  s.revisionHistoryLimit ??= 10;
  if (info.kind === 'Deployment') {
    s.replicas ??= 1;
    s.progressDeadlineSeconds ??= 600;
    s.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
  } else if (info.kind === 'DaemonSet') {
    s.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } };
  }
}
