import { describe, expect, it } from 'vitest';
import { type CREATE_ONLY_KEYS, ConfigError, DEFAULT_MANAGEMENT_KUBERNETES_VERSION, loadConfig } from '../../infra/config.ts';

const from = (ctx: Record<string, unknown>) => loadConfig((k) => ctx[k], Object.keys(ctx));

describe('deployment configuration (CDK context)', () => {
  it('has a valid default for every key', () => {
    const config = from({});
    expect(config).toMatchObject({
      stackName: 'Slipway',
      adminGroup: 'slipway-admins',
      corsOrigins: [],
      managementClusterMode: 'import',
      managementClusterAccess: 'cluster-admin',
      eventBusName: 'slipway',
      logRetentionDays: 90,
      logExecutionData: false,
    });
  });

  it('coerces -c strings: numbers, booleans, comma or JSON lists', () => {
    const config = from({
      'slipway:throttleRate': '10',
      'slipway:logExecutionData': 'true',
      'slipway:audience': 'a, b',
      'slipway:corsOrigins': '["https://x.example.com"]',
      'slipway:cloudAccessRoleName': 'SlipwayProvisioner,OrgVendingAccess',
    });
    expect(config.cloudAccessRoleName).toEqual(['SlipwayProvisioner', 'OrgVendingAccess']);
    expect(config.throttleRate).toBe(10);
    expect(config.logExecutionData).toBe(true);
    expect(config.audience).toEqual(['a', 'b']);
    expect(config.corsOrigins).toEqual(['https://x.example.com']);
  });

  it('refuses invalid values and unknown keys', () => {
    expect(() => from({ 'slipway:issuer': 'not a url' })).toThrow(ConfigError);
    expect(() => from({ 'slipway:logRetentionDays': '42' })).toThrow(/logRetentionDays/);
    expect(() => from({ 'slipway:isuer': 'https://x' })).toThrow(/unknown context keys: slipway:isuer/);
    expect(() => from({ 'slipway:managementClusterMode': 'adopt' })).toThrow(/managementClusterMode/);
  });
});

describe('deployment configuration: a created management cluster', () => {
  const create = (ctx: Record<string, unknown> = {}) => from({ 'slipway:managementClusterMode': 'create', ...ctx });

  it('has defaults for every create-mode key', () => {
    expect(create()).toMatchObject({
      managementClusterMode: 'create',
      managementKubernetesVersion: DEFAULT_MANAGEMENT_KUBERNETES_VERSION,
      managementNodeInstanceType: 'm6i.large',
      managementNodeCount: 2,
      managementNatGateways: 1,
      managementEndpointAccess: 'public-and-private',
      managementAdminPrincipalArns: [],
    });
    expect(create().providerRepository).toBeUndefined();
    expect(DEFAULT_MANAGEMENT_KUBERNETES_VERSION).toMatch(/^1\.\d{2}$/);
  });

  it('coerces -c strings for the create-mode keys', () => {
    const config = create({
      'slipway:managementKubernetesVersion': '1.35',
      'slipway:managementNodeInstanceType': 'm7g.xlarge',
      'slipway:managementNodeCount': '3',
      'slipway:managementNatGateways': '2',
      'slipway:managementEndpointAccess': 'private',
      'slipway:managementAdminPrincipalArns': 'arn:aws:iam::123456789012:role/Admin, arn:aws:iam::123456789012:user/break-glass',
      'slipway:providerRepository': 'https://mirror.example.com/capi/',
    });
    expect(config).toMatchObject({
      managementKubernetesVersion: '1.35',
      managementNodeInstanceType: 'm7g.xlarge',
      managementNodeCount: 3,
      managementNatGateways: 2,
      managementEndpointAccess: 'private',
      managementAdminPrincipalArns: ['arn:aws:iam::123456789012:role/Admin', 'arn:aws:iam::123456789012:user/break-glass'],
      providerRepository: 'https://mirror.example.com/capi/',
    });
  });

  it.each([
    ['managementKubernetesVersion', '1.29'],
    ['managementKubernetesVersion', 'latest'],
    ['managementKubernetesVersion', '1.36.2'],
    ['managementNodeInstanceType', 'large'],
    ['managementNodeCount', '0'],
    ['managementNodeCount', '1.5'],
    ['managementNatGateways', '0'],
    ['managementNatGateways', '4'],
    ['managementEndpointAccess', 'public'],
    ['managementAdminPrincipalArns', 'arn:aws:iam::123456789012:group/admins'],
    ['managementAdminPrincipalArns', 'admin'],
    ['providerRepository', 'ftp://mirror.example.com/'],
    ['providerRepository', 'http://mirror.example.com/'],
    ['providerRepository', 'not a url'],
    ['managementSubnetIds', 'subnet-0123456789abcdef0'],
    ['managementSubnetIds', 'sn-1,sn-2'],
  ])('refuses %s=%s with a ConfigError naming the key', (key, value) => {
    expect(() => create({ [`slipway:${key}`]: value })).toThrow(ConfigError);
    expect(() => create({ [`slipway:${key}`]: value })).toThrow(new RegExp(`slipway:${key}`));
  });

  it('takes an existing VPC by id with its private subnets, never one without the other nor with NAT settings', () => {
    const subnets = 'subnet-0123456789abcdef0,subnet-0fedcba9876543210';
    expect(create({ 'slipway:managementVpcId': 'vpc-0123456789abcdef0', 'slipway:managementSubnetIds': subnets })).toMatchObject({
      managementVpcId: 'vpc-0123456789abcdef0',
      managementSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
    });
    expect(() => create({ 'slipway:managementVpcId': 'vpc-0123456789abcdef0' })).toThrow(/go together/);
    expect(() => create({ 'slipway:managementSubnetIds': subnets })).toThrow(/go together/);
    expect(() => create({ 'slipway:managementVpcId': 'vpc-1', 'slipway:managementSubnetIds': subnets })).toThrow(/slipway:managementVpcId/);
    expect(() =>
      create({ 'slipway:managementVpcId': 'vpc-0123456789abcdef0', 'slipway:managementSubnetIds': subnets, 'slipway:managementNatGateways': '2' }),
    ).toThrow(/managementNatGateways applies to a created VPC/);
  });

  it('refuses create-mode keys on an imported cluster instead of ignoring them', () => {
    const VPC = { 'slipway:managementVpcId': 'vpc-0123456789abcdef0', 'slipway:managementSubnetIds': 'subnet-0123456789abcdef0,subnet-0fedcba9876543210' };
    const valid: Record<(typeof CREATE_ONLY_KEYS)[number], Record<string, string>> = {
      managementKubernetesVersion: { 'slipway:managementKubernetesVersion': '1.35' },
      managementNodeInstanceType: { 'slipway:managementNodeInstanceType': 'm6i.xlarge' },
      managementNodeCount: { 'slipway:managementNodeCount': '3' },
      managementNatGateways: { 'slipway:managementNatGateways': '2' },
      managementVpcId: VPC,
      managementSubnetIds: VPC,
      managementEndpointAccess: { 'slipway:managementEndpointAccess': 'private' },
      managementAdminPrincipalArns: { 'slipway:managementAdminPrincipalArns': 'arn:aws:iam::123456789012:role/Admin' },
    };
    for (const [key, ctx] of Object.entries(valid)) {
      expect(() => create(ctx), key).not.toThrow();
      expect(() => from(ctx), key).toThrow(new RegExp(`slipway:${key}.* only apply with slipway:managementClusterMode=create`));
    }
    expect(() => from({ 'slipway:managementClusterMode': 'import', 'slipway:managementNodeCount': '3' })).toThrow(ConfigError);
    // The mirror serves workload clusters' providers too.
    expect(from({ 'slipway:providerRepository': 'https://mirror.example.com/' }).providerRepository).toBe('https://mirror.example.com/');
  });
});
