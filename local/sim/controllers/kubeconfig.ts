/**
 * Kubeconfigs handed out by the simulator: the API server's format, with TLS verification skipped for https
 * too — the HTTPS front uses a self-signed certificate generated at start.
 */
import { type Kubeconfig, type KubeconfigInput, kubeconfigFor } from '../apiserver/kubeconfig.ts';

export function simKubeconfig(input: KubeconfigInput): Kubeconfig {
  const k = kubeconfigFor(input);
  for (const c of k.clusters) c.cluster['insecure-skip-tls-verify'] = true;
  return k;
}

export function simKubeconfigText(input: KubeconfigInput): string {
  return `${JSON.stringify(simKubeconfig(input), null, 2)}\n`;
}
