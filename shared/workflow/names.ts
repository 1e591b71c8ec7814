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
