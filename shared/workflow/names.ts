/**
 * The workflows (Step Functions state machines) and where their definitions live. Shared by the CDK stack
 * (one `StateMachine` per entry, `DefinitionBody.fromFile(aslFile)`), the API (which workflow to start) and
 * the local runner (which file to run), so a workflow id can never mean two things.
 */
export const WorkflowId = {
  provisionCluster: 'provision-cluster',
  updateCluster: 'update-cluster',
  deleteCluster: 'delete-cluster',
  onboardAccount: 'onboard-account',
} as const;
export type WorkflowId = (typeof WorkflowId)[keyof typeof WorkflowId];

export const WORKFLOW_IDS: readonly WorkflowId[] = Object.values(WorkflowId);

/** Path of a workflow's ASL file, relative to the repository root. */
export const aslFile = (workflow: WorkflowId): string => `statemachines/${workflow}.asl.json`;

export const isWorkflowId = (value: string): value is WorkflowId => (WORKFLOW_IDS as readonly string[]).includes(value);

// ---------- the naming convention shared by the CDK stack and the local runner ----------

/** `mark-provisioning` → `MarkProvisioning`. */
export const pascalCase = (kebab: string): string =>
  kebab
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');

/** `MarkProvisioning` → `mark-provisioning`; digits stay attached to the word before them. */
export const kebabCase = (pascal: string): string => pascal.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** The ASL substitution under which a step handler's function ARN is given: `${Step<PascalName>Arn}`. */
export const stepSubstitution = (stepName: string): string => `Step${pascalCase(stepName)}Arn`;
