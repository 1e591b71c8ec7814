import { describe, expect, it } from 'vitest';
import { CostEstimate } from '../../shared/domain/schemas.ts';
import { ValidationError } from '../../shared/errors.ts';
import { type CostInput, estimateCost, HOURS_PER_MONTH, loadPriceCatalog, onDemandPrice, PriceNotFoundError } from '../../shared/policy/cost.ts';

function anInput(overrides: Partial<CostInput> = {}): CostInput {
  return {
    region: 'us-east-1',
    controlPlane: { replicas: 3, instanceType: 'm6i.large' },
    nodePools: [{ name: 'workers', instanceType: 'm6i.large', desired: 3, capacityType: 'on-demand' }],
    ...overrides,
  };
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected the call to throw');
}

describe('estimateCost', () => {
  it('prices the control plane and every pool for 730 hours, with a breakdown that adds up', () => {
    // Prepare: m6i.large is $0.096/h in us-east-1 (AWS list price).
    const input = anInput();
    // Act
    const estimate = estimateCost(input);
    // Assess: 3 × 0.096 × 730 = 210.24 per component.
    expect(estimate).toEqual({
      monthlyUsd: 420.48,
      currency: 'USD',
      hoursPerMonth: 730,
      region: 'us-east-1',
      breakdown: [
        { component: 'control-plane', name: 'control-plane', instanceType: 'm6i.large', count: 3, hourlyUsdEach: 0.096, monthlyUsd: 210.24 },
        { component: 'node-pool', name: 'workers', instanceType: 'm6i.large', count: 3, hourlyUsdEach: 0.096, monthlyUsd: 210.24 },
      ],
    });
    expect(HOURS_PER_MONTH).toBe(730);
    expect(CostEstimate.safeParse(estimate).success).toBe(true);
  });

  it('includes the control plane even without node pools', () => {
    const estimate = estimateCost(anInput({ controlPlane: { replicas: 1, instanceType: 'm6i.xlarge' }, nodePools: [] }));

    expect(estimate.monthlyUsd).toBe(140.16); // 0.192 × 730
    expect(estimate.breakdown).toHaveLength(1);
  });

  it('uses the region price (eu-west-1 is dearer than us-east-1)', () => {
    const us = estimateCost(anInput());
    const eu = estimateCost(anInput({ region: 'eu-west-1' }));

    expect(eu.breakdown[0]?.hourlyUsdEach).toBe(0.107);
    expect(eu.monthlyUsd).toBe(468.66); // 2 × 3 × 0.107 × 730
    expect(eu.monthlyUsd).toBeGreaterThan(us.monthlyUsd);
    expect(eu.region).toBe('eu-west-1');
  });

  it('prices spot pools at the catalog spot factor of on-demand, and the control plane always on-demand', () => {
    const catalog = loadPriceCatalog();
    const input = anInput({
      nodePools: [
        { name: 'steady', instanceType: 'm6g.xlarge', desired: 2, capacityType: 'on-demand' },
        { name: 'burst', instanceType: 'm6g.xlarge', desired: 2, capacityType: 'spot' },
      ],
    });

    const estimate = estimateCost(input, catalog);

    expect(catalog.spotFactor).toBe(0.35);
    const [cp, steady, burst] = estimate.breakdown;
    expect(cp?.hourlyUsdEach).toBe(0.096);
    expect(steady?.hourlyUsdEach).toBe(0.154);
    expect(burst?.hourlyUsdEach).toBe(0.0539); // 0.154 × 0.35
    expect(burst?.monthlyUsd).toBe(78.69); // 2 × 0.0539 × 730 = 78.694
    expect(estimate.monthlyUsd).toBe(210.24 + 224.84 + 78.69);
  });

  it('rounds each line to cents (half up, immune to binary noise) and totals the rounded lines', () => {
    // Prepare: 0.0045 × 730 = 3.285 exactly, but 0.0045 × 730 × 100 is 328.49999999999994 in doubles.
    const catalog = loadPriceCatalog([
      { instanceType: 't3.nano', region: 'us-east-1', usdPerHour: 0.0045 },
      { instanceType: 't3.micro', region: 'us-east-1', usdPerHour: 0.0104 },
    ]);
    const input = anInput({
      controlPlane: { replicas: 1, instanceType: 't3.nano' },
      nodePools: [{ name: 'tiny', instanceType: 't3.micro', desired: 3, capacityType: 'spot' }],
    });

    // Act
    const estimate = estimateCost(input, catalog);

    // Assess: spot 0.0104 × 0.35 = 0.00364/h; 3 × 0.00364 × 730 = 7.9716 → 7.97.
    expect(0.0045 * 730 * 100).toBeLessThan(328.5);
    expect(estimate.breakdown.map((l) => l.monthlyUsd)).toEqual([3.29, 7.97]);
    expect(estimate.breakdown[1]?.hourlyUsdEach).toBe(0.00364);
    expect(estimate.monthlyUsd).toBe(11.26);
  });

  it('totals many lines exactly in cents', () => {
    const pools = Array.from({ length: 20 }, (_, i) => ({ name: `p${i}`, instanceType: 't3.medium', desired: 1, capacityType: 'spot' as const }));

    const estimate = estimateCost(anInput({ nodePools: pools }));

    // 0.0416 × 0.35 = 0.01456/h → 10.6288 → 10.63 per pool; 20 pools + control plane 210.24.
    expect(estimate.breakdown[1]?.monthlyUsd).toBe(10.63);
    expect(estimate.monthlyUsd).toBe(422.84);
  });

  it('keeps a pool at desired 0 as a zero line', () => {
    const estimate = estimateCost(anInput({ nodePools: [{ name: 'idle', instanceType: 'r6i.2xlarge', desired: 0, capacityType: 'on-demand' }] }));

    expect(estimate.breakdown[1]).toEqual({ component: 'node-pool', name: 'idle', instanceType: 'r6i.2xlarge', count: 0, hourlyUsdEach: 0.504, monthlyUsd: 0 });
    expect(estimate.monthlyUsd).toBe(210.24);
  });
});

describe('price overrides', () => {
  it('an override wins over the shipped price for that type and region only', () => {
    // Prepare
    const catalog = loadPriceCatalog([{ instanceType: 'm6i.large', region: 'eu-west-1', usdPerHour: 0.08 }]);
    // Act
    const overridden = estimateCost(anInput({ region: 'eu-west-1' }), catalog);
    const untouched = estimateCost(anInput({ region: 'eu-central-1' }), catalog);
    // Assess
    expect(overridden.breakdown[0]?.hourlyUsdEach).toBe(0.08);
    expect(overridden.monthlyUsd).toBe(350.4); // 6 × 0.08 × 730
    expect(untouched.breakdown[0]?.hourlyUsdEach).toBe(onDemandPrice(loadPriceCatalog(), 'm6i.large', 'eu-central-1'));
  });

  it('does not change the shipped catalog', () => {
    loadPriceCatalog([{ instanceType: 'm6i.large', region: 'us-east-1', usdPerHour: 9 }]);

    expect(onDemandPrice(loadPriceCatalog(), 'm6i.large', 'us-east-1')).toBe(0.096);
  });

  it('can add an instance type and a region the shipped data lacks; the last override of a pair wins', () => {
    const catalog = loadPriceCatalog([
      { instanceType: 'x2idn.16xlarge', region: 'il-central-1', usdPerHour: 7 },
      { instanceType: 'x2idn.16xlarge', region: 'il-central-1', usdPerHour: 6.669 },
    ]);

    const estimate = estimateCost(
      { region: 'il-central-1', controlPlane: { replicas: 1, instanceType: 'x2idn.16xlarge' }, nodePools: [] },
      catalog,
    );

    expect(estimate.breakdown[0]?.hourlyUsdEach).toBe(6.669);
    expect(estimate.monthlyUsd).toBe(4868.37); // 6.669 × 730 = 4868.37
  });

  it('rejects invalid overrides with field errors', () => {
    const error = catchError(() =>
      loadPriceCatalog([
        { instanceType: 'm6i.large', region: 'us-east-1', usdPerHour: 0.1 },
        { instanceType: 'm6i.large', region: 'us-east-1', usdPerHour: -1 },
      ]),
    );

    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors.map((e) => e.field)).toEqual(['overrides[1].usdPerHour']);
  });
});

describe('missing prices', () => {
  it('an unknown region throws PriceNotFoundError naming the region field', () => {
    const error = catchError(() => estimateCost(anInput({ region: 'af-south-1' })));

    expect(error).toBeInstanceOf(PriceNotFoundError);
    const e = error as PriceNotFoundError;
    expect(e.name).toBe('PriceNotFoundError');
    expect(e.status).toBe(422);
    expect(e.missing).toEqual([{ field: 'region', region: 'af-south-1' }]);
    expect(e.errors).toEqual([{ field: 'region', code: 'price.region_unknown', message: 'no prices are known for region af-south-1' }]);
  });

  it('reports every unknown instance type at once, each with its request field', () => {
    const input = anInput({
      controlPlane: { replicas: 3, instanceType: 'z9.large' },
      nodePools: [
        { name: 'workers', instanceType: 'm6i.large', desired: 3, capacityType: 'on-demand' },
        { name: 'gpu', instanceType: 'p5.48xlarge', desired: 1, capacityType: 'on-demand' },
      ],
    });

    const error = catchError(() => estimateCost(input));

    expect(error).toBeInstanceOf(PriceNotFoundError);
    expect((error as PriceNotFoundError).errors).toEqual([
      { field: 'controlPlane.instanceType', code: 'price.instance_type_unknown', message: 'no price is known for instance type z9.large in region us-east-1' },
      { field: 'nodePools[1].instanceType', code: 'price.instance_type_unknown', message: 'no price is known for instance type p5.48xlarge in region us-east-1' },
    ]);
  });

  it('with an unknown region, also names types that no region knows (and only those)', () => {
    const input = anInput({ region: 'af-south-1', controlPlane: { replicas: 1, instanceType: 'z9.large' } });

    const error = catchError(() => estimateCost(input));

    expect((error as PriceNotFoundError).missing).toEqual([
      { field: 'region', region: 'af-south-1' },
      { field: 'controlPlane.instanceType', region: 'af-south-1', instanceType: 'z9.large' },
    ]);
  });

  it('an instance type priced only in another region (an override) is missing in this one', () => {
    const catalog = loadPriceCatalog([{ instanceType: 'u7i.large', region: 'us-east-1', usdPerHour: 1 }]);
    const input = anInput({ region: 'eu-west-1', controlPlane: { replicas: 1, instanceType: 'u7i.large' }, nodePools: [] });

    const error = catchError(() => estimateCost(input, catalog));

    expect((error as PriceNotFoundError).missing).toEqual([{ field: 'controlPlane.instanceType', region: 'eu-west-1', instanceType: 'u7i.large' }]);
  });
});
