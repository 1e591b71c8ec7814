/**
 * delete-cluster wait, before the move back: `clusterctl move` refuses while any Machine has no node (its
 * instance is still being launched, and both sides could launch it), so a self-managed cluster whose machines
 * are still booting — a scale-out that timed out, an autoscaler or a remediation that just added one — waits
 * here until they have their nodes, polling a dry run of the move back (discovery and preflight, no write).
 *
 * Machines that failed for good do not block: the move back takes them along and the deletion removes them.
 * A machine that neither gets a node nor fails ends the bounded wait with WaitTimeoutError naming it, and the
 * cluster stays as it was (self-managed, marked Failed, deletable again once the machine is up or has failed).
 * The alternatives are worse: deleting in place would have the cluster's own CAPI tear down the machines and
 * the infrastructure it runs on, stopping half-way and leaking the rest; moving the booting machine anyway
 * could launch its instance a second time from the management cluster.
 */
import { MovePreflightError } from '../../shared/capi/errors.ts';
import { moveBack } from '../../shared/capi/mover.ts';
import { workspaceNamespace } from '../../shared/capi/render.ts';
import { pivoted } from '../../shared/steps/capi.ts';
import { poll, type StepDeps, stepHandler } from '../../shared/steps/runtime.ts';
import { awsStepDeps } from './deps.ts';

export const STEP = 'check-move-back';

export const makeHandler = (deps: () => StepDeps) =>
  stepHandler(STEP, deps, (input, d) =>
    poll(
      d,
      input,
      STEP,
      async (cluster) => {
        // Not (or no longer) in the cluster itself: move-back settles whatever an interrupted pivot left.
        if (!(await pivoted(d, cluster))) return { done: true, message: 'the CAPI objects are in the management cluster' };
        const opts = { namespace: workspaceNamespace(cluster.workspaceId), clusterName: cluster.name, log: d.log, dryRun: true };
        try {
          await moveBack(await d.workload(cluster), await d.management(), opts);
          return { done: true, message: 'ready to move the CAPI objects back' };
        } catch (error) {
          // Only booting machines are waited for; any other problem goes to move-back's own retries and failure.
          if (!(error instanceof MovePreflightError) || error.machinesWithoutNode.length === 0 || error.machinesWithoutNode.length !== error.problems.length) throw error;
          const names = error.machinesWithoutNode;
          return { done: false, message: `moving the CAPI objects back waits for ${names.length} machine(s) still booting (no node yet): ${names.join(', ')}` };
        }
      },
      // Half the usual bound (about half an hour by default): the deletion's own wait must still fit in the
      // delete-cluster execution's timeout after it.
      { maxAttempts: Math.max(1, Math.floor(d.waits.maxAttempts / 2)) },
    ),
  );

export const handler = makeHandler(awsStepDeps);
