/** The input every cluster workflow receives: steps load the rest from the store. */
export interface ClusterWorkflowInput {
  workspaceId: string;
  name: string;
  uid: string;
  generation: number;
}
