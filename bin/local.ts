/**
 * `npm start`: Slipway on this machine. Starts the local runtime (DynamoDB Local, workflows, API), seeds
 * the demo on the first start, and prints two dev tokens and a first curl command. Configuration from the
 * environment: PORT (8080), HOST (127.0.0.1), SLIPWAY_DATA_DIR (.slipway), SLIPWAY_ADMIN_GROUP
 * (slipway-admins), SLIPWAY_TIME_FACTOR (0.1: workflow waits at a tenth of real time), SIM_PORT (6550, the
 * CAPI simulator; 0 picks a free one), SLIPWAY_SIM_PROFILE (realistic | fast), SLIPWAY_SIM_TIME_FACTOR (0.6), SLIPWAY_MANAGEMENT_KUBECONFIG
 * (a real management cluster instead of the simulator, e.g. kind + CAPD), SLIPWAY_PROVIDER_REPOSITORY (a CAPI
 * provider mirror in clusterctl's layout; default: the simulator's releases, or GitHub with a real cluster).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { JavaNotFoundError, PortInUseError as DynamoPortInUseError } from '../local/dynamodb.ts';
import { PortInUseError } from '../local/http/server.ts';
import { IssuerKeyError } from '../local/issuer.ts';
import { DataDirError, type LocalRuntime, startLocalRuntime } from '../local/runtime.ts';
import { DEMO_CLUSTER_REQUEST, DEMO_DEVELOPER, DEMO_WORKSPACE } from '../local/seed.ts';

class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Errors the user can fix get one line; anything else is a bug and gets its stack. */
const EXPECTED = [JavaNotFoundError, DynamoPortInUseError, PortInUseError, DataDirError, IssuerKeyError, ConfigError];

function numberFromEnv(name: string, fallback: number, valid: (n: number) => boolean): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!valid(n)) throw new ConfigError(`${name}=${raw} is not valid`);
  return n;
}

async function main(): Promise<void> {
  const port = numberFromEnv('PORT', 8080, (n) => Number.isInteger(n) && n >= 0 && n < 65536);
  const timeFactor = numberFromEnv('SLIPWAY_TIME_FACTOR', 0.1, (n) => Number.isFinite(n) && n >= 0);
  const simPort = numberFromEnv('SIM_PORT', 6550, (n) => Number.isInteger(n) && n >= 0 && n < 65536);
  const profile = process.env.SLIPWAY_SIM_PROFILE || 'realistic';
  // The realistic profile's boots and installs at 60 %: a demo cluster is Ready in about a minute.
  const simTimeFactor = numberFromEnv('SLIPWAY_SIM_TIME_FACTOR', 0.6, (n) => Number.isFinite(n) && n > 0);
  if (profile !== 'realistic' && profile !== 'fast') throw new ConfigError(`SLIPWAY_SIM_PROFILE=${profile} is not valid (realistic | fast)`);
  const managementKubeconfig = process.env.SLIPWAY_MANAGEMENT_KUBECONFIG;
  const adminGroup = process.env.SLIPWAY_ADMIN_GROUP || 'slipway-admins';
  const dataDir = resolve(process.env.SLIPWAY_DATA_DIR || '.slipway');

  const runtime = await startLocalRuntime({
    dataDir,
    port,
    ...(process.env.HOST ? { host: process.env.HOST } : {}),
    adminGroup,
    timeFactor,
    seed: true,
    // kubectl sends bearer tokens over TLS only: the simulator serves HTTPS so it can be looked at.
    ...(managementKubeconfig ? { management: { kubeconfigFile: resolve(managementKubeconfig) } } : { simulator: { profile, timeFactor: simTimeFactor, port: simPort, tls: true } }),
    ...(process.env.SLIPWAY_PROVIDER_REPOSITORY ? { providers: { repository: process.env.SLIPWAY_PROVIDER_REPOSITORY } } : {}),
    // The handlers log their own requests; show the ones the gateway answered without them (401, 404…).
    onRequest: (e) => {
      if (e.answeredBy === 'gateway') console.log(`${e.method} ${e.path} → ${e.status} (gateway) ${e.ms} ms`);
    },
    onHandlerError: (err, e) => console.error(`handler error on ${e.routeKey} (request ${e.requestId}):`, err),
  });

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping (running workflows are aborted; they resume on the next start)…`);
    runtime.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('slipway: stop failed:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const kubeconfig = runtime.simulator ? await writeSimKubeconfig(runtime, dataDir) : null;
  await printBanner(runtime, adminGroup, kubeconfig);
}

/** The management cluster's kubeconfig for kubectl; workload clusters are reached through their Secrets. */
async function writeSimKubeconfig(runtime: LocalRuntime, dataDir: string): Promise<string> {
  const dir = join(dataDir, 'sim');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'kubeconfig');
  await writeFile(file, runtime.simulator?.managementKubeconfigText() ?? '', { mode: 0o600 });
  return file;
}

async function printBanner(runtime: LocalRuntime, adminGroup: string, kubeconfig: string | null): Promise<void> {
  const admin = await runtime.issuer.issue({ sub: 'admin', email: 'admin@slipway.local', groups: [adminGroup] });
  const dev = await runtime.issuer.issue({ sub: DEMO_DEVELOPER.sub, email: 'dev@slipway.local', groups: [...DEMO_DEVELOPER.groups] });
  const lines = [
    '',
    `Slipway is running at ${runtime.url}`,
    `  data:      ${runtime.dataDir} (DynamoDB Local at ${runtime.dynamoEndpoint})`,
    runtime.seeded
      ? `  demo:      seeded ${runtime.seeded.created.length} item(s) (workspace "${DEMO_WORKSPACE}")`
      : '  demo:      kept from an earlier start',
    `  workflows: ${runtime.workflows.workflows.length > 0 ? runtime.workflows.workflows.join(', ') : 'none runnable yet'}`,
    runtime.simulator
      ? `  CAPI:      simulator at ${runtime.simulator.url} (kubectl --kubeconfig ${kubeconfig} get clusters,machines -A)`
      : '  CAPI:      the management cluster of SLIPWAY_MANAGEMENT_KUBECONFIG',
  ];
  for (const [workflow, why] of runtime.workflows.unavailable) {
    const short = /no local handler for \d+ Task state\(s\)/.exec(why)?.[0] ?? why;
    lines.push(`  held:      ${workflow} (${short}: its clusters stay Requested)`);
  }
  for (const r of runtime.resumed) lines.push(`  resumed:   ${r}`);
  for (const r of runtime.notResumed) lines.push(`  NOT resumed: ${r}`);
  lines.push(
    '',
    'Tokens (valid 12 h; more with `npm run token -- --sub NAME --group GROUP`):',
    `  export SLIPWAY=${runtime.url}`,
    `  export ADMIN_TOKEN=${admin}   # user:admin, group ${adminGroup}`,
    `  export DEV_TOKEN=${dev}   # user:dev, group demo-devs, member of "${DEMO_WORKSPACE}"`,
    '',
    'Try:',
    '  curl -s -H "Authorization: Bearer $DEV_TOKEN" $SLIPWAY/v1/me',
    `  curl -s -X POST "$SLIPWAY/v1/workspaces/${DEMO_WORKSPACE}/clusters?dryRun=true" -H "Authorization: Bearer $DEV_TOKEN" \\`,
    `       -H 'content-type: application/json' -d '${JSON.stringify(DEMO_CLUSTER_REQUEST)}'`,
    '',
  );
  console.log(lines.join('\n'));
}

main().catch((err: unknown) => {
  if (EXPECTED.some((E) => err instanceof E)) {
    console.error(`slipway: ${(err as Error).message}`);
  } else {
    console.error('slipway: failed to start:', err);
  }
  process.exit(1);
});
