/** cdk-nag (v3 API): AwsSolutions checks run at every synth, so an unacknowledged finding fails `cdk synth`. */
import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
