/**
 * `npx tsx bench/cpuprofile.ts <file.cpuprofile> [top]`: self time of a `node --cpu-prof` profile summed by
 * function (name + file:line) and by file / package, largest first.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: cpuprofile.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 40);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 14).split('/');
    return `npm:${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const at = url.indexOf('/work/');
  return url === '' ? '(native)' : url.startsWith('node:') ? url : at >= 0 ? url.replace(/^.*?\/work\/[^/]+\//, '') : url;
}
function fileOf(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return `${shortUrl(url)}/${url.slice(nm + 14).split('/').slice(url.slice(nm + 14).startsWith('@') ? 2 : 1).join('/')}`;
  return shortUrl(url);
}

const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
const byPackage = new Map<string, number>();
let total = 0;
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  if (!n) continue;
  total += us;
  const { functionName, url, lineNumber } = n.callFrame;
  const fn = `${functionName || '(anonymous)'}  ${fileOf(url)}:${lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  byFile.set(fileOf(url), (byFile.get(fileOf(url)) ?? 0) + us);
  byPackage.set(shortUrl(url).split('/')[0] ?? '', (byPackage.get(shortUrl(url).split('/')[0] ?? '') ?? 0) + us);
}
const print = (title: string, m: Map<string, number>, n: number) => {
  console.log(`\n## ${title}`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    console.log(`${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`);
  }
};
console.log(`total sampled ${(total / 1e6).toFixed(1)} s over ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s wall`);
print('self time by package / top directory', byPackage, 20);
print('self time by file', byFile, top);
print('self time by function', byFunction, top);
