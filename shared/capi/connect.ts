/**
 * Connections for the CAPI driver:
 * - the management cluster from a kubeconfig (file, YAML/JSON text or object: the simulator or a real kind
 *   cluster locally) or, in AWS, from `eks:DescribeCluster` (endpoint + CA) and an STS-presigned EKS token,
 *   rebuilt before it expires (15 min validity, refresh at 14; cached per container);
 * - a workload cluster from its `<cluster>-kubeconfig` Secret (key `value`), as CAPI writes it.
 *
 * TLS verification stays on unless the server is plain http (no TLS at all) or the kubeconfig itself says
 * `insecure-skip-tls-verify`. Kubeconfigs and tokens are never logged nor put in error messages.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks';
import { KubeConfig } from '@kubernetes/client-node';
import { type EksToken, type EksTokenOptions, eksToken } from '../aws/eks-token.ts';
import { createKubeClient, type KubeClient, type KubeClientOptions, PooledObjectApi } from './client.ts';
import { KubeconfigError, KubeconfigNotFoundError } from './errors.ts';

export type KubeconfigSource =
  /** A kubeconfig file (YAML or JSON). */
  | { file: string; context?: string }
  /** Kubeconfig text (YAML or JSON). */
  | { text: string; context?: string }
  /** A parsed kubeconfig document (`apiVersion: v1, kind: Config, clusters, users, contexts`). */
  | { object: unknown; context?: string };

/** Loads a kubeconfig and checks it names a usable cluster and user. */
export async function loadKubeconfig(source: KubeconfigSource): Promise<KubeConfig> {
  let text: string;
  if ('file' in source) {
    try {
      text = await readFile(source.file, 'utf8');
    } catch (err) {
      throw new KubeconfigError(`cannot read kubeconfig file ${source.file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
    }
    // Relative certificate/key paths in a kubeconfig file are relative to the file, as kubectl reads them.
    return kubeconfigFromText(text, source.context, dirname(resolve(source.file)));
  }
  if ('text' in source) return kubeconfigFromText(source.text, source.context);
  return kubeconfigFromText(JSON.stringify(source.object), source.context);
}

/** Parses kubeconfig text (JSON is YAML) — the error never quotes the content, which holds credentials. */
export function kubeconfigFromText(text: string, context?: string, baseDir?: string): KubeConfig {
  const kc = new KubeConfig();
  try {
    kc.loadFromString(text);
    if (baseDir !== undefined) kc.makePathsAbsolute(baseDir);
  } catch {
    // The parser's message may quote the content, which holds credentials: say what, not where.
    throw new KubeconfigError('the kubeconfig is not valid YAML/JSON or not a kubeconfig');
  }
  if (context !== undefined) {
    if (kc.getContextObject(context) === null) throw new KubeconfigError(`the kubeconfig has no context "${context}"`);
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (cluster === null || !cluster.server) throw new KubeconfigError('the kubeconfig has no current cluster with a server');
  if (kc.getCurrentUser() === null) throw new KubeconfigError('the kubeconfig has no current user');
  return withPlainHttpAllowed(kc);
}

/**
 * client-node refuses plain `http://` servers unless the cluster entry skips TLS verification. There is no TLS
 * to verify on http, so say so for those entries only; https entries keep whatever the kubeconfig says.
 */
function withPlainHttpAllowed(kc: KubeConfig): KubeConfig {
  const clusters = kc.getClusters();
  if (!clusters.some((c) => c.server.startsWith('http://') && !c.skipTLSVerify)) return kc;
  const fixed = new KubeConfig();
  fixed.loadFromOptions({
    clusters: clusters.map((c) => (c.server.startsWith('http://') ? { ...c, skipTLSVerify: true } : c)),
    users: kc.getUsers(),
    contexts: kc.getContexts(),
    currentContext: kc.getCurrentContext(),
  });
  return fixed;
}

/** A KubeClient on the cluster a kubeconfig names. */
export async function connectKubeconfig(source: KubeconfigSource, opts: KubeClientOptions = {}): Promise<KubeClient> {
  return createKubeClient(await loadKubeconfig(source), opts);
}

export const KUBECONFIG_SECRET_KEY = 'value';

/** The name CAPI gives a cluster's admin kubeconfig Secret. */
export function kubeconfigSecretName(clusterName: string): string {
  return `${clusterName}-kubeconfig`;
}

/** Reads `<cluster>-kubeconfig` in `namespace` through `management`; KubeconfigNotFoundError until CAPI wrote it. */
export async function workloadKubeconfig(management: KubeClient, namespace: string, clusterName: string): Promise<KubeConfig> {
  const name = kubeconfigSecretName(clusterName);
  const secret = await management.get<{ apiVersion: string; kind: string; metadata: { name: string }; data?: Record<string, string> }>({
    apiVersion: 'v1',
    kind: 'Secret',
    name,
    namespace,
  });
  if (secret === null) throw new KubeconfigNotFoundError(`Secret ${namespace}/${name} does not exist (yet) on ${management.cluster}`);
  const encoded = secret.data?.[KUBECONFIG_SECRET_KEY];
  if (encoded === undefined || encoded === '') throw new KubeconfigError(`Secret ${namespace}/${name} has no "${KUBECONFIG_SECRET_KEY}" key`);
  return kubeconfigFromText(Buffer.from(encoded, 'base64').toString('utf8'));
}

/** A KubeClient on a workload cluster, from its kubeconfig Secret in the cluster that holds its CAPI objects. */
export async function connectWorkload(management: KubeClient, namespace: string, clusterName: string, opts: KubeClientOptions = {}): Promise<KubeClient> {
  const kc = await workloadKubeconfig(management, namespace, clusterName);
  return createKubeClient(kc, { cluster: `workload/${clusterName}`, ...opts });
}

// ── EKS ────────────────────────────────────────────────────────────────────────────────────────────────────

export interface EksConnectOptions {
  clusterName: string;
  region: string;
  /** Injected for tests and for a role other than the function's own. */
  eks?: Pick<EKSClient, 'send'>;
  /** Makes a token; default `eksToken` with the default credential chain. */
  token?: (opts: EksTokenOptions) => Promise<EksToken>;
  now?: () => Date;
}

interface EksEndpoint {
  server: string;
  caData: string;
}

interface EksConnection {
  api: PooledObjectApi;
  refreshAt: number;
}

// Per container: DescribeCluster once per cluster, a token (and the API object built on it) until refresh time.
const endpoints = new Map<string, Promise<EksEndpoint>>();
const connections = new Map<string, Promise<EksConnection>>();

/** A KubeClient on an EKS cluster (the management cluster in AWS), re-authenticating before the token expires. */
export function connectEks(opts: EksConnectOptions, clientOpts: KubeClientOptions = {}): KubeClient {
  const key = `${opts.region}/${opts.clusterName}`;
  const now = opts.now ?? (() => new Date());
  const source = async (): Promise<PooledObjectApi> => {
    const cached = connections.get(key);
    if (cached !== undefined) {
      const connection = await cached.catch(() => undefined);
      if (connection !== undefined && now().getTime() < connection.refreshAt) return connection.api;
    }
    const fresh = buildEksConnection(opts, now);
    connections.set(key, fresh);
    try {
      return (await fresh).api;
    } catch (err) {
      connections.delete(key);
      throw err;
    }
  };
  // A 401 before refresh time (clock skew, a revoked session): forget the token and try once more.
  const reauthenticate = () => {
    connections.delete(key);
  };
  return createKubeClient(source, { cluster: `eks/${opts.clusterName}`, reauthenticate, ...clientOpts });
}

/** Forgets cached EKS endpoints and tokens (tests; after a credentials change). */
export function clearEksCache(): void {
  endpoints.clear();
  connections.clear();
}

async function buildEksConnection(opts: EksConnectOptions, now: () => Date): Promise<EksConnection> {
  const endpoint = await describeEndpoint(opts);
  const token = await (opts.token ?? eksToken)({ clusterName: opts.clusterName, region: opts.region, now });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // EKS endpoints are https: verification stays on (plain http only in local stand-ins, which have no TLS).
    clusters: [{ name: opts.clusterName, server: endpoint.server, caData: endpoint.caData, skipTLSVerify: endpoint.server.startsWith('http://') }],
    users: [{ name: 'slipway', token: token.token }],
    contexts: [{ name: opts.clusterName, cluster: opts.clusterName, user: 'slipway' }],
    currentContext: opts.clusterName,
  });
  return { api: PooledObjectApi.forConfig(kc), refreshAt: token.refreshAt.getTime() };
}

function describeEndpoint(opts: EksConnectOptions): Promise<EksEndpoint> {
  const key = `${opts.region}/${opts.clusterName}`;
  let pending = endpoints.get(key);
  if (pending === undefined) {
    const eks = opts.eks ?? new EKSClient({ region: opts.region });
    pending = eks.send(new DescribeClusterCommand({ name: opts.clusterName })).then((out) => {
      const server = out.cluster?.endpoint;
      const caData = out.cluster?.certificateAuthority?.data;
      if (!server || !caData) throw new KubeconfigError(`EKS cluster ${opts.clusterName} has no endpoint or CA yet (status ${out.cluster?.status ?? 'unknown'})`);
      return { server, caData };
    });
    endpoints.set(key, pending);
    pending.catch(() => endpoints.delete(key));
  }
  return pending;
}
