import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { ACCESS_NAMESPACE } from '../../shared/capi/access.ts';
import { RouteGroup } from '../../shared/http/routes.ts';
import { type Built, policyStatements, referencedId, renderValue, resourcesOf, synthTemplate, removeOutdirs } from './helpers.ts';

afterAll(removeOutdirs);

type Entry = { ClusterName?: unknown; PrincipalArn?: unknown; Type?: string; KubernetesGroups?: string[]; AccessPolicies?: { PolicyArn: unknown; AccessScope: unknown }[] };

const logicalId = (built: Built, construct: IConstruct) => built.stack.getLogicalId(construct.node.defaultChild as CfnElement);

/** The access entries of the stack, by the role they map. */
function entriesByRole(built: Built): Map<string, Entry> {
  return new Map(
    Object.values(resourcesOf(built.template, 'AWS::EKS::AccessEntry')).map((e) => [referencedId(e.Properties?.PrincipalArn) ?? '', e.Properties as Entry]),
  );
}

describe('management cluster: imported by name, roles granted by EKS access entries', () => {
  it('maps the cluster steps role with AmazonEKSClusterAdminPolicy, the kubeconfig route and the revoker read-only on the kept access', () => {
    const built = synthTemplate({ context: { 'slipway:managementClusterName': 'capi-mgmt' } });
    const entries = entriesByRole(built);
    expect(entries.size).toBe(3);

    const steps = entries.get(logicalId(built, built.stack.workflows.clusterStepsRole));
    expect(steps?.ClusterName).toBe('capi-mgmt');
    expect(steps?.Type).toBe('STANDARD');
    expect(steps?.AccessPolicies?.map((p) => [renderValue(p.PolicyArn), p.AccessScope])).toEqual([
      ['arn:<AWS::Partition>:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy', { Type: 'cluster' }],
    ]);

    for (const role of [built.stack.api.functions.get(RouteGroup.kubeconfig)!.role, built.stack.revoker!.role]) {
      expect(entries.get(logicalId(built, role))?.AccessPolicies?.map((p) => [renderValue(p.PolicyArn), p.AccessScope])).toEqual([
        ['arn:<AWS::Partition>:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy', { Type: 'namespace', Namespaces: [ACCESS_NAMESPACE] }],
      ]);
    }
  });

  it('maps the roles to Kubernetes groups only, with slipway:managementClusterAccess=kubernetes-group', () => {
    const built = synthTemplate({ context: { 'slipway:managementClusterAccess': 'kubernetes-group' } });
    const entries = [...entriesByRole(built).values()];
    expect(entries.map((e) => e.KubernetesGroups).sort()).toEqual([['slipway-capi'], ['slipway-capi-kubeconfig'], ['slipway-capi-kubeconfig']]);
    for (const e of entries) expect(e.AccessPolicies).toBeUndefined();
  });

  it('lets only the mapped roles describe that cluster, and only that cluster', () => {
    const built = synthTemplate();
    const describe = Object.entries(resourcesOf(built.template, 'AWS::IAM::Policy')).flatMap(([, p]) =>
      policyStatements(p)
        .filter((s) => s.Action === 'eks:DescribeCluster')
        .map((s) => ({ resource: renderValue(s.Resource), roles: ((p.Properties?.Roles as unknown[] | undefined) ?? []).map(referencedId) })),
    );
    expect(describe.map((d) => d.resource)).toEqual(Array(3).fill('arn:<AWS::Partition>:eks:<AWS::Region>:<AWS::AccountId>:cluster/slipway-management'));
    expect(describe.flatMap((d) => d.roles).sort()).toEqual([...entriesByRole(built).keys()].sort());
  });
});
