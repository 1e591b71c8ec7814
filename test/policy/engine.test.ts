import { describe, expect, it } from 'vitest';
import { applicablePolicies, evaluate, quotaLimits, ViolationCodes } from '../../shared/policy/engine.ts';
import { aPolicy, aRequest, permissiveRules } from './fixtures.ts';

const codesOf = (r: ReturnType<typeof evaluate>) => r.violations.map((v) => v.code);

describe('evaluate: baseline', () => {
  it('allows a request that satisfies every rule of a fully populated policy', () => {
    // Prepare
    const policies = [aPolicy('guardrails', permissiveRules)];
    // Act
    const result = evaluate(aRequest(), policies);
    // Assess
    expect(result).toEqual({ allowed: true, violations: [] });
  });

  it('allows anything when there is no policy or a policy has no rules', () => {
    const request = aRequest({ region: 'sa-east-1', ttlHours: null, nodePools: [] });

    expect(evaluate(request, [])).toEqual({ allowed: true, violations: [] });
    expect(evaluate(request, [aPolicy('empty', {})])).toEqual({ allowed: true, violations: [] });
  });
});

describe('evaluate: each rule alone', () => {
  it('plan.not_allowed on plan.id', () => {
    const policies = [aPolicy('guardrails', { allowedPlans: ['standard', 'small'] })];

    const ok = evaluate(aRequest({ planId: 'small' }), policies);
    const bad = evaluate(aRequest({ planId: 'xl' }), policies);

    expect(ok.allowed).toBe(true);
    expect(bad.allowed).toBe(false);
    expect(bad.violations).toEqual([
      {
        code: 'plan.not_allowed',
        policyId: 'guardrails',
        field: 'plan.id',
        message: 'plan xl is not allowed by policy guardrails (allowed: standard, small)',
      },
    ]);
  });

  it('kubernetes_version.not_allowed on kubernetesVersion, with v-less and .x globs accepted', () => {
    const star = [aPolicy('p', { allowedKubernetesVersions: ['v1.31.*'] })];
    const xGlob = [aPolicy('p', { allowedKubernetesVersions: ['1.31.x'] })];
    const prefix = [aPolicy('p', { allowedKubernetesVersions: ['v1.31'] })];

    expect(evaluate(aRequest({ kubernetesVersion: 'v1.31.4' }), star).allowed).toBe(true);
    expect(evaluate(aRequest({ kubernetesVersion: 'v1.31.0' }), xGlob).allowed).toBe(true);
    expect(evaluate(aRequest({ kubernetesVersion: 'v1.31.9' }), prefix).allowed).toBe(true);
    const bad = evaluate(aRequest({ kubernetesVersion: 'v1.30.2' }), star);
    expect(bad.violations).toEqual([
      {
        code: 'kubernetes_version.not_allowed',
        policyId: 'p',
        field: 'kubernetesVersion',
        message: 'Kubernetes version v1.30.2 is not allowed by policy p (allowed: v1.31.*)',
      },
    ]);
  });

  it('region.not_allowed on region', () => {
    const policies = [aPolicy('eu-only', { allowedRegions: ['eu-west-1', 'eu-central-1'] })];

    const ok = evaluate(aRequest({ region: 'eu-central-1' }), policies);
    const bad = evaluate(aRequest({ region: 'us-east-1' }), policies);

    expect(ok.allowed).toBe(true);
    expect(bad.violations).toEqual([
      {
        code: 'region.not_allowed',
        policyId: 'eu-only',
        field: 'region',
        message: 'region us-east-1 is not allowed by policy eu-only (allowed: eu-west-1, eu-central-1)',
      },
    ]);
  });

  it('an explicitly empty allow-list allows nothing', () => {
    const policies = [aPolicy('frozen', { allowedRegions: [], allowedPlans: [], allowedInstanceTypes: [] })];

    const result = evaluate(aRequest(), policies);

    expect(codesOf(result)).toEqual(['plan.not_allowed', 'region.not_allowed', 'instance_type.not_allowed', 'instance_type.not_allowed']);
    expect(result.violations[1]?.message).toBe('region eu-west-1 is not allowed by policy frozen (allowed: none)');
  });

  it('instance_type.not_allowed for the control plane and for each offending pool, with its own field', () => {
    const policies = [aPolicy('guardrails', { allowedInstanceTypes: ['m6i.*'] })];
    const request = aRequest({
      controlPlane: { replicas: 3, instanceType: 'c7i.large' },
      nodePools: [
        { name: 'workers', instanceType: 'm6i.xlarge', desired: 2, max: 3, capacityType: 'on-demand' },
        { name: 'batch', instanceType: 'c7i.large', desired: 1, max: 2, capacityType: 'on-demand' },
      ],
    });

    const result = evaluate(request, policies);

    expect(result.violations).toEqual([
      {
        code: 'instance_type.not_allowed',
        policyId: 'guardrails',
        field: 'controlPlane.instanceType',
        message: 'instance type c7i.large (control plane) is not allowed by policy guardrails (allowed: m6i.*)',
      },
      {
        code: 'instance_type.not_allowed',
        policyId: 'guardrails',
        field: 'nodePools[1].instanceType',
        message: 'instance type c7i.large (node pool batch) is not allowed by policy guardrails (allowed: m6i.*)',
      },
    ]);
  });

  it('instance_type.denied when a denied glob matches, even if an allowed glob matches too', () => {
    const policies = [aPolicy('no-big', { allowedInstanceTypes: ['m6i.*'], deniedInstanceTypes: ['*.8xlarge', '*.?6xlarge'] })];
    const request = aRequest({
      nodePools: [
        { name: 'workers', instanceType: 'm6i.large', desired: 1, max: 1, capacityType: 'on-demand' },
        { name: 'huge', instanceType: 'm6i.16xlarge', desired: 1, max: 1, capacityType: 'on-demand' },
      ],
    });

    const result = evaluate(request, policies);

    expect(result.violations).toEqual([
      {
        code: 'instance_type.denied',
        policyId: 'no-big',
        field: 'nodePools[1].instanceType',
        message: 'instance type m6i.16xlarge (node pool huge) is denied by policy no-big (matches *.?6xlarge)',
      },
    ]);
  });

  it('reports both not_allowed and denied when a type misses the allow-list and hits the deny-list', () => {
    const policies = [aPolicy('p', { allowedInstanceTypes: ['m6i.*'], deniedInstanceTypes: ['t3.*'] })];
    const request = aRequest({ controlPlane: { replicas: 1, instanceType: 't3.large' } });

    const result = evaluate(request, policies);

    expect(result.violations.map((v) => [v.code, v.field])).toEqual([
      ['instance_type.not_allowed', 'controlPlane.instanceType'],
      ['instance_type.denied', 'controlPlane.instanceType'],
    ]);
  });

  it('spot.not_allowed for each spot pool only when allowSpot is false', () => {
    const pools = [
      { name: 'workers', instanceType: 'm6i.large', desired: 1, max: 2, capacityType: 'on-demand' as const },
      { name: 'cheap', instanceType: 'm6i.large', desired: 1, max: 2, capacityType: 'spot' as const },
    ];
    const request = aRequest({ nodePools: pools });

    const forbidden = evaluate(request, [aPolicy('p', { allowSpot: false })]);
    const allowed = evaluate(request, [aPolicy('p', { allowSpot: true })]);
    const silent = evaluate(request, [aPolicy('p', {})]);

    expect(forbidden.violations).toEqual([
      {
        code: 'spot.not_allowed',
        policyId: 'p',
        field: 'nodePools[1].capacityType',
        message: 'node pool cheap uses spot capacity, which policy p does not allow',
      },
    ]);
    expect(allowed.allowed).toBe(true);
    expect(silent.allowed).toBe(true);
  });

  describe('nodes.max_exceeded', () => {
    const policies = [aPolicy('p', { maxNodesPerCluster: 10 })];
    const pools = (desired: number, max: number) => [
      { name: 'a', instanceType: 'm6i.large', desired, max, capacityType: 'on-demand' as const },
      { name: 'b', instanceType: 'm6i.large', desired: 1, max: 1, capacityType: 'on-demand' as const },
    ];

    it('passes at exactly the cap, counting the control plane and every pool at max', () => {
      const result = evaluate(aRequest({ controlPlane: { replicas: 3, instanceType: 'm6i.large' }, nodePools: pools(2, 6) }), policies);

      expect(result.allowed).toBe(true);
    });

    it('fails when the desired size is over the cap', () => {
      const result = evaluate(aRequest({ controlPlane: { replicas: 3, instanceType: 'm6i.large' }, nodePools: pools(7, 7) }), policies);

      expect(result.violations).toEqual([
        {
          code: 'nodes.max_exceeded',
          policyId: 'p',
          field: 'nodePools',
          message: 'the cluster would run 11 nodes (3 control plane + 8 in node pools), more than the 10 allowed by policy p',
        },
      ]);
    });

    it('fails, once, when only autoscaling to max would go over the cap', () => {
      const result = evaluate(aRequest({ controlPlane: { replicas: 3, instanceType: 'm6i.large' }, nodePools: pools(2, 7) }), policies);

      expect(result.violations).toHaveLength(1);
      expect(result.violations[0]?.code).toBe('nodes.max_exceeded');
      expect(result.violations[0]?.message).toBe(
        'the node pools can autoscale to 8 nodes, so the cluster could reach 11 nodes (with 3 control plane), more than the 10 allowed by policy p',
      );
    });

    it('counts control-plane replicas alone when there are no pools', () => {
      const result = evaluate(aRequest({ controlPlane: { replicas: 5, instanceType: 'm6i.large' }, nodePools: [] }), [aPolicy('p', { maxNodesPerCluster: 3 })]);

      expect(codesOf(result)).toEqual(['nodes.max_exceeded']);
    });
  });

  describe('cost.cluster_max_exceeded', () => {
    const policies = [aPolicy('budget', { maxMonthlyCostPerClusterUsd: 500 })];

    it('passes at exactly the limit and fails a cent above it', () => {
      const atLimit = evaluate(aRequest({ costEstimate: { monthlyUsd: 500 } }), policies);
      const over = evaluate(aRequest({ costEstimate: { monthlyUsd: 500.01 } }), policies);

      expect(atLimit.allowed).toBe(true);
      expect(over.violations).toEqual([
        {
          code: 'cost.cluster_max_exceeded',
          policyId: 'budget',
          field: 'nodePools',
          message: 'the estimated cost of $500.01/month exceeds the per-cluster limit of $500.00/month set by policy budget',
        },
      ]);
    });

    it('does not block an update that lowers or keeps the cost of a cluster already over a tightened limit', () => {
      const scaleDown = aRequest({ isNewCluster: false, costEstimate: { monthlyUsd: 700 }, current: { monthlyUsd: 900 } });
      const scaleUp = aRequest({ isNewCluster: false, costEstimate: { monthlyUsd: 950 }, current: { monthlyUsd: 900 } });

      expect(evaluate(scaleDown, policies).allowed).toBe(true);
      expect(codesOf(evaluate(scaleUp, policies))).toEqual(['cost.cluster_max_exceeded']);
    });
  });

  describe('clusters.max_exceeded', () => {
    const policies = [aPolicy('quota', { maxClustersPerWorkspace: 3 })];

    it('counts this new cluster on top of the existing ones', () => {
      const lastSlot = evaluate(aRequest({ workspaceUsage: { clusters: 2, monthlyUsd: 0 } }), policies);
      const full = evaluate(aRequest({ workspaceUsage: { clusters: 3, monthlyUsd: 0 } }), policies);

      expect(lastSlot.allowed).toBe(true);
      expect(full.violations).toEqual([
        {
          code: 'clusters.max_exceeded',
          policyId: 'quota',
          field: 'name',
          message: 'workspace team-a already has 3 cluster(s); policy quota allows at most 3',
        },
      ]);
    });

    it('never fires for an update of an existing cluster', () => {
      const result = evaluate(aRequest({ isNewCluster: false, workspaceUsage: { clusters: 3, monthlyUsd: 0 } }), policies);

      expect(result.allowed).toBe(true);
    });

    it('a limit of 0 forbids every new cluster', () => {
      const result = evaluate(aRequest({ workspaceUsage: { clusters: 0, monthlyUsd: 0 } }), [aPolicy('closed', { maxClustersPerWorkspace: 0 })]);

      expect(codesOf(result)).toEqual(['clusters.max_exceeded']);
    });
  });

  describe('cost.workspace_max_exceeded', () => {
    const policies = [aPolicy('ws-budget', { maxMonthlyCostPerWorkspaceUsd: 5000 })];

    it('adds this cluster to the other clusters; a cent over the limit fails', () => {
      const atLimit = evaluate(aRequest({ workspaceUsage: { clusters: 1, monthlyUsd: 4530.61 }, costEstimate: { monthlyUsd: 469.39 } }), policies);
      const over = evaluate(aRequest({ workspaceUsage: { clusters: 1, monthlyUsd: 4530.62 }, costEstimate: { monthlyUsd: 469.39 } }), policies);

      expect(atLimit.allowed).toBe(true);
      expect(over.violations).toEqual([
        {
          code: 'cost.workspace_max_exceeded',
          policyId: 'ws-budget',
          field: 'nodePools',
          message:
            'workspace team-a would cost $5,000.01/month ($4,530.62 for its other clusters + $469.39 for this one), over the $5,000.00/month limit set by policy ws-budget',
        },
      ]);
    });

    it('sums in cents, so binary float drift never turns "exactly at the limit" into a violation', () => {
      // Prepare: 1299.94 + 200.11 is 1500.0500000000002 in IEEE 754 doubles.
      const policy = [aPolicy('ws-budget', { maxMonthlyCostPerWorkspaceUsd: 1500.05 })];
      const request = aRequest({ workspaceUsage: { clusters: 1, monthlyUsd: 1299.94 }, costEstimate: { monthlyUsd: 200.11 } });
      // Act
      const result = evaluate(request, policy);
      // Assess
      expect(1299.94 + 200.11).toBeGreaterThan(1500.05);
      expect(result.allowed).toBe(true);
    });

    it('applies to updates too (usage excludes the cluster being updated) unless the update does not raise its cost', () => {
      const grow = aRequest({ isNewCluster: false, workspaceUsage: { clusters: 4, monthlyUsd: 4800 }, costEstimate: { monthlyUsd: 300 }, current: { monthlyUsd: 150 } });
      const shrink = aRequest({ isNewCluster: false, workspaceUsage: { clusters: 4, monthlyUsd: 4800 }, costEstimate: { monthlyUsd: 250 }, current: { monthlyUsd: 300 } });

      expect(codesOf(evaluate(grow, policies))).toEqual(['cost.workspace_max_exceeded']);
      expect(evaluate(shrink, policies).allowed).toBe(true);
    });
  });

  describe('ttl', () => {
    const policies = [aPolicy('ephemeral', { maxLifetimeHours: 720 })];

    it('ttl.required when the policy limits lifetime and the request has no TTL', () => {
      const result = evaluate(aRequest({ ttlHours: null }), policies);

      expect(result.violations).toEqual([
        {
          code: 'ttl.required',
          policyId: 'ephemeral',
          field: 'ttlHours',
          message: 'policy ephemeral limits cluster lifetime to 720 hours, so ttlHours is required',
        },
      ]);
    });

    it('ttl.max_exceeded above the limit; exactly the limit passes', () => {
      const atLimit = evaluate(aRequest({ ttlHours: 720 }), policies);
      const over = evaluate(aRequest({ ttlHours: 721 }), policies);

      expect(atLimit.allowed).toBe(true);
      expect(over.violations).toEqual([
        {
          code: 'ttl.max_exceeded',
          policyId: 'ephemeral',
          field: 'ttlHours',
          message: 'ttlHours 721 exceeds the maximum lifetime of 720 hours set by policy ephemeral',
        },
      ]);
    });

    it('no TTL is fine when no policy limits lifetime', () => {
      const result = evaluate(aRequest({ ttlHours: null }), [aPolicy('p', { allowedRegions: ['eu-west-1'] })]);

      expect(result.allowed).toBe(true);
    });
  });
});

describe('evaluate: several rules and policies', () => {
  it('lists every violation at once for a request that breaks every rule, in policy then rule order', () => {
    // Prepare: one policy with every rule, and a request that breaks each of them.
    const policies = [aPolicy('guardrails', permissiveRules)];
    const request = aRequest({
      planId: 'xl',
      kubernetesVersion: 'v1.29.1',
      region: 'us-east-1',
      controlPlane: { replicas: 5, instanceType: 'c7i.large' },
      nodePools: [
        { name: 'workers', instanceType: 'm6i.large', desired: 3, max: 6, capacityType: 'on-demand' },
        { name: 'bare', instanceType: 'm7i.metal', desired: 4, max: 8, capacityType: 'spot' },
      ],
      ttlHours: 1000,
      costEstimate: { monthlyUsd: 2000 },
      workspaceUsage: { clusters: 5, monthlyUsd: 4000 },
      isNewCluster: true,
    });

    // Act
    const result = evaluate(request, policies);

    // Assess
    expect(result.allowed).toBe(false);
    expect(result.violations.map((v) => [v.code, v.field])).toEqual([
      ['plan.not_allowed', 'plan.id'],
      ['kubernetes_version.not_allowed', 'kubernetesVersion'],
      ['region.not_allowed', 'region'],
      ['instance_type.not_allowed', 'controlPlane.instanceType'],
      ['instance_type.denied', 'nodePools[1].instanceType'],
      ['spot.not_allowed', 'nodePools[1].capacityType'],
      ['nodes.max_exceeded', 'nodePools'],
      ['cost.cluster_max_exceeded', 'nodePools'],
      ['clusters.max_exceeded', 'name'],
      ['cost.workspace_max_exceeded', 'nodePools'],
      ['ttl.max_exceeded', 'ttlHours'],
    ]);
    expect(result.violations.every((v) => v.policyId === 'guardrails' && v.message.length > 20)).toBe(true);
    // Together with ttl.required (exclusive with ttl.max_exceeded for one request) that is every code.
    const codes = new Set([...codesOf(result), codesOf(evaluate(aRequest({ ttlHours: null }), policies))[0]]);
    expect(codes).toEqual(new Set(Object.values(ViolationCodes)));
  });

  it('checks global and workspace policies together; each violation carries its own policy id', () => {
    const policies = [
      aPolicy('guardrails', { allowedRegions: ['eu-west-1'], maxNodesPerCluster: 20 }),
      aPolicy('team-a-limits', { maxNodesPerCluster: 6, allowSpot: false }, 'team-a'),
    ];
    const request = aRequest({
      region: 'eu-central-1',
      nodePools: [{ name: 'workers', instanceType: 'm6i.large', desired: 3, max: 6, capacityType: 'spot' }],
    });

    const result = evaluate(request, policies);

    expect(result.violations.map((v) => [v.policyId, v.code])).toEqual([
      ['guardrails', 'region.not_allowed'],
      ['team-a-limits', 'spot.not_allowed'],
      ['team-a-limits', 'nodes.max_exceeded'],
    ]);
  });

  it('reports the same rule once per policy that sets it', () => {
    const policies = [aPolicy('global', { allowedRegions: ['us-east-1'] }), aPolicy('workspace', { allowedRegions: ['us-west-2'] }, 'team-a')];

    const result = evaluate(aRequest({ region: 'eu-west-1' }), policies);

    expect(result.violations.map((v) => `${v.policyId}:${v.code}`)).toEqual(['global:region.not_allowed', 'workspace:region.not_allowed']);
  });

  it('a request must satisfy every policy: allowed by one, refused by another is refused', () => {
    const policies = [aPolicy('broad', { allowedInstanceTypes: ['*'] }), aPolicy('narrow', { allowedInstanceTypes: ['m7i.*'] }, 'team-a')];

    const result = evaluate(aRequest(), policies);

    expect(result.allowed).toBe(false);
    expect(new Set(result.violations.map((v) => v.policyId))).toEqual(new Set(['narrow']));
    expect(result.violations).toHaveLength(2);
  });

  it("ignores a policy scoped to another workspace", () => {
    const policies = [aPolicy('team-b-only', { allowedRegions: ['us-east-1'] }, 'team-b')];

    const result = evaluate(aRequest({ region: 'eu-west-1' }), policies);

    expect(result.allowed).toBe(true);
  });
});

describe('applicablePolicies and quotaLimits', () => {
  it('keeps global and own-workspace policies only', () => {
    const policies = [aPolicy('g', {}), aPolicy('a', {}, 'team-a'), aPolicy('b', {}, 'team-b')];

    expect(applicablePolicies(policies, 'team-a').map((p) => p.id)).toEqual(['g', 'a']);
  });

  it('takes the tightest workspace limits with the policy that sets each', () => {
    const policies = [
      aPolicy('global', { maxClustersPerWorkspace: 10, maxMonthlyCostPerWorkspaceUsd: 2000 }),
      aPolicy('team', { maxClustersPerWorkspace: 3, maxMonthlyCostPerWorkspaceUsd: 5000 }, 'team-a'),
      aPolicy('other', { allowSpot: true }),
    ];

    expect(quotaLimits(policies)).toEqual({
      maxClusters: { value: 3, policyId: 'team' },
      maxMonthlyUsd: { value: 2000, policyId: 'global' },
    });
    expect(quotaLimits([aPolicy('none', {})])).toEqual({});
  });
});

describe('ViolationCodes', () => {
  it('is the stable public set of codes', () => {
    expect(Object.values(ViolationCodes).sort()).toEqual([
      'clusters.max_exceeded',
      'cost.cluster_max_exceeded',
      'cost.workspace_max_exceeded',
      'instance_type.denied',
      'instance_type.not_allowed',
      'kubernetes_version.not_allowed',
      'nodes.max_exceeded',
      'plan.not_allowed',
      'region.not_allowed',
      'spot.not_allowed',
      'ttl.max_exceeded',
      'ttl.required',
    ]);
  });
});
