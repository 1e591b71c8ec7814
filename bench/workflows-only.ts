/**
 * `npx tsx bench/workflows-only.ts [clusters] [profile]`: only the provisioning benchmark (default 50 clusters,
 * fast profile), printed as JSON. Handy under `node --cpu-prof --import tsx bench/workflows-only.ts 20` with
 * bench/cpuprofile.ts to see where the CPU goes.
 */
import type { ProfileName } from '../local/sim/index.ts';
import { runWorkflowBench } from './workflows.ts';

const clusters = Number(process.argv[2] ?? 50);
const profile = (process.argv[3] ?? 'fast') as ProfileName;
const cpu = process.cpuUsage();
const figures = await runWorkflowBench({ clusters, profile });
const used = process.cpuUsage(cpu);
// This process's CPU (DynamoDB Local, a child JVM, not included): steadier than wall time on a shared machine.
console.log(JSON.stringify({ ...figures, processCpuMs: Math.round((used.user + used.system) / 1000) }, null, 2));
