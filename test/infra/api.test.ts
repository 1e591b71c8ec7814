import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiEnv, KubeconfigApiEnv } from '../../shared/config/env.ts';
import { ROUTES, routeKey } from '../../shared/http/routes.ts';
import { type Built, policyStatements, referencedId, renderValue, resourcesOf, synthTemplate, removeOutdirs } from './helpers.ts';

afterAll(removeOutdirs);

describe('api: HTTP API, JWT authorizer, one function per route group', () => {
  let built: Built;
  beforeAll(() => {
    built = synthTemplate({ context: { 'slipway:issuer': 'https://idp.example.com/', 'slipway:audience': 'slipway-cli,slipway-web' } });
  });

  it('has a JWT authorizer with issuer and audience from context', () => {
    built.template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: 'https://idp.example.com/', Audience: ['slipway-cli', 'slipway-web'] },
    });
  });

  it('wires every route of ROUTES, with the authorizer unless public, to its group function', () => {
    const routes = Object.values(resourcesOf(built.template, 'AWS::ApiGatewayV2::Route')).map((r) => r.Properties ?? {});
    const integrations = resourcesOf(built.template, 'AWS::ApiGatewayV2::Integration');
    const functions = resourcesOf(built.template, 'AWS::Lambda::Function');
    expect(routes).toHaveLength(ROUTES.length);
    for (const route of ROUTES) {
      const key = routeKey(route);
      const found = routes.find((r) => r.RouteKey === key);
      expect(found, key).toBeDefined();
      if (route.public) {
        expect(found?.AuthorizationType, key).toBe('NONE');
        expect(found?.AuthorizerId, key).toBeUndefined();
      } else {
        expect(found?.AuthorizationType, key).toBe('JWT');
        expect(referencedId(found?.AuthorizerId), key).toBeDefined();
      }
      // Target is "integrations/<id>": the integration's URI is the group's function.
      const integrationId = renderValue(found?.Target).replace(/^integrations\/<(.+)>$/, '$1');
      const uri = integrations[integrationId]?.Properties?.IntegrationUri;
      const fn = functions[referencedId(uri) ?? ''];
      expect(fn?.Properties?.Description, key).toBe(`Slipway API: ${route.group} routes`);
    }
  });

  it('builds every API function as Node 24 on arm64, with the ApiEnv environment', () => {
    const groups = new Set(ROUTES.map((r) => r.group));
    const fns = Object.values(resourcesOf(built.template, 'AWS::Lambda::Function')).filter((f) =>
      String(f.Properties?.Description).startsWith('Slipway API:'),
    );
    expect(fns).toHaveLength(groups.size);
    for (const fn of fns) {
      expect(fn.Properties?.Runtime).toBe('nodejs24.x');
      expect(fn.Properties?.Architectures).toEqual(['arm64']);
      expect(fn.Properties?.Handler).toBe('index.handler');
      expect(fn.Properties?.TracingConfig).toEqual({ Mode: 'Active' });
      const vars = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      for (const name of Object.keys(ApiEnv.shape).filter((n) => !ApiEnv.shape[n as keyof typeof ApiEnv.shape].safeParse(undefined).success)) {
        expect(vars[name], name).toBeDefined();
      }
      expect(vars.NODE_OPTIONS).toBe('--enable-source-maps');
    }
  });

  it('gives the kubeconfig route the KubeconfigApiEnv (management cluster) and the other groups none of it', () => {
    const fns = Object.values(resourcesOf(built.template, 'AWS::Lambda::Function')).filter((f) =>
      String(f.Properties?.Description).startsWith('Slipway API:'),
    );
    for (const fn of fns) {
      const vars = (fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      const isKubeconfig = fn.Properties?.Description === 'Slipway API: kubeconfig routes';
      expect(vars.SLIPWAY_MANAGEMENT_CLUSTER_NAME, String(fn.Properties?.Description)).toBe(isKubeconfig ? 'slipway-management' : undefined);
      if (isKubeconfig) for (const key of Object.keys(KubeconfigApiEnv.shape).filter((k) => !k.startsWith('AWS_'))) expect(vars[key], key).toBeDefined();
    }
  });

  it('lets the kubeconfig route write the table only to append audit records', () => {
    const fn = Object.values(resourcesOf(built.template, 'AWS::Lambda::Function')).find((f) => f.Properties?.Description === 'Slipway API: kubeconfig routes');
    const roleId = referencedId(fn?.Properties?.Role);
    const statements = Object.values(resourcesOf(built.template, 'AWS::IAM::Policy'))
      .filter((p) => ((p.Properties?.Roles as unknown[]) ?? []).some((r) => referencedId(r) === roleId))
      .flatMap((p) => policyStatements(p));
    const writes = statements.filter((s) => [s.Action ?? []].flat().some((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(String(a))));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toMatchObject({
      Action: 'dynamodb:PutItem',
      Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AUDIT#*'] } },
    });
  });

  it('lets the accounts routes start onboard-account only and write only the account, audit and idempotency records', () => {
    const fn = Object.values(resourcesOf(built.template, 'AWS::Lambda::Function')).find((f) => f.Properties?.Description === 'Slipway API: accounts routes');
    const vars = (fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(renderValue(vars.SLIPWAY_ONBOARD_STATE_MACHINE_ARN)).toMatch(/:stateMachine:Slipway-onboard-account$/);
    const roleId = referencedId(fn?.Properties?.Role);
    const statements = Object.values(resourcesOf(built.template, 'AWS::IAM::Policy'))
      .filter((p) => ((p.Properties?.Roles as unknown[]) ?? []).some((r) => referencedId(r) === roleId))
      .flatMap((p) => policyStatements(p));
    const starts = statements.filter((s) => [s.Action ?? []].flat().includes('states:StartExecution'));
    expect(starts).toHaveLength(1);
    expect([starts[0]?.Resource].flat().map((r) => renderValue(r))).toEqual([expect.stringMatching(/:stateMachine:Slipway-onboard-account$/)]);
    const writes = statements.filter((s) => [s.Action ?? []].flat().some((a) => /^dynamodb:(Put|Update|Delete|BatchWrite)/.test(String(a))));
    expect(writes).toEqual([
      expect.objectContaining({ Action: 'dynamodb:PutItem', Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCOUNT', 'AUDIT#*'] } } }),
      expect.objectContaining({
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['IDEMPOTENCY#*'] } },
      }),
    ]);
  });

  it('throttles and logs access on the $default stage', () => {
    built.template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('\\$context\\.requestId') },
    });
  });

  it('leaves CORS off unless origins are configured', () => {
    const api = Object.values(resourcesOf(built.template, 'AWS::ApiGatewayV2::Api'))[0];
    expect(api?.Properties?.CorsConfiguration).toBeUndefined();
    const { template } = synthTemplate({ context: { 'slipway:corsOrigins': 'https://console.example.com' } });
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: { AllowOrigins: ['https://console.example.com'] },
    });
  });
});
