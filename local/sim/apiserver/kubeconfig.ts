/** Kubeconfigs for virtual clusters (JSON, which is valid YAML, so kubectl reads the file as is). */

export interface KubeconfigInput {
  /** Name used for the cluster, user and context entries. */
  name: string;
  /** `http://host:port/clusters/<name>` */
  server: string;
  token: string;
  namespace?: string;
  /** base64 PEM CA for an https server (ApiServer.caData); plain http needs none. */
  caData?: string;
}

export interface Kubeconfig {
  apiVersion: 'v1';
  kind: 'Config';
  clusters: { name: string; cluster: { server: string; 'insecure-skip-tls-verify'?: boolean; 'certificate-authority-data'?: string } }[];
  users: { name: string; user: { token: string } }[];
  contexts: { name: string; context: { cluster: string; user: string; namespace?: string } }[];
  'current-context': string;
  preferences: Record<string, never>;
}

export function kubeconfigFor(input: KubeconfigInput): Kubeconfig {
  const user = `${input.name}-admin`;
  const context: { cluster: string; user: string; namespace?: string } = { cluster: input.name, user };
  if (input.namespace !== undefined) context.namespace = input.namespace;
  // Plain http: client-node needs skipTLSVerify on the cluster entry to accept it.
  const cluster: Kubeconfig['clusters'][number]['cluster'] =
    input.caData === undefined
      ? { server: input.server, 'insecure-skip-tls-verify': input.server.startsWith('http://') }
      : { server: input.server, 'certificate-authority-data': input.caData };
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: input.name, cluster }],
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
