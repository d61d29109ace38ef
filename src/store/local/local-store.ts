/** The local store: collections as folders under one data directory (see store/collection.ts). */
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { CollectionNotFoundError } from '../../errors.js';
import { collectionExists, collectionPaths, validateCollectionName } from '../collection.js';
import { readManifest } from '../manifest.js';
import type { CollectionManifest } from '../manifest.js';
import type { Store } from '../port.js';
import { dropLocalCollection, localCollectionNames } from './folders.js';
import { LocalReader } from './local-reader.js';
import { LocalWriter } from './local-writer.js';

export class LocalStore implements Store {
  readonly dataDir: string;

  constructor(dataDir: string) {
    this.dataDir = resolve(dataDir);
  }

  get location(): string {
    return this.dataDir;
  }

  list(): Promise<string[]> {
    return localCollectionNames(this.dataDir);
  }

  async exists(name: string): Promise<boolean> {
    return collectionExists(this.dataDir, validateCollectionName(name));
  }

  async manifest(name: string): Promise<CollectionManifest> {
    const paths = collectionPaths(this.dataDir, validateCollectionName(name));
    if (!existsSync(paths.manifest)) throw new CollectionNotFoundError(name, this.dataDir);
    return readManifest(paths.manifest, name);
  }

  create(name: string, manifest: CollectionManifest): Promise<LocalWriter> {
    return LocalWriter.create(this.dataDir, name, manifest);
  }

  openReader(name: string, opts: { version?: number } = {}): Promise<LocalReader> {
    return LocalReader.open(this.dataDir, name, opts);
  }

  openWriter(name: string): Promise<LocalWriter> {
    return LocalWriter.open(this.dataDir, name);
  }

  drop(name: string): Promise<void> {
    return dropLocalCollection(this.dataDir, name);
  }
}
