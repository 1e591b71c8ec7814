/**
 * `npm run vend -- --account-id 123456789012 --name foo --ou Sandbox [--email E] [--tag KEY=VALUE]...`:
 * vends an account on the running local runtime — puts a Control Tower `CreateManagedAccount` event (or,
 * with --email/--tag, which Control Tower never sends, a generic `Account Vended` event) on its bus through
 * the admin-only `POST /local/events`. The onboarding rules decide the rest; follow it with
 * `GET /v1/accounts/<id>`.
 *
 * Runtime and token: --url (default $SLIPWAY, else http://127.0.0.1:8080) and --token (default $ADMIN_TOKEN,
 * else an admin token minted from the local issuer of SLIPWAY_DATA_DIR, like `npm run token`).
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalIssuer } from '../local/issuer.ts';
import { ACCOUNT_VENDED, controlTowerAccountEvent, genericAccountVended } from '../local/vending.ts';

const USAGE =
  'usage: npm run vend -- --account-id ID --name NAME --ou OU [--ou-id ou-xxxx-xxxxxxxx] [--email EMAIL] [--tag KEY=VALUE]... [--state FAILED] [--url URL] [--token TOKEN]';

/** The generic event's source: any vending machine's own name (never `aws.*`). */
const GENERIC_SOURCE = 'slipway.local.vend';

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    options: {
      'account-id': { type: 'string' },
      name: { type: 'string' },
      ou: { type: 'string' },
      'ou-id': { type: 'string' },
      email: { type: 'string' },
      tag: { type: 'string', multiple: true },
      state: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }).values;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The `POST /local/events` body for the arguments. */
function vendRequestBody(values: ReturnType<typeof parse>): Record<string, unknown> {
  const accountId = values['account-id'];
  const accountName = values.name;
  const ou = values.ou;
  if (!accountId || !/^\d{12}$/.test(accountId)) throw new UsageError('--account-id must be a 12-digit AWS account id');
  if (!accountName) throw new UsageError('--name is required');
  if (!ou) throw new UsageError('--ou is required');
  const tags: Record<string, string> = {};
  for (const t of values.tag ?? []) {
    const eq = t.indexOf('=');
    if (eq <= 0) throw new UsageError(`--tag takes KEY=VALUE, got "${t}"`);
    tags[t.slice(0, eq)] = t.slice(eq + 1);
  }
  const spec = { accountId, accountName, ou, ...(values['ou-id'] ? { ouId: values['ou-id'] } : {}) };
  if (values.email !== undefined || Object.keys(tags).length > 0) {
    if (values.state !== undefined) throw new UsageError('--state is a Control Tower field: it cannot go with --email/--tag');
    const detail = genericAccountVended({ ...spec, ...(values.email === undefined ? {} : { email: values.email }), ...(Object.keys(tags).length > 0 ? { tags } : {}) });
    return { source: GENERIC_SOURCE, 'detail-type': ACCOUNT_VENDED, detail };
  }
  return controlTowerAccountEvent({ ...spec, ...(values.state === undefined ? {} : { state: values.state }) });
}

async function adminToken(): Promise<string> {
  const issuer = await LocalIssuer.open(resolve(process.env.SLIPWAY_DATA_DIR || '.slipway'));
  return issuer.issue({ sub: 'admin', groups: [process.env.SLIPWAY_ADMIN_GROUP || 'slipway-admins'] });
}

async function main(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>;
  let body: Record<string, unknown>;
  try {
    values = parse(argv);
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    body = vendRequestBody(values);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    return 2;
  }
  const url = (values.url ?? process.env.SLIPWAY ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const token = values.token ?? process.env.ADMIN_TOKEN ?? (await adminToken());
  let res: Response;
  try {
    res = await fetch(`${url}/local/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (err) {
    process.stderr.write(`cannot reach the local runtime at ${url} (is \`npm start\` running?): ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  const text = await res.text();
  if (res.status !== 202) {
    process.stderr.write(`POST ${url}/local/events answered ${res.status}: ${text}\n`);
    return 1;
  }
  const kind = body.source === GENERIC_SOURCE ? 'Account Vended' : 'Control Tower CreateManagedAccount';
  process.stdout.write(`${kind} event for ${values['account-id']} put on the local bus: ${text}\n`);
  process.stdout.write(`follow it: curl -s -H "Authorization: Bearer $ADMIN_TOKEN" ${url}/v1/accounts/${values['account-id']}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`vend: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
