/**
 * `npm run sim`: the CAPI management-cluster simulator on its own, for kubectl or any Kubernetes client.
 *
 * Environment (validated once, here):
 *   SIM_PORT         port to listen on (default 6550)
 *   SIM_HOST         address to bind (default 127.0.0.1)
 *   SIM_PROFILE      fast | realistic (default realistic: seconds per machine, good to watch)
 *   SIM_TIME_FACTOR  multiplies every delay (default 1)
 *   SIM_SEED         seeds generated names and instance ids (default 1)
 *   SIM_KUBECONFIG   where to write the management cluster's kubeconfig (default .slipway/sim/kubeconfig)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import * as z from 'zod';
import { CLUSTER_CLASS_NAMES, startSimulator } from '../local/sim/index.ts';

const Env = z.object({
  SIM_PORT: z.coerce.number().int().min(0).max(65_535).default(6550),
  SIM_HOST: z.string().min(1).default('127.0.0.1'),
  SIM_PROFILE: z.enum(['fast', 'realistic']).default('realistic'),
  SIM_TIME_FACTOR: z.coerce.number().positive().default(1),
  SIM_SEED: z.coerce.number().int().default(1),
  SIM_KUBECONFIG: z.string().min(1).default('.slipway/sim/kubeconfig'),
});

const parsed = Env.safeParse(process.env);
if (!parsed.success) {
  process.stderr.write(`invalid environment:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}\n`);
  process.exit(2);
}
const env = parsed.data;

const sim = await startSimulator({ tls: true, port: env.SIM_PORT, host: env.SIM_HOST, profile: env.SIM_PROFILE, timeFactor: env.SIM_TIME_FACTOR, seed: env.SIM_SEED });
const kubeconfigPath = resolve(env.SIM_KUBECONFIG);
await mkdir(dirname(kubeconfigPath), { recursive: true });
await writeFile(kubeconfigPath, sim.managementKubeconfigText(), { mode: 0o600 });

process.stdout.write(
  [
    `CAPI simulator listening on ${sim.url} (profile ${env.SIM_PROFILE}, time factor ${env.SIM_TIME_FACTOR})`,
    `management cluster kubeconfig: ${kubeconfigPath}`,
    '',
    'Try:',
    `  export KUBECONFIG=${kubeconfigPath}`,
    '  kubectl get providers -A',
    '  kubectl get clusterclasses -n default',
    // kubectl needs --validate=false (the simulator serves no OpenAPI) and apply (JSON bodies, not protobuf).
    "  kubectl apply --validate=false -f - <<'YAML'",
    '  apiVersion: v1',
    '  kind: Namespace',
    '  metadata: {name: demo}',
    '  ---',
    '  apiVersion: cluster.x-k8s.io/v1beta2',
    '  kind: Cluster',
    '  metadata: {name: demo-1, namespace: demo}',
    '  spec:',
    '    topology:',
    `      classRef: {name: ${CLUSTER_CLASS_NAMES[0]}, namespace: default}`,
    '      version: v1.31.4',
    '      controlPlane: {replicas: 1}',
    '      workers: {machineDeployments: [{class: default-worker, name: md-0, replicas: 2}]}',
    '  YAML',
    '  kubectl get clusters,machines -A -w',
    '  kubectl get secret -n demo demo-1-kubeconfig -o jsonpath={.data.value} | base64 -d > demo-1.kubeconfig',
    '  kubectl --kubeconfig demo-1.kubeconfig get nodes',
    `Counters: curl -k ${sim.url}/sim/counters`,
    '',
  ].join('\n'),
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping the simulator\n`);
  await sim.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
