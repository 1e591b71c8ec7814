/**
 * The narrow port the simulated controllers use to read and write one virtual cluster's objects — the in-process
 * equivalent of a controller-runtime client. Implemented over the API server's in-memory store, so controllers
 * see exactly the objects, resourceVersions, finalizer semantics and errors that HTTP clients see.
 */
import type { KObject } from './types.ts';

export interface ListOptions {
  namespace?: string;
  /** Equality label selector. */
  labels?: Record<string, string>;
}

export interface Client {
  get<T extends KObject>(apiVersion: string, kind: string, name: string, namespace?: string): Promise<T | undefined>;
  list<T extends KObject>(apiVersion: string, kind: string, options?: ListOptions): Promise<T[]>;
  create<T extends KObject>(obj: KObject): Promise<T>;
  /** Replaces the main resource; the object's resourceVersion guards against lost updates (409). */
  update<T extends KObject>(obj: KObject): Promise<T>;
  /** Replaces the status subresource; resourceVersion-guarded. */
  updateStatus<T extends KObject>(obj: KObject): Promise<T>;
  mergePatch<T extends KObject>(apiVersion: string, kind: string, name: string, namespace: string | undefined, patch: unknown): Promise<T>;
  /** Server-side apply with `force` (controllers own their fields). */
  apply<T extends KObject>(obj: KObject, fieldManager: string): Promise<T>;
  /** Deletes; a missing object is not an error (controllers delete idempotently). */
  delete(apiVersion: string, kind: string, name: string, namespace?: string): Promise<void>;
}
