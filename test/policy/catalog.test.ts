import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InstanceType } from '../../shared/domain/schemas.ts';
import { loadPriceCatalog, onDemandPrice } from '../../shared/policy/cost.ts';

const catalog = loadPriceCatalog();
const regions = [...catalog.onDemand.keys()];
const raw = JSON.parse(readFileSync(new URL('../../shared/policy/price-catalog.json', import.meta.url), 'utf8')) as { source: string; asOf: string; spot: { note: string } };

const standardSizes = ['large', 'xlarge', '2xlarge', '4xlarge'];
const requiredFamilies = ['m5', 'm6i', 'm6a', 'm6g', 'm7i', 'm7g', 'c5', 'c6i', 'c6g', 'c7i', 'c7g', 'r5', 'r6i', 'r6g', 'r7i'];
const requiredTypes = [...requiredFamilies.flatMap((f) => standardSizes.map((s) => `${f}.${s}`)), 't3.medium', 't3.large', 't3.xlarge'];

describe('shipped price catalog', () => {
  it('says where its prices come from and that they are approximate estimates', () => {
    expect(catalog.source).toMatch(/approximate/i);
    expect(catalog.asOf).toMatch(/^\d{4}-\d{2}/);
    expect(raw.source).toBe(catalog.source);
    expect(raw.spot.note).toMatch(/estimate/i);
    expect(catalog.currency).toBe('USD');
    expect(catalog.spotFactor).toBeGreaterThan(0);
    expect(catalog.spotFactor).toBeLessThan(1);
  });

  it('covers at least 6 regions on three continents, including the common ones', () => {
    expect(regions.length).toBeGreaterThanOrEqual(6);
    expect(regions).toEqual(expect.arrayContaining(['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-1', 'ap-northeast-1']));
  });

  it('has every required general-purpose, compute and memory type', () => {
    const types = [...(catalog.onDemand.get('us-east-1')?.keys() ?? [])];

    expect(types).toEqual(expect.arrayContaining(requiredTypes));
    expect(types.every((t) => InstanceType.safeParse(t).success)).toBe(true);
  });

  it('prices every listed type in every listed region, each a positive finite number', () => {
    const base = [...(catalog.onDemand.get('us-east-1')?.keys() ?? [])];
    const gaps: string[] = [];
    for (const region of regions) {
      for (const type of base) {
        const price = onDemandPrice(catalog, type, region);
        if (price === undefined || !Number.isFinite(price) || price <= 0) gaps.push(`${type}@${region}=${price}`);
      }
      expect(catalog.onDemand.get(region)?.size).toBe(base.length);
    }

    expect(gaps).toEqual([]);
  });

  it('looks like real list prices: within sane bounds, sizes scale linearly, no region cheaper than us-east-1', () => {
    const problems: string[] = [];
    for (const region of regions) {
      for (const family of requiredFamilies) {
        const large = onDemandPrice(catalog, `${family}.large`, region) ?? Number.NaN;
        if (!(large > 0.05 && large < 0.3)) problems.push(`${family}.large@${region}=${large}`);
        for (const [i, size] of standardSizes.entries()) {
          const price = onDemandPrice(catalog, `${family}.${size}`, region) ?? Number.NaN;
          // Within a family each size doubles; allow for 4-decimal rounding of regional prices.
          if (Math.abs(price - large * 2 ** i) > 0.0005 * 2 ** i) problems.push(`${family}.${size}@${region}=${price}`);
          const usEast = onDemandPrice(catalog, `${family}.${size}`, 'us-east-1') ?? Number.NaN;
          if (price < usEast) problems.push(`${family}.${size}@${region} cheaper than us-east-1`);
        }
      }
    }

    expect(problems).toEqual([]);
    // Graviton (g) is cheaper than the Intel (i) sibling of the same generation, as on AWS's list.
    expect(onDemandPrice(catalog, 'm6g.large', 'us-east-1')).toBeLessThan(onDemandPrice(catalog, 'm6i.large', 'us-east-1') ?? 0);
    expect(onDemandPrice(catalog, 'm6i.large', 'us-east-1')).toBe(0.096);
  });
});
