/**
 * `npm run token -- --sub NAME [--group G]... [--email E] [--ttl SECONDS]`: prints a token from the local
 * issuer of SLIPWAY_DATA_DIR (default `.slipway/`), for any principal. Creates the key if missing, so it
 * also works before the first `npm start`.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalIssuer } from '../local/issuer.ts';

const USAGE = 'usage: npm run token -- --sub NAME [--group GROUP]... [--email EMAIL] [--ttl SECONDS]';

const parse = () =>
  parseArgs({
    options: {
      sub: { type: 'string' },
      group: { type: 'string', multiple: true },
      email: { type: 'string' },
      ttl: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }).values;

async function main(): Promise<number> {
  let values: ReturnType<typeof parse>;
  try {
    values = parse();
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.sub) {
    process.stderr.write(`--sub is required\n${USAGE}\n`);
    return 2;
  }
  let ttlSeconds: number | undefined;
  if (values.ttl !== undefined) {
    ttlSeconds = Number(values.ttl);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
      process.stderr.write(`--ttl must be a positive number of seconds, got "${values.ttl}"\n`);
      return 2;
    }
  }
  const dataDir = resolve(process.env.SLIPWAY_DATA_DIR ?? '.slipway');
  const issuer = await LocalIssuer.open(dataDir);
  const token = await issuer.issue({
    sub: values.sub,
    groups: values.group ?? [],
    ...(values.email === undefined ? {} : { email: values.email }),
    ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
  });
  process.stdout.write(`${token}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`token: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
