/**
 * How Slipway keeps reaching a workload cluster across the pivot. CAPI writes `<cluster>-kubeconfig` next to
 * the Cluster; `clusterctl move` carries that Secret into the workload cluster itself, so after the pivot
 * the management cluster no longer has it. Slipway therefore keeps its own copy in the management cluster,
 * in the `slipway-system` namespace (outside any moved namespace, never moved), labelled with the cluster's
 * uid, and removes it when the cluster is deleted. Kubeconfigs stay in Kubernetes Secrets (encrypted at rest
 * on EKS): never in DynamoDB, never in logs.
 */
import type { KubeClient, KubeClientOptions, SubresourceKubeClient } from './client.ts';
import { createKubeClient } from './client.ts';
import { KUBECONFIG_SECRET_KEY, kubeconfigFromText, kubeconfigSecretName } from './connect.ts';
import { KubeconfigNotFoundError } from './errors.ts';
import { workspaceNamespace } from './render.ts';
import type { KubeObject } from './types.ts';

export const ACCESS_NAMESPACE = 'slipway-system';

export interface AccessSubject {
  workspaceId: string;
  name: string;
  uid: string;
}

interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

export function accessSecretName(c: AccessSubject): string {
  return `${c.workspaceId}.${c.name}.kubeconfig`;
}

/**
 * Copies CAPI's kubeconfig Secret into Slipway's access namespace (idempotent). Called while the CAPI
 * objects still live in the management cluster; KubeconfigNotFoundError until CAPI has written it.
 */
export async function saveAccess(management: KubeClient, c: AccessSubject): Promise<void> {
  const namespace = workspaceNamespace(c.workspaceId);
  const source = await management.get<SecretObject>({ apiVersion: 'v1', kind: 'Secret', namespace, name: kubeconfigSecretName(c.name) });
  const value = source?.data?.[KUBECONFIG_SECRET_KEY];
  if (!value) throw new KubeconfigNotFoundError(`cluster ${c.workspaceId}/${c.name} has no kubeconfig yet`);
  await management.ensureNamespace(ACCESS_NAMESPACE);
  await management.apply(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: accessSecretName(c),
        namespace: ACCESS_NAMESPACE,
        labels: { 'slipway.dev/workspace': c.workspaceId, 'slipway.dev/cluster': c.name, 'slipway.dev/cluster-uid': c.uid },
      },
      type: 'Opaque',
      data: { [KUBECONFIG_SECRET_KEY]: value },
    },
    { force: true },
  );
}

/** The kubeconfig text Slipway keeps for the cluster; KubeconfigNotFoundError when there is none (yet). */
export async function loadAccess(management: KubeClient, c: AccessSubject): Promise<string> {
  const secret = await management.get<SecretObject>({ apiVersion: 'v1', kind: 'Secret', namespace: ACCESS_NAMESPACE, name: accessSecretName(c) });
  const value = secret?.data?.[KUBECONFIG_SECRET_KEY];
  if (!value || secret?.metadata.labels?.['slipway.dev/cluster-uid'] !== c.uid) {
    throw new KubeconfigNotFoundError(`no access kept for cluster ${c.workspaceId}/${c.name}`);
  }
  return Buffer.from(value, 'base64').toString('utf8');
}

/** A client on the workload cluster from the kept access (falls back to CAPI's Secret before it is kept). */
export async function connectAccess(management: KubeClient, c: AccessSubject, opts: KubeClientOptions = {}): Promise<KubeClient> {
  let text: string;
  try {
    text = await loadAccess(management, c);
  } catch (error) {
    if (!(error instanceof KubeconfigNotFoundError)) throw error;
    await saveAccess(management, c);
    text = await loadAccess(management, c);
  }
  return createKubeClient(kubeconfigFromText(text), { cluster: `workload/${c.workspaceId}/${c.name}`, ...opts });
}

/** Where the workload cluster's API server is and how to trust it, from the kept kubeconfig (no credentials). */
export interface ClusterEndpoint {
  server: string;
  caData: string | undefined;
  insecureSkipTlsVerify: boolean;
  tlsServerName: string | undefined;
}

/**
 * A client on the workload cluster from the kept access only — reads, never writes, in the management cluster
 * (what the kubeconfig route may do there) — and the endpoint, for kubeconfigs that carry other credentials.
 * KubeconfigNotFoundError when nothing is kept for this incarnation of the cluster.
 */
export async function connectKeptAccess(management: KubeClient, c: AccessSubject, opts: KubeClientOptions = {}): Promise<{ client: SubresourceKubeClient; endpoint: ClusterEndpoint }> {
  const kc = kubeconfigFromText(await loadAccess(management, c));
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new KubeconfigNotFoundError(`the access kept for cluster ${c.workspaceId}/${c.name} names no cluster`);
  return {
    client: createKubeClient(kc, { cluster: `workload/${c.workspaceId}/${c.name}`, ...opts }),
    endpoint: { server: cluster.server, caData: cluster.caData, insecureSkipTlsVerify: cluster.skipTLSVerify === true, tlsServerName: cluster.tlsServerName },
  };
}

export async function removeAccess(management: KubeClient, c: AccessSubject): Promise<void> {
  await management.delete({ apiVersion: 'v1', kind: 'Secret', namespace: ACCESS_NAMESPACE, name: accessSecretName(c) });
}
