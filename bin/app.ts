/**
 * The CDK app: `npx cdk synth|deploy` (cdk.json runs it with tsx). Configuration is CDK context
 * (`-c slipway:<key>=<value>` or cdk.json), validated by infra/config.ts; docs/operations.md lists the keys.
 */
import { App } from 'aws-cdk-lib';
import { loadConfig } from '../infra/config.ts';
import { addNagChecks } from '../infra/nag.ts';
import { SlipwayStack } from '../infra/stack.ts';

const app = new App();
const context = app.node.getAllContext() as Record<string, unknown>;
const config = loadConfig((key) => app.node.tryGetContext(key), Object.keys(context));
const stack = new SlipwayStack(app, config.stackName, {
  config,
  description: 'Slipway: self-service Kubernetes clusters on Cluster API',
  // Environment-agnostic unless the CLI knows the target (credentials present): synth needs no AWS access.
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
addNagChecks(app);
app.synth();
stack.bundler.cleanup();
