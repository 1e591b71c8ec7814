/**
 * The CAPI-providers custom resource's handlers (functions/custom-resources/) with injected dependencies: what
 * each CloudFormation request does, what fails a deployment at once and what is left to the next pass. The
 * installer itself (shared/capi/providers) is faked here; test/infra/custom-resources-sim.test.ts runs the
 * real one against the simulator.
 */
import { describe, expect, it } from 'vitest';
import { makeHandler as makeIsComplete } from '../../functions/custom-resources/capi-providers-complete.ts';
import { makeHandler as makeOnEvent } from '../../functions/custom-resources/capi-providers.ts';
import type { CapiProvidersDeps, IsCompleteRequest, OnEventRequest, ReconcileProviders } from '../../functions/custom-resources/deps.ts';
import { catalogVersions } from '../../infra/capi-providers.ts';
import type { KubeClient } from '../../shared/capi/client.ts';
import { KubeApiError } from '../../shared/capi/errors.ts';
import { ProviderComponentsFetchError, type ProviderInstallOptions, ProviderSourceError, type ProviderStatus } from '../../shared/capi/providers/index.ts';
import { CAPI_PROVIDERS_RESOURCE_TYPE, CapiProvidersPropertiesError } from '../../shared/config/capi-providers.ts';
import type { Logger } from '../../shared/log.ts';

const PROPERTIES = {
  ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:framework-onEvent',
  Infrastructure: 'aws',
  AddonHelm: 'true',
  Versions: catalogVersions(true),
};

function request(type: OnEventRequest['RequestType'], extra: Partial<OnEventRequest> = {}): OnEventRequest {
  return {
    RequestType: type,
    LogicalResourceId: 'ManagementClusterProviders583F6FCA',
    RequestId: 'req-1',
    StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/Slipway/1',
    ResourceType: CAPI_PROVIDERS_RESOURCE_TYPE,
    ResourceProperties: { ...PROPERTIES },
    ...(type === 'Create' ? {} : { PhysicalResourceId: 'capi-providers/capi-mgmt' }),
    ...extra,
  };
}
const asComplete = (r: OnEventRequest): IsCompleteRequest => ({ ...r, PhysicalResourceId: r.PhysicalResourceId ?? 'capi-providers/capi-mgmt' });

interface Recorded {
  calls: ProviderInstallOptions[];
  logs: { level: string; msg: string; fields?: Record<string, unknown> }[];
  built: number;
}

/** Deps whose reconcile answers from a script: statuses to return, or errors to throw, in order. */
function fakeDeps(script: (ProviderStatus | Error)[]): { deps: () => CapiProvidersDeps; recorded: Recorded } {
  const recorded: Recorded = { calls: [], logs: [], built: 0 };
  const client = { cluster: 'eks/capi-mgmt' } as unknown as KubeClient;
  const reconcile: ReconcileProviders = async (c, opts) => {
    expect(c).toBe(client);
    recorded.calls.push(opts);
    const next = script.shift() ?? { ready: true, stage: 'ready', waitingFor: [], applied: [] };
    if (next instanceof Error) throw next;
    return next;
  };
  const log: Logger = {
    debug: (msg, fields) => recorded.logs.push({ level: 'debug', msg, fields }),
    info: (msg, fields) => recorded.logs.push({ level: 'info', msg, fields }),
    warn: (msg, fields) => recorded.logs.push({ level: 'warn', msg, fields }),
    error: (msg, fields) => recorded.logs.push({ level: 'error', msg, fields }),
    child: () => log,
  };
  return {
    recorded,
    deps: () => {
      recorded.built += 1;
      return { clusterName: 'capi-mgmt', management: () => client, reconcile, log };
    },
  };
}

const waiting = (stage: ProviderStatus['stage'], ...waitingFor: string[]): ProviderStatus => ({ ready: false, stage, waitingFor, applied: [] });
const READY: ProviderStatus = { ready: true, stage: 'ready', waitingFor: [], applied: [] };

describe('onEvent', () => {
  it('Create: one pass with the options from the properties, a physical id per cluster', async () => {
    const { deps, recorded } = fakeDeps([waiting('cert-manager', 'Deployment cert-manager/cert-manager Available')]);
    const out = await makeOnEvent(deps)(request('Create', { ResourceProperties: { ...PROPERTIES, ProviderRepository: 'https://mirror.example.com/capi' } }));
    expect(out).toEqual({ PhysicalResourceId: 'capi-providers/capi-mgmt' });
    expect(recorded.calls).toEqual([{ infrastructure: 'aws', addonHelm: true, repository: 'https://mirror.example.com/capi' }]);
  });

  it('Update: reconciles again (a newer catalog is an upgrade) and keeps the physical id', async () => {
    const { deps, recorded } = fakeDeps([waiting('cluster-api')]);
    const out = await makeOnEvent(deps)(
      request('Update', { PhysicalResourceId: 'capi-providers/older', OldResourceProperties: { ...PROPERTIES, Versions: '{"cluster-api":"v1.13.0"}' } }),
    );
    expect(out.PhysicalResourceId).toBe('capi-providers/older');
    expect(recorded.calls).toEqual([{ infrastructure: 'aws', addonHelm: true }]);
  });

  it('Delete: touches nothing in the cluster and keeps the physical id', async () => {
    const { deps, recorded } = fakeDeps([]);
    const out = await makeOnEvent(deps)(request('Delete'));
    expect(out).toEqual({ PhysicalResourceId: 'capi-providers/capi-mgmt' });
    expect(recorded.calls).toEqual([]);
  });

  it('fails the deployment at once on properties it cannot read, before touching the cluster', async () => {
    const { deps, recorded } = fakeDeps([]);
    const bad = request('Create', { ResourceProperties: { ...PROPERTIES, Infrastructure: 'azure' } });
    await expect(makeOnEvent(deps)(bad)).rejects.toThrow(CapiProvidersPropertiesError);
    await expect(makeOnEvent(deps)(request('Create', { ResourceProperties: { ...PROPERTIES, ProviderRepository: 'not a url' } }))).rejects.toThrow(
      /ProviderRepository/,
    );
    expect(recorded.calls).toEqual([]);
  });

  it('fails the deployment at once when no pass can succeed (no such source, a 404 from the mirror)', async () => {
    const notFound = new ProviderComponentsFetchError('https://mirror.example.com/capi/cert-manager/v1.16.2/cert-manager.yaml', 'status', 'HTTP 404', { status: 404 });
    for (const err of [new ProviderSourceError('no components URL for infrastructure-aws'), notFound]) {
      const { deps } = fakeDeps([err]);
      await expect(makeOnEvent(deps)(request('Create'))).rejects.toBe(err);
    }
  });

  it('leaves errors a later pass may cure to isComplete: a 401 before the access entry is honoured, a 503 from GitHub', async () => {
    const unauthorized = new KubeApiError('Unauthorized', { verb: 'list', cluster: 'eks/capi-mgmt', code: 401, reason: 'Unauthorized' });
    const unavailable = new ProviderComponentsFetchError('https://github.com/x', 'status', 'HTTP 503', { status: 503 });
    for (const err of [unauthorized, unavailable]) {
      const { deps, recorded } = fakeDeps([err]);
      await expect(makeOnEvent(deps)(request('Create'))).resolves.toEqual({ PhysicalResourceId: 'capi-providers/capi-mgmt' });
      expect(recorded.logs.some((l) => l.level === 'warn' && l.fields?.error === err)).toBe(true);
    }
  });
});

describe('isComplete', () => {
  it('answers IsComplete only once a pass reports ready, with no Data before (the framework refuses it)', async () => {
    const { deps, recorded } = fakeDeps([waiting('deployments', 'Deployment capa-system/capa-controller-manager Available'), READY]);
    const isComplete = makeIsComplete(deps);
    expect(await isComplete(asComplete(request('Create')))).toEqual({ IsComplete: false });
    expect(await isComplete(asComplete(request('Create')))).toEqual({ IsComplete: true, Data: { Stage: 'ready' } });
    expect(recorded.calls).toHaveLength(2);
    expect(recorded.built).toBe(1);
  });

  it('never throws: a failed pass is logged and polled again (a throw would cost CloudFormation its answer at the timeout)', async () => {
    const permanent = new ProviderComponentsFetchError('https://mirror.example.com/x', 'status', 'HTTP 404', { status: 404 });
    const transient = new Error('socket hang up');
    const { deps, recorded } = fakeDeps([transient, permanent]);
    const isComplete = makeIsComplete(deps);
    expect(await isComplete(asComplete(request('Update')))).toEqual({ IsComplete: false });
    expect(await isComplete(asComplete(request('Update')))).toEqual({ IsComplete: false });
    expect(recorded.logs.filter((l) => l.level === 'warn').map((l) => l.fields?.error)).toEqual([transient]);
    expect(recorded.logs.filter((l) => l.level === 'error').map((l) => l.fields?.error)).toEqual([permanent]);
  });

  it('never throws even when its dependencies cannot be built (a bad environment)', async () => {
    const isComplete = makeIsComplete(() => {
      throw new Error('invalid environment: SLIPWAY_MANAGEMENT_CLUSTER_NAME: Required');
    });
    expect(await isComplete(asComplete(request('Create')))).toEqual({ IsComplete: false });
  });

  it('Delete: complete at once, without a pass', async () => {
    const { deps, recorded } = fakeDeps([]);
    expect(await makeIsComplete(deps)(asComplete(request('Delete')))).toEqual({ IsComplete: true });
    expect(recorded.calls).toEqual([]);
  });
});

describe('the framework loop: onEvent, then isComplete until ready', () => {
  it('walks an install stage by stage, one pass per call, and stops at ready', async () => {
    const stages: ProviderStatus[] = [
      { ...waiting('cert-manager', 'Deployment cert-manager/cert-manager-webhook Available'), applied: ['cert-manager v1.16.2'] },
      waiting('cert-manager', 'Certificate cert-manager-test/selfsigned-cert Ready'),
      { ...waiting('cluster-api'), applied: ['cluster-api v1.14.0'] },
      { ...waiting('bootstrap-kubeadm'), applied: ['bootstrap-kubeadm v1.14.0'] },
      { ...waiting('control-plane-kubeadm'), applied: ['control-plane-kubeadm v1.14.0'] },
      { ...waiting('infrastructure-aws'), applied: ['infrastructure-aws v2.11.0'] },
      { ...waiting('addon-helm'), applied: ['addon-helm v0.6.0'] },
      waiting('deployments', 'Deployment capa-system/capa-controller-manager Available'),
      READY,
    ];
    const { deps, recorded } = fakeDeps([...stages]);
    const created = await makeOnEvent(deps)(request('Create'));
    const isComplete = makeIsComplete(deps);
    let polls = 0;
    let answer = { IsComplete: false } as Awaited<ReturnType<typeof isComplete>>;
    while (!answer.IsComplete && polls < 20) {
      polls += 1;
      answer = await isComplete(asComplete({ ...request('Create'), ...created } as OnEventRequest));
    }
    expect(answer).toEqual({ IsComplete: true, Data: { Stage: 'ready' } });
    expect(polls).toBe(stages.length - 1);
    expect(recorded.calls).toHaveLength(stages.length);
  });
});
