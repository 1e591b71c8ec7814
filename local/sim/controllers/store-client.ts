/** The controllers' Client over one virtual cluster's in-memory ClusterStore. */
import { NotFoundError } from '../apiserver/errors.ts';
import type { ClusterStore, KubeObject } from '../apiserver/store.ts';
import type { Client, ListOptions } from './client.ts';
import type { KObject } from './types.ts';

export class StoreClient implements Client {
  readonly store: ClusterStore;
  readonly #manager: string;

  constructor(store: ClusterStore, fieldManager: string) {
    this.store = store;
    this.#manager = fieldManager;
  }

  /** A kind this cluster does not serve (CRD not installed) holds no objects; reads see none, as a lister would. */
  #serves(apiVersion: string, kind: string): boolean {
    try {
      this.store.kindOf(apiVersion, kind);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  async get<T extends KObject>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T | undefined> {
    if (!this.#serves(apiVersion, kind)) return undefined;
    return this.store.get({ apiVersion, kind, name, ...(namespace !== undefined ? { namespace } : {}) }) as T | undefined;
  }

  async list<T extends KObject>(apiVersion: string, kind: string, options: ListOptions = {}): Promise<T[]> {
    if (!this.#serves(apiVersion, kind)) return [];
    const labelSelector =
      options.labels === undefined
        ? undefined
        : Object.entries(options.labels).map(([key, value]) => ({ key, op: 'in' as const, values: [value] }));
    return this.store.list({
      apiVersion,
      kind,
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
      ...(labelSelector !== undefined ? { labelSelector } : {}),
    }) as unknown as T[];
  }

  async create<T extends KObject>(obj: KObject): Promise<T> {
    // Objects created with a status (a kubelet registering its Node) keep it, as create + status update would.
    return this.store.create(obj as unknown as KubeObject, { fieldManager: this.#manager, withStatus: obj.status !== undefined }) as unknown as T;
  }

  async update<T extends KObject>(obj: KObject): Promise<T> {
    return this.store.update(obj as unknown as KubeObject, { fieldManager: this.#manager }) as unknown as T;
  }

  async updateStatus<T extends KObject>(obj: KObject): Promise<T> {
    return this.store.updateStatus(obj as unknown as KubeObject, { fieldManager: this.#manager }) as unknown as T;
  }

  async mergePatch<T extends KObject>(apiVersion: string, kind: string, name: string, namespace: string | undefined, patch: unknown): Promise<T> {
    return this.store.mergePatch({ apiVersion, kind, name, ...(namespace !== undefined ? { namespace } : {}) }, patch, {
      fieldManager: this.#manager,
    }) as unknown as T;
  }

  async apply<T extends KObject>(obj: KObject, fieldManager: string): Promise<T> {
    return this.store.apply(obj as unknown as KubeObject, { fieldManager, force: true }) as unknown as T;
  }

  async delete(apiVersion: string, kind: string, name: string, namespace?: string): Promise<void> {
    const ref = { apiVersion, kind, name, ...(namespace !== undefined ? { namespace } : {}) };
    if (this.store.get(ref) === undefined) return;
    const current = this.store.get(ref);
    if (current?.metadata.deletionTimestamp !== undefined) return;
    this.store.delete(ref);
  }
}
