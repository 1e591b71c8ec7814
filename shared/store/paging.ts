import type { Page, PageRequest } from './ports.ts';

/** Follows nextToken to the end. For small admin collections only (never on a per-request hot path). */
export async function listAll<T>(fetch: (page: PageRequest) => Promise<Page<T>>, max = 10_000): Promise<T[]> {
  const out: T[] = [];
  let nextToken: string | undefined;
  do {
    const page = await fetch(nextToken === undefined ? { limit: 100 } : { limit: 100, nextToken });
    out.push(...page.items);
    nextToken = page.nextToken ?? undefined;
  } while (nextToken !== undefined && out.length < max);
  return out;
}
