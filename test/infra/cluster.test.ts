import { describe, expect, it } from 'vitest';
import { policyStatements, referencedId, renderValue, resourcesOf, synthTemplate } from './helpers.ts';

describe('management cluster: imported by name, step role granted by an access entry', () => {
  it('maps the cluster steps role with AmazonEKSClusterAdminPolicy by default', () => {
    const { template, stack } = synthTemplate({ context: { 'slipway:managementClusterName': 'capi-mgmt' } });
    const entries = Object.values(resourcesOf(template, 'AWS::EKS::AccessEntry'));
    expect(entries).toHaveLength(1);
    const entry = entries[0]?.Properties ?? {};
    expect(entry.ClusterName).toBe('capi-mgmt');
    expect(entry.Type).toBe('STANDARD');
    expect(referencedId(entry.PrincipalArn)).toBe(stack.getLogicalId(stack.workflows.clusterStepsRole.node.defaultChild as never));
    const [policy] = entry.AccessPolicies as { PolicyArn: unknown; AccessScope: unknown }[];
    expect(renderValue(policy?.PolicyArn)).toBe('arn:<AWS::Partition>:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy');
    expect(policy?.AccessScope).toEqual({ Type: 'cluster' });
  });

  it('maps the role to a Kubernetes group only, with slipway:managementClusterAccess=kubernetes-group', () => {
    const { template } = synthTemplate({ context: { 'slipway:managementClusterAccess': 'kubernetes-group' } });
    const entry = Object.values(resourcesOf(template, 'AWS::EKS::AccessEntry'))[0]?.Properties ?? {};
    expect(entry.KubernetesGroups).toEqual(['slipway-capi']);
    expect(entry.AccessPolicies).toBeUndefined();
  });

  it('lets the step role describe that cluster only', () => {
    const { template } = synthTemplate();
    const text = JSON.stringify(template.toJSON());
    expect(text).toContain('"eks:DescribeCluster"');
    const statements = Object.values(resourcesOf(template, 'AWS::IAM::Policy')).flatMap(policyStatements);
    const describe = statements.filter((s) => s.Action === 'eks:DescribeCluster');
    expect(describe.map((s) => renderValue(s.Resource))).toEqual([
      'arn:<AWS::Partition>:eks:<AWS::Region>:<AWS::AccountId>:cluster/slipway-management',
    ]);
  });
});
