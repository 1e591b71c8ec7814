/**
 * CapiProviders: the CAPI providers (cert-manager, core, kubeadm bootstrap + control plane, CAPA, CAAPH;
 * ClusterTopology on) installed into the management cluster the stack creates, as a CloudFormation custom
 * resource.
 *
 * The waiting story: an install takes minutes (cert-manager must answer before the providers' webhooks can,
 * each provider's Deployment must become Available), longer than one Lambda may run. So the resource uses the
 * CDK provider framework with `onEvent` + `isComplete`: onEvent makes the first reconcile pass and returns; the
 * framework's waiter state machine then calls isComplete every `queryInterval` — each call is one more
 * idempotent reconcile pass (one stage: apply what is missing, or report what it waits for) — until the
 * providers are ready or `totalTimeout` runs out (the deployment then fails with "Operation timed out"; the
 * isComplete function's log has a line per pass saying what it waited for). Errors no pass can cure (a mirror
 * without the files, properties it cannot read) fail the first pass, and so the deployment, at once.
 *
 * Both handlers live in functions/custom-resources/ and are bundled by the stack's FunctionBundler like every
 * other function; they run under one role with `eks:DescribeCluster` on the cluster and a cluster-admin
 * access entry (CRDs, webhooks and namespaces are cluster-scoped).
 */
import { join } from 'node:path';
import { type CfnElement, CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct, type IDependable } from 'constructs';
import { CERT_MANAGER, providerSet } from '../shared/capi/providers/catalog.ts';
import { CAPI_PROVIDERS_RESOURCE_TYPE, type CapiProvidersPropertiesInput } from '../shared/config/capi-providers.ts';
import { CapiProvidersEnv, type CapiProvidersEnvInput } from '../shared/config/env.ts';
import type { FunctionBundler } from './bundling.ts';
import { type FunctionNetwork, SlipwayFunction } from './function.ts';
import { acknowledgeWildcard, WILDCARD_REASONS } from './wildcards.ts';

/** functions/custom-resources/<this>.ts: the onEvent handler. */
export const CAPI_PROVIDERS_ON_EVENT_HANDLER = 'capi-providers';
/** functions/custom-resources/<this>.ts: the isComplete handler. */
export const CAPI_PROVIDERS_IS_COMPLETE_HANDLER = 'capi-providers-complete';

export const capiProvidersEntries = (customResourcesDir: string): string[] =>
  [CAPI_PROVIDERS_ON_EVENT_HANDLER, CAPI_PROVIDERS_IS_COMPLETE_HANDLER].map((h) => join(customResourcesDir, `${h}.ts`));

/** How long CloudFormation waits for the providers before failing the deployment. */
export const CAPI_PROVIDERS_TOTAL_TIMEOUT = Duration.minutes(30);
/** Between two reconcile passes. */
export const CAPI_PROVIDERS_QUERY_INTERVAL = Duration.seconds(15);

/**
 * The versions the stack installs, from the installer's catalog: cert-manager and each provider by its
 * clusterctl label. Carried as a property so a catalog bump reaches CloudFormation as an Update (= upgrade).
 */
export function catalogVersions(addonHelm: boolean): string {
  const sets = [CERT_MANAGER, ...providerSet('aws', { addonHelm })];
  return JSON.stringify(Object.fromEntries(sets.map((s) => [s.label, s.version])));
}

/** The resource's properties apart from the mirror (config `providerRepository`). */
export const CAPI_PROVIDERS_PROPERTIES_DEFAULTS: CapiProvidersPropertiesInput & { Infrastructure: 'aws' } = {
  Infrastructure: 'aws',
  AddonHelm: 'true',
  Versions: catalogVersions(true),
};

export interface CapiProvidersProps {
  customResourcesDir: string;
  bundler: FunctionBundler;
  clusterName: string;
  clusterArn: string;
  /** Grants the handlers' role a cluster-admin access entry (the created cluster makes it, depending on itself). */
  grantClusterAdmin: (id: string, role: iam.Role) => eks.CfnAccessEntry;
  network: FunctionNetwork | undefined;
  properties: CapiProvidersPropertiesInput;
  logRetention: logs.RetentionDays;
  /** What must exist before the first install pass: nodes to schedule on, CAPA's pod identity, the add-on. */
  dependsOn: IDependable[];
}

export class CapiProviders extends Construct {
  readonly role: iam.Role;
  readonly onEvent: SlipwayFunction<typeof CapiProvidersEnv>;
  readonly isComplete: SlipwayFunction<typeof CapiProvidersEnv>;
  readonly accessEntry: eks.CfnAccessEntry;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: CapiProvidersProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Slipway CAPI providers installer (cluster-admin on the created management cluster)',
    });
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [props.clusterArn] }));
    this.accessEntry = props.grantClusterAdmin('InstallerAccess', this.role);

    const environment: CapiProvidersEnvInput = { SLIPWAY_MANAGEMENT_CLUSTER_NAME: props.clusterName };
    const [onEventEntry, isCompleteEntry] = capiProvidersEntries(props.customResourcesDir) as [string, string];
    const common = {
      bundler: props.bundler,
      envSchema: CapiProvidersEnv,
      environment,
      role: this.role,
      logRetention: props.logRetention,
      // One reconcile pass: a few server-side applies of parsed release manifests, or one status read.
      timeout: Duration.minutes(5),
      memorySize: 1024,
      ...(props.network ? { network: props.network } : {}),
    };
    this.onEvent = new SlipwayFunction(this, 'OnEvent', { ...common, entry: onEventEntry, description: 'Slipway CAPI providers: first install/upgrade pass' });
    this.isComplete = new SlipwayFunction(this, 'IsComplete', { ...common, entry: isCompleteEntry, description: 'Slipway CAPI providers: one more pass, until ready' });

    // The framework's own functions get roles of ours that may write only to one log group (no
    // AWSLambdaBasicExecutionRole), and two roles, as the framework asks, so no dependency cycle forms.
    const frameworkLogs = new logs.LogGroup(this, 'FrameworkLogs', { retention: props.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    const frameworkRole = (roleId: string, what: string) => {
      const role = new iam.Role(this, roleId, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: `Slipway CAPI providers: ${what}` });
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [frameworkLogs.logGroupArn] }));
      return role;
    };
    const onEventRole = frameworkRole('FrameworkOnEventRole', 'provider framework onEvent');
    const waiterRole = frameworkRole('FrameworkWaiterRole', 'provider framework isComplete/onTimeout');
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.onEvent.fn,
      isCompleteHandler: this.isComplete.fn,
      totalTimeout: CAPI_PROVIDERS_TOTAL_TIMEOUT,
      queryInterval: CAPI_PROVIDERS_QUERY_INTERVAL,
      frameworkOnEventRole: onEventRole,
      frameworkCompleteAndTimeoutRole: waiterRole,
      logGroup: frameworkLogs,
    });
    this.acknowledgeFramework(provider, [onEventRole, waiterRole]);

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: CAPI_PROVIDERS_RESOURCE_TYPE,
      properties: { ...props.properties },
      // Past the framework's own timeout, so its "Operation timed out" arrives first.
      serviceTimeout: CAPI_PROVIDERS_TOTAL_TIMEOUT.plus(Duration.minutes(10)),
    });
    // The first pass needs the access entry (else 401), nodes, and CAPA's credentials in place before its
    // controller starts (EKS Pod Identity injects them when the pod is created).
    this.resource.node.addDependency(this.accessEntry, ...props.dependsOn);
  }

  /** cdk-nag findings on the CDK provider framework's own parts, each with its reason. */
  private acknowledgeFramework(provider: cr.Provider, roles: iam.Role[]): void {
    const stack = Stack.of(this);
    for (const fn of [this.onEvent.fn, this.isComplete.fn]) {
      const finding = `<${stack.getLogicalId(fn.node.defaultChild as CfnElement)}.Arn>:*`;
      for (const role of roles) acknowledgeWildcard(role, finding, WILDCARD_REASONS.providerFrameworkInvoke);
    }
    const waiter = provider.node.tryFindChild('waiter-state-machine');
    if (waiter) {
      for (const fn of ['framework-isComplete', 'framework-onTimeout']) {
        const f = provider.node.tryFindChild(fn);
        if (f) acknowledgeWildcard(waiter, `<${stack.getLogicalId(f.node.defaultChild as CfnElement)}.Arn>:*`, WILDCARD_REASONS.providerFrameworkInvoke);
      }
      Validations.of(waiter).acknowledge({
        id: 'AwsSolutions-SF1',
        reason:
          'The CDK provider framework waiter only re-invokes the isComplete function; each pass is logged by that function, ' +
          'and its own history stays in the execution history. Enabling its logging would grant logs:PutLogEvents on *.',
      });
      Validations.of(waiter).acknowledge({
        id: 'AwsSolutions-SF2',
        reason: 'The CDK provider framework waiter state machine offers no tracing option; the functions it invokes are traced.',
      });
    }
  }
}
