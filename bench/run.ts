/**
 * `npm run bench [-- api sim workflows bundles]`: runs the benchmarks (all by default), prints them and
 * writes docs/benchmarks.md. Every figure is a ratio against a baseline measured in the same run, so the
 * numbers mean something on any machine; nothing here is a pass/fail assertion.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { type ApiBenchFigures, runApiBench } from './api.ts';
import { type BundleSizes, measureBundles } from './bundles.ts';
import { formatSimBench, runSimBench, type SimBenchFigures } from './sim.ts';
import { runWorkflowBench, type WorkflowBenchFigures } from './workflows.ts';

const ALL = ['api', 'workflows', 'sim', 'bundles'] as const;
type Bench = (typeof ALL)[number];

async function main(): Promise<void> {
  const asked = process.argv.slice(2).filter((a): a is Bench => (ALL as readonly string[]).includes(a));
  const run = new Set<Bench>(asked.length > 0 ? asked : ALL);
  const sections: string[] = [];
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

  if (run.has('api')) {
    log('API latency…');
    sections.push(formatApi(await runApiBench()));
  }
  if (run.has('workflows')) {
    log('50 clusters at once on the fast profile…');
    const fast = await runWorkflowBench({ clusters: 50, profile: 'fast' });
    log('one cluster on the realistic profile (about a minute and a half)…');
    const realistic = await runWorkflowBench({ clusters: 1, profile: 'realistic' });
    sections.push(formatWorkflows([fast, realistic]));
  }
  if (run.has('sim')) {
    log('simulator: 200 virtual clusters, 2,000 machines…');
    sections.push(formatSim(await runSimBench({ log })));
  }
  if (run.has('bundles')) {
    log('Lambda bundles…');
    sections.push(formatBundles(await measureBundles()));
  }

  const header = [
    '# Benchmarks',
    '',
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
    'Each figure stands next to a baseline measured in the same run; the ratios are what to compare across machines.',
    '',
  ];
  const doc = `${[...header, ...sections].join('\n')}\n`;
  if (run.size === ALL.length) writeFileSync(new URL('../docs/benchmarks.md', import.meta.url), doc);
  console.log(doc);
}

function formatApi(f: ApiBenchFigures): string {
  const row = (what: string, l: { p50Ms: number; p99Ms: number; samples: number }) => `| ${what} | ${l.p50Ms} | ${l.p99Ms} | ${l.samples} |`;
  return [
    '## API latency (local HTTP server, concurrency 16)',
    '',
    'The real handlers behind the local API Gateway adapter (JWT verification included) on DynamoDB Local; the floor is a raw',
    'consistent GetItem of the same cluster item against the same DynamoDB Local, measured in the same run.',
    '',
    '| request | p50 ms | p99 ms | samples |',
    '|---|---|---|---|',
    row('POST …/clusters?dryRun=true', f.dryRun),
    row('GET …/clusters/{name}', f.getCluster),
    row('floor: DynamoDB Local GetItem', f.getItemFloor),
    '',
    `Ratios to the floor: dry run p50 ×${f.dryRunOverFloorP50}; GET cluster p50 ×${f.getClusterOverFloorP50}, p99 ×${f.getClusterOverFloorP99}.`,
    '',
  ].join('\n');
}

function formatWorkflows(figures: WorkflowBenchFigures[]): string {
  const lines = [
    '## Provisioning on the simulator',
    '',
    'Clusters requested at once through the API on the seeded demo plan (3 control-plane machines, 2 workers, one Helm add-on),',
    'followed to Ready. The critical path is what the simulated infrastructure cannot do faster (bench/workflows.ts, criticalPathMs);',
    'the fast profile also runs every Wait and retry at 1 % of real time, the realistic one at real time.',
    '',
    '| profile | clusters | Ready | critical path ms | time-to-Ready p50 ms | max ms | p50 ÷ critical path | transitions / cluster | step invocations / cluster | k8s requests / cluster (mgmt + workload) | duplicated / leaked instances |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const f of figures) {
    lines.push(
      `| ${f.profile} | ${f.clusters} | ${f.ready} | ${f.criticalPathMs} | ${f.timeToReadyP50Ms} | ${f.timeToReadyMaxMs} | ${f.ratioP50} | ${f.transitionsPerCluster} | ${f.taskInvocationsPerCluster} | ${f.managementRequestsPerCluster} + ${f.workloadRequestsPerCluster} | ${f.duplicatedInstances} / ${f.leakedInstances} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}

function formatSim(f: SimBenchFigures): string {
  return ['## CAPI simulator', '', '```', formatSimBench(f), '```', ''].join('\n');
}

function formatBundles(b: BundleSizes): string {
  const lines = ['## Lambda bundles (minified ESM, esbuild as the stack builds them)', '', '| function | KB | map KB |', '|---|---|---|'];
  for (const [name, s] of Object.entries(b.api)) lines.push(`| api/${name} | ${s.kb} | ${s.mapKb} |`);
  for (const [name, s] of Object.entries(b.steps)) lines.push(`| steps/${name} | ${s.kb} | ${s.mapKb} |`);
  lines.push('', `Totals: API ${b.totals.apiKb} KB, steps ${b.totals.stepsKb} KB (one esbuild pass: ${b.buildMs} ms).`, '');
  return lines.join('\n');
}

main().catch((err: unknown) => {
  console.error('bench failed:', err);
  process.exit(1);
});
