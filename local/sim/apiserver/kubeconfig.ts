/** Kubeconfigs for virtual clusters (JSON, which is valid YAML, so kubectl reads the file as is). */

export interface KubeconfigInput {
  /** Name used for the cluster, user and context entries. */
  name: string;
  /** `http://host:port/clusters/<name>` */
  server: string;
  token: string;
  namespace?: string;
}

export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: { name: string; cluster: { server: string; 'insecure-skip-tls-verify'?: boolean } }[];
  users: { name: string; user: { token: string } }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  'current-context': string;
  preferences: Record<string, never>;
}

export function kubeconfigFor(input: KubeconfigInput): Kubeconfig {
  const user = `${input.name}-admin`;
  const context: { cluster: string; user: string; namespace?: string } = { cluster: input.name, user };
  if (input.namespace !== undefined) context.namespace = input.namespace;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    // Plain http: client-node needs skipTLSVerify on the cluster entry to accept it.
    clusters: [{ name: input.name, cluster: { server: input.server, 'insecure-skip-tls-verify': input.server.startsWith('http://') } }],
    users: [{ name: user, user: { token: input.token } }],
    contexts: [{ name: input.name, context }],
    'current-context': input.name,
    preferences: {},
  };
}

/** The kubeconfig as text, for a file or the `value` key of a `<cluster>-kubeconfig` Secret. */
export function kubeconfigText(input: KubeconfigInput): string {
  return `${JSON.stringify(kubeconfigFor(input), null, 2)}\n`;
}
