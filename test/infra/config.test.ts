import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../infra/config.ts';

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

  it('refuses invalid values, unknown keys, and the unimplemented create mode', () => {
    expect(() => from({ 'slipway:issuer': 'not a url' })).toThrow(ConfigError);
    expect(() => from({ 'slipway:logRetentionDays': '42' })).toThrow(/logRetentionDays/);
    expect(() => from({ 'slipway:isuer': 'https://x' })).toThrow(/unknown context keys: slipway:isuer/);
    expect(() => from({ 'slipway:managementClusterMode': 'create' })).toThrow(/not implemented/);
  });
});
