/** The provider catalog: install order, and the same names and versions as the simulator's providers. */
import { describe, expect, it } from 'vitest';
import { PROVIDERS as SIM_PROVIDERS } from '../../../local/sim/controllers/providers.ts';
import { CERT_MANAGER, PROVIDERS, providerSet } from '../../../shared/capi/providers/index.ts';
import { isSystemNamespace } from '../../../shared/capi/render.ts';

describe('provider catalog', () => {
  it("installs in clusterctl's order: core, bootstrap, control plane, infrastructure, add-on", () => {
    expect(providerSet('aws').map((p) => [p.label, p.type, p.providerName, p.file])).toEqual([
      ['cluster-api', 'CoreProvider', 'cluster-api', 'core-components.yaml'],
      ['bootstrap-kubeadm', 'BootstrapProvider', 'kubeadm', 'bootstrap-components.yaml'],
      ['control-plane-kubeadm', 'ControlPlaneProvider', 'kubeadm', 'control-plane-components.yaml'],
      ['infrastructure-aws', 'InfrastructureProvider', 'aws', 'infrastructure-components.yaml'],
      ['addon-helm', 'AddonProvider', 'helm', 'addon-components.yaml'],
    ]);
    expect(providerSet('sim', { addonHelm: false }).map((p) => p.label)).toEqual(['cluster-api', 'bootstrap-kubeadm', 'control-plane-kubeadm', 'infrastructure-sim']);
  });

  it("matches the simulator's providers: label, type, inventory name, namespace and version", () => {
    for (const sim of SIM_PROVIDERS) {
      const ours = Object.values(PROVIDERS).find((p) => p.label === sim.name);
      expect(ours, sim.name).toMatchObject({ type: sim.type, providerName: sim.providerName, namespace: sim.namespace, version: sim.version });
    }
    expect(CERT_MANAGER.version).toBe('v1.16.2');
  });

  it('counts every namespace it installs into as a system namespace', () => {
    for (const ns of [CERT_MANAGER.namespace, ...Object.values(PROVIDERS).map((p) => p.namespace)]) expect(isSystemNamespace(ns), ns).toBe(true);
  });
});
