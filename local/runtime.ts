/**
 * The whole of Slipway on one machine: DynamoDB Local with its data under `<dataDir>/dynamodb`, the table
 * made from the production definition, the stores, the workflows on the local Step Functions runner, the
 * very API handlers the Lambdas run, and the local API Gateway in front of them with the dev issuer.
 */
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import type { ApiDeps } from '../functions/api/deps.ts';
import { buildApiHandlers } from '../functions/api/registry.ts';
import { buildClusterStepHandlers } from '../functions/steps/registry.ts';
import { processRevocations } from '../shared/clusters/revoke-access.ts';
import { sweepClusters } from '../shared/clusters/sweep.ts';
import type { KubeClient } from '../shared/capi/client.ts';
import { connectKubeconfig } from '../shared/capi/connect.ts';
import type { StepDeps, WaitPolicy } from '../shared/steps/runtime.ts';
import { loadPriceCatalog } from '../shared/policy/cost.ts';
import { createDynamoStores } from '../shared/store/dynamo/index.ts';
import { listAll } from '../shared/store/paging.ts';
import type { Stores } from '../shared/store/ports.ts';
import { clusterWorkflowRequest } from '../shared/workflow/cluster.ts';
import { kebabCase, WORKFLOW_IDS } from '../shared/workflow/names.ts';
import type { JsonValue } from '../shared/workflow/starter.ts';
import { type DynamoDbLocal, ensureTable, localDocumentClient, localDynamoClient, startDynamoDbLocal } from './dynamodb.ts';
import { lambdaContext } from './http/lambda-context.ts';
import { type AccessLogEntry, type LocalApiServer, startLocalApiServer } from './http/server.ts';
import { LocalIssuer } from './issuer.ts';
import { type SeedResult, seedDemo } from './seed.ts';
import { LocalEventBus } from './eventbus.ts';
import { localAccountVending } from './vending.ts';
import { type ProfileName, type Simulator, startSimulator } from './sim/index.ts';
import { localStepDeps } from './step-deps.ts';
import { LocalWorkflowStarter, type StateTransition, type TaskHandler } from './stepfunctions.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const REGION = 'local';
const ACCOUNT = '000000000000';

/**
 * A step Lambda handler (functions/steps/<name>.ts). Its event type is whatever the ASL hands that state —
 * a contract between the state machine and the step that AWS does not type-check either, hence `never` here.
 */
export type StepLambda = (event: never, context: Context) => unknown;

export interface LocalRuntimeOptions {
  dataDir: string;
  /** HTTP port; 0 picks a free one. Default 8080. */
  port?: number;
  host?: string;
  /** DynamoDB Local's port; default: a free one. */
  dynamoPort?: number;
  tableName?: string;
  adminGroup?: string;
  /**
   * Extra or replacement step handlers by step name (`begin-provisioning` for `${StepBeginProvisioningArn}`);
   * the cluster workflows' own steps are always bound.
   */
  steps?: Readonly<Record<string, StepLambda>> | ((deps: StepDeps) => Readonly<Record<string, StepLambda>>);
  /** A real management cluster (kind + CAPD, or any CAPI cluster); default: the CAPI simulator. */
  management?: { kubeconfigFile: string; context?: string };
  /**
   * Where CAPI provider components come from: a repository in clusterctl's layout and the PEM CA of its
   * server. Default: the simulator's `<url>/releases` when the simulator runs, else each provider's GitHub
   * release (a real kind + CAPD cluster).
   */
  providers?: { repository?: string; ca?: string };
  /** The simulator's settings when no real management cluster is given. */
  simulator?: { profile?: ProfileName; timeFactor?: number; port?: number; tls?: boolean; seed?: number };
  /** How often the cluster sweep and the access revocations run (TTL, lost starts; default 30 s; 0 turns it off). */
  ttlSweepMs?: number;
  /** Polling of the steps (defaults: shared/steps/runtime.ts DEFAULT_WAITS). */
  waits?: Partial<WaitPolicy>;
  /** Scales the workflows' Waits and Retry intervals (local/stepfunctions.ts). Default 1. */
  timeFactor?: number;
  /** Create the demo setup on the first start of this data dir. */
  seed?: boolean;
  onRequest?: (entry: AccessLogEntry) => void;
  onHandlerError?: (err: unknown, entry: { requestId: string; routeKey: string }) => void;
  onTransition?: (transition: StateTransition) => void;
  clock?: () => Date;
}

export interface LocalRuntime {
  url: string;
  port: number;
  dataDir: string;
  tableName: string;
  dynamoEndpoint: string;
  stores: Stores;
  workflows: LocalWorkflowStarter;
  issuer: LocalIssuer;
  /** The local EventBridge: every Slipway event lands here. */
  events: LocalEventBus;
  /** The CAPI simulator, unless a real management cluster was given. */
  simulator: Simulator | null;
  management: KubeClient;
  /** What the first start seeded; null on later starts or without `seed`. */
  seeded: SeedResult | null;
  /** Cluster operations found in flight at start and started again. */
  resumed: string[];
  /** In-flight operations that could not be started again, with the reason. */
  notResumed: string[];
  stop(): Promise<void>;
}

/** The data dir cannot be created, read or written. */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const dataDir = resolve(options.dataDir);
  const tableName = options.tableName ?? 'slipway';
  const clock = options.clock ?? (() => new Date());
  const cleanups: Array<() => Promise<void>> = [];
  const stop = async () => {
    // Reverse order: stop taking requests, stop workflows, then the database under them.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };

  try {
    const dbPath = await prepareDataDir(dataDir);
    const issuer = await LocalIssuer.open(dataDir);

    const dynamo: DynamoDbLocal = await startDynamoDbLocal({ port: options.dynamoPort ?? 0, dbPath });
    cleanups.push(() => dynamo.stop());
    const raw = localDynamoClient(dynamo.endpoint);
    cleanups.push(async () => raw.destroy());
    await ensureTable(raw, tableName);
    const doc = localDocumentClient(dynamo.endpoint);
    cleanups.push(async () => doc.destroy());
    const stores = createDynamoStores({ client: doc, tableName, now: clock });

    const seeded = options.seed ? await seedOnFirstStart(dbPath, stores, clock) : null;

    const events = new LocalEventBus();
    let simulator: Simulator | null = null;
    let management: KubeClient;
    if (options.management) {
      management = await connectKubeconfig(
        { file: options.management.kubeconfigFile, ...(options.management.context === undefined ? {} : { context: options.management.context }) },
        { cluster: 'management' },
      );
    } else {
      const sim = options.simulator ?? {};
      simulator = await startSimulator({
        profile: sim.profile ?? 'realistic',
        ...(sim.timeFactor === undefined ? {} : { timeFactor: sim.timeFactor }),
        ...(sim.port === undefined ? {} : { port: sim.port }),
        ...(sim.seed === undefined ? {} : { seed: sim.seed }),
        tls: sim.tls ?? false,
      });
      const started = simulator;
      cleanups.push(() => started.stop());
      management = await connectKubeconfig({ object: simulator.managementKubeconfig() }, { cluster: 'management' });
    }
    const stepDeps = localStepDeps({
      stores,
      events,
      management,
      clock,
      ...(options.waits === undefined ? {} : { waits: options.waits }),
      // The simulator serves provider releases in clusterctl's layout; a real cluster gets GitHub's.
      ...(options.providers !== undefined ? { providers: options.providers } : simulator === null ? {} : { providers: simulatorReleases(simulator) }),
    });
    const extraSteps = typeof options.steps === 'function' ? options.steps(stepDeps) : (options.steps ?? {});
    // Account vending: its rules on the bus, its steps bound like the others (the runner comes next).
    const vending = localAccountVending({ stores, events, clock, workflows: () => workflows });
    const steps: Record<string, StepLambda> = { ...buildClusterStepHandlers(() => stepDeps), ...vending.steps, ...extraSteps };

    const workflows = await localWorkflows({ tableName, steps, timeFactor: options.timeFactor ?? 1, onTransition: options.onTransition });
    cleanups.push(() => workflows.stopAll());

    const deps: ApiDeps = {
      adminGroup: options.adminGroup ?? 'slipway-admins',
      idempotency: stores.idempotency,
      stores,
      workflows,
      prices: loadPriceCatalog(),
      clock,
    };
    const server: LocalApiServer = await startLocalApiServer({
      port: options.port ?? 8080,
      ...(options.host === undefined ? {} : { host: options.host }),
      handlers: buildApiHandlers({ ...deps, management: async () => management }),
      localRoutes: vending.routes(() => deps),
      verifier: issuer,
      accountId: ACCOUNT,
      ...(options.onRequest === undefined ? {} : { onRequest: options.onRequest }),
      ...(options.onHandlerError === undefined ? {} : { onHandlerError: options.onHandlerError }),
    });
    cleanups.push(() => server.close());

    const { resumed, notResumed } = await resumeInFlight(stores, workflows);

    const sweepMs = options.ttlSweepMs ?? 30_000;
    if (sweepMs > 0) {
      let sweeping = false;
      const timer = setInterval(() => {
        if (sweeping) return;
        sweeping = true;
        // The same timer carries out pending access revocations (in AWS: their own function on this schedule).
        Promise.all([
          sweepClusters({ stores, workflows, clock }).catch((err: unknown) =>
            process.stderr.write(`slipway: cluster sweep failed: ${err instanceof Error ? err.message : String(err)}\n`),
          ),
          processRevocations({ stores, management: async () => management }).catch((err: unknown) =>
            process.stderr.write(`slipway: access revocation failed: ${err instanceof Error ? err.message : String(err)}\n`),
          ),
        ])
          .finally(() => {
            sweeping = false;
          });
      }, sweepMs);
      timer.unref();
      cleanups.push(async () => clearInterval(timer));
    }

    return {
      url: server.url,
      port: server.port,
      dataDir,
      tableName,
      dynamoEndpoint: dynamo.endpoint,
      stores,
      workflows,
      issuer,
      events,
      simulator,
      management,
      seeded,
      resumed,
      notResumed,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function prepareDataDir(dataDir: string): Promise<string> {
  const dbPath = join(dataDir, 'dynamodb');
  try {
    await mkdir(dbPath, { recursive: true });
    await access(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
    await access(dbPath, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : 'error';
    throw new DataDirError(`data dir ${dataDir} is not usable (${code}): set SLIPWAY_DATA_DIR to a writable directory`, { cause: err });
  }
  return dbPath;
}

/**
 * The marker lives next to the database files: deleting the database (to start over) also forgets that it
 * was seeded, while an admin deleting a demo item does not bring it back on the next start.
 */
async function seedOnFirstStart(dbPath: string, stores: Stores, clock: () => Date): Promise<SeedResult | null> {
  const marker = join(dbPath, '.slipway-seeded');
  try {
    await readFile(marker);
    return null;
  } catch {
    // not seeded yet
  }
  const result = await seedDemo(stores, clock);
  await writeFile(marker, `${clock().toISOString()}\n`);
  return result;
}

/** Lambda stand-ins, ARNs and resource names the ASL's `${…}` placeholders name (same convention as infra/). */
async function localWorkflows(input: {
  tableName: string;
  steps: Readonly<Record<string, StepLambda>>;
  timeFactor: number;
  onTransition: ((t: StateTransition) => void) | undefined;
}): Promise<LocalWorkflowStarter> {
  const dir = join(REPO_ROOT, 'statemachines');
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.asl.json'));
  const names = new Set<string>();
  for (const f of files) for (const m of (await readFile(join(dir, f), 'utf8')).matchAll(/\$\{([A-Za-z0-9_]+)\}/g)) if (m[1]) names.add(m[1]);

  const stateMachineArn = (workflow: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${workflow}`;
  const substitutions: Record<string, string> = {
    TableName: input.tableName,
    TableArn: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${input.tableName}`,
    EventBusName: 'slipway',
    EventBusArn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/slipway`,
    ManagementClusterName: 'slipway-management',
  };
  for (const name of names) {
    const step = /^Step([A-Z][A-Za-z0-9]*)Arn$/.exec(name)?.[1];
    if (step) substitutions[name] = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${stepFunctionName(kebabCase(step))}`;
    const machine = /^([A-Z][A-Za-z0-9]*)StateMachineArn$/.exec(name)?.[1];
    if (machine) substitutions[name] = stateMachineArn(kebabCase(machine));
  }

  const lambdas: Record<string, TaskHandler> = {};
  for (const [step, handler] of Object.entries(input.steps)) {
    const fn = stepFunctionName(step);
    // See StepLambda: the event is the state's input, as in AWS.
    const call = handler as (event: JsonValue, context: Context) => unknown;
    lambdas[fn] = (event) => call(event, lambdaContext(fn, { timeoutMs: 900_000, region: REGION, accountId: ACCOUNT }));
  }

  const machines = Object.fromEntries(WORKFLOW_IDS.filter((w) => files.includes(`${w}.asl.json`)).map((w) => [w, join(dir, `${w}.asl.json`)]));
  return new LocalWorkflowStarter({
    machines,
    substitutions,
    lambdas,
    timeFactor: input.timeFactor,
    region: REGION,
    accountId: ACCOUNT,
    // Until every step of a workflow has a handler, its starts are held (clusters stay Requested).
    whenUnbound: 'hold',
    ...(input.onTransition === undefined ? {} : { onTransition: input.onTransition }),
  });
}

const stepFunctionName = (step: string): string => `slipway-step-${step}`;

/** The simulator's release repository, with its self-signed CA when it serves HTTPS. */
function simulatorReleases(simulator: Simulator): { repository: string; ca?: string } {
  const caData = simulator.server.caData;
  return { repository: simulator.releasesUrl, ...(caData === undefined ? {} : { ca: Buffer.from(caData, 'base64').toString('utf8') }) };
}

/**
 * After a restart the in-memory executions are gone, but the clusters still say which operation is in
 * flight: start it again under the same name (steps are idempotent, so it picks up where it was).
 */
async function resumeInFlight(stores: Stores, workflows: LocalWorkflowStarter): Promise<{ resumed: string[]; notResumed: string[] }> {
  const active = await listAll((page) => stores.clusters.listActive(page));
  const resumed: string[] = [];
  const notResumed: string[] = [];
  for (const ref of active) {
    const cluster = await stores.clusters.get(ref.workspaceId, ref.name);
    if (!cluster?.operation) continue;
    const what = `${cluster.workspaceId}/${cluster.name} (${cluster.operation}, generation ${cluster.generation})`;
    try {
      await workflows.start(clusterWorkflowRequest(cluster, cluster.operation));
      resumed.push(what);
    } catch (err) {
      // One cluster that cannot resume must not keep the API from starting: report it.
      notResumed.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { resumed, notResumed };
}
