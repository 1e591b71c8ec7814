/**
 * Monthly cost estimate of a cluster from a price catalog (instance type × region → USD/hour).
 *
 * The shipped catalog (`price-catalog.json`) holds approximate AWS on-demand list prices: a us-east-1 base
 * table and per-region multipliers, expanded here into one price per region and instance type. Admins'
 * overrides win over the shipped data. Pure functions: no I/O beyond the JSON import.
 */
import * as z from 'zod';
import type { CostEstimate } from '../domain/schemas.ts';
import { AwsRegion, InstanceType } from '../domain/schemas.ts';
import { type FieldError, SlipwayError, ValidationError } from '../errors.ts';
import shippedData from './price-catalog.json' with { type: 'json' };

/** AWS's own convention for a month of instance-hours (8760 h / 12). */
export const HOURS_PER_MONTH = 730;

/** An admin's price for one instance type in one region; takes precedence over the shipped catalog. */
export const PriceOverride = z
  .strictObject({
    instanceType: InstanceType,
    region: AwsRegion,
    usdPerHour: z.number().positive().max(10_000),
  })
  .meta({ id: 'PriceOverride' });
export type PriceOverride = z.infer<typeof PriceOverride>;

/** Resolved prices: one on-demand USD/hour per region and instance type. */
export interface PriceCatalog {
  readonly source: string;
  readonly asOf: string;
  readonly currency: 'USD';
  /** Spot price = on-demand × spotFactor (an estimate; real spot prices move). */
  readonly spotFactor: number;
  /** region → instance type → on-demand USD/hour. Maps, so no prototype key can ever look like a price. */
  readonly onDemand: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

export interface CostInput {
  region: string;
  controlPlane: { replicas: number; instanceType: string };
  nodePools: ReadonlyArray<{ name: string; instanceType: string; desired: number; capacityType: 'on-demand' | 'spot' }>;
}

/** What a price lookup could not find, with the request field that asked for it. */
export interface MissingPrice {
  /** Path into the request, e.g. `region`, `controlPlane.instanceType`, `nodePools[1].instanceType`. */
  field: string;
  region: string;
  /** Absent when the whole region is unknown. */
  instanceType?: string;
}

/**
 * No price for a region or instance type. A 422 (the request is well-formed but cannot be costed, so it
 * cannot be checked against cost limits); `errors` carries one field error per missing price.
 */
export class PriceNotFoundError extends SlipwayError {
  override readonly name = 'PriceNotFoundError';
  readonly status = 422;
  readonly problemType = 'price-not-found';
  readonly title = 'No price for the requested configuration';
  readonly missing: readonly MissingPrice[];

  constructor(missing: readonly MissingPrice[]) {
    const errors: FieldError[] = missing.map((m) => ({
      field: m.field,
      code: m.instanceType === undefined ? 'price.region_unknown' : 'price.instance_type_unknown',
      message:
        m.instanceType === undefined
          ? `no prices are known for region ${m.region}`
          : `no price is known for instance type ${m.instanceType} in region ${m.region}`,
    }));
    super(errors.map((e) => e.message).join('; '), { errors });
    this.missing = missing;
  }
}

const CatalogData = z.object({
  source: z.string().min(1),
  asOf: z.string().min(1),
  currency: z.literal('USD'),
  spot: z.object({ factor: z.number().gt(0).lte(1) }),
  baseRegion: AwsRegion,
  regionMultipliers: z.record(AwsRegion, z.number().positive()),
  basePrices: z.record(InstanceType, z.number().positive()),
});

// Parsed once per process: a broken data file fails at cold start, not on the first cost request.
const shipped: PriceCatalog = expand(CatalogData.parse(shippedData));

/**
 * The shipped catalog with the admins' overrides applied (last override of a pair wins). An override may
 * also add a region or an instance type the shipped data lacks.
 */
export function loadPriceCatalog(overrides: readonly PriceOverride[] = []): PriceCatalog {
  if (overrides.length === 0) return shipped;
  const parsed = z.array(PriceOverride).safeParse(overrides);
  if (!parsed.success) {
    throw new ValidationError('invalid price overrides', {
      errors: parsed.error.issues.map((i) => ({ field: `overrides${formatPath(i.path)}`, message: i.message })),
    });
  }
  const onDemand = new Map<string, Map<string, number>>();
  for (const [region, prices] of shipped.onDemand) onDemand.set(region, new Map(prices));
  for (const o of parsed.data) {
    let prices = onDemand.get(o.region);
    if (prices === undefined) {
      prices = new Map();
      onDemand.set(o.region, prices);
    }
    prices.set(o.instanceType, o.usdPerHour);
  }
  return { ...shipped, onDemand };
}

/** On-demand USD/hour, or undefined when the catalog does not know the pair. */
export function onDemandPrice(catalog: PriceCatalog, instanceType: string, region: string): number | undefined {
  return catalog.onDemand.get(region)?.get(instanceType);
}

/**
 * Monthly estimate (730 h) of the control plane and every node pool at its desired size. Spot pools are
 * priced at on-demand × spotFactor. Hourly prices keep 6 decimals; each line's monthly amount is rounded to
 * cents and the total is the sum of the lines, so the breakdown always adds up. Every missing price is
 * reported at once in one PriceNotFoundError.
 */
export function estimateCost(input: CostInput, catalog: PriceCatalog = shipped): CostEstimate {
  const regionPrices = catalog.onDemand.get(input.region);
  const missing: MissingPrice[] = [];
  if (regionPrices === undefined) missing.push({ field: 'region', region: input.region });

  const price = (field: string, instanceType: string): number => {
    if (regionPrices === undefined) {
      // The region is reported already; a type is worth reporting too only when no region knows it.
      const anywhere = [...catalog.onDemand.values()].some((prices) => prices.has(instanceType));
      if (!anywhere) missing.push({ field, region: input.region, instanceType });
      return 0;
    }
    const p = regionPrices.get(instanceType);
    if (p === undefined) missing.push({ field, region: input.region, instanceType });
    return p ?? 0;
  };

  const lines: CostEstimate['breakdown'] = [];
  const cpHourly = price('controlPlane.instanceType', input.controlPlane.instanceType);
  lines.push(line('control-plane', 'control-plane', input.controlPlane.instanceType, input.controlPlane.replicas, cpHourly));
  input.nodePools.forEach((pool, i) => {
    const onDemand = price(`nodePools[${i}].instanceType`, pool.instanceType);
    const hourly = pool.capacityType === 'spot' ? onDemand * catalog.spotFactor : onDemand;
    lines.push(line('node-pool', pool.name, pool.instanceType, pool.desired, hourly));
  });
  if (missing.length > 0) throw new PriceNotFoundError(missing);

  const totalCents = lines.reduce((sum, l) => sum + toCents(l.monthlyUsd), 0);
  return {
    monthlyUsd: totalCents / 100,
    currency: 'USD',
    hoursPerMonth: HOURS_PER_MONTH,
    region: input.region,
    breakdown: lines,
  };
}

function line(
  component: 'control-plane' | 'node-pool',
  name: string,
  instanceType: string,
  count: number,
  hourly: number,
): CostEstimate['breakdown'][number] {
  const hourlyUsdEach = roundTo(hourly, 6);
  // Monthly from the displayed hourly price, so a reader can redo the arithmetic from the breakdown.
  return { component, name, instanceType, count, hourlyUsdEach, monthlyUsd: toCents(count * hourlyUsdEach * HOURS_PER_MONTH) / 100 };
}

function toCents(usd: number): number {
  // toPrecision strips binary noise (0.096 × 730 × 100 = 7008.000000000001) before rounding half up.
  return Math.round(Number((usd * 100).toPrecision(12)));
}

function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(Number((value * f).toPrecision(12))) / f;
}

function expand(data: z.infer<typeof CatalogData>): PriceCatalog {
  const onDemand = new Map<string, Map<string, number>>();
  for (const [region, multiplier] of Object.entries(data.regionMultipliers)) {
    const prices = new Map<string, number>();
    for (const [type, base] of Object.entries(data.basePrices)) {
      // The base region keeps its list prices exactly; others are approximations rounded like AWS lists them.
      prices.set(type, region === data.baseRegion ? base : roundTo(base * multiplier, 4));
    }
    onDemand.set(region, prices);
  }
  return { source: data.source, asOf: data.asOf, currency: 'USD', spotFactor: data.spot.factor, onDemand };
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}
