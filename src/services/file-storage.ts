import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ModuleContext } from '../context';

/**
 * Where attached files live: the host's `storage` capability when it offers one, else a folder (config.filesDir,
 * FILES_DIR, default ./data/files). Keys are random (128 bits, hex) and chosen by the module, never a user's file name;
 * in the folder a key `abcdef...` is stored as `ab/cd/abcdef...`.
 */
export interface FileStorage {
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  /** The bytes, or null when the key holds nothing. */
  get(key: string): Promise<Buffer | null>;
  /** Deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
}

const KEY = /^[0-9a-f]{32}$/;

export function newStorageKey(): string {
  return crypto.randomBytes(16).toString('hex');
}

function checkKey(key: string): string {
  if (!KEY.test(key)) throw new Error('invalid storage key');
  return key;
}

export class FolderStorage implements FileStorage {
  constructor(private readonly root: string) {}

  pathOf(key: string): string {
    checkKey(key);
    return path.join(this.root, key.slice(0, 2), key.slice(2, 4), key);
  }

  async put(key: string, data: Buffer): Promise<void> {
    const file = this.pathOf(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    // Written under a temporary name, then renamed: a key never holds half a file.
    const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    try {
      await fs.writeFile(temp, data, { flag: 'wx', mode: 0o640 });
      await fs.rename(temp, file);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      return await fs.readFile(this.pathOf(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }
}

class HostStorage implements FileStorage {
  constructor(private readonly storage: NonNullable<ModuleContext['host']['storage']>) {}
  async put(key: string, data: Buffer, contentType: string): Promise<void> {
    await this.storage.put(checkKey(key), data, contentType);
  }
  get(key: string): Promise<Buffer | null> {
    return this.storage.get(checkKey(key));
  }
  delete(key: string): Promise<void> {
    return this.storage.delete(checkKey(key));
  }
}

const cache = new WeakMap<ModuleContext, FileStorage>();

/** The storage of this install: the host's if it has one, else the folder. */
export function fileStorage(ctx: ModuleContext): FileStorage {
  let storage = cache.get(ctx);
  if (!storage) {
    storage = ctx.host.storage ? new HostStorage(ctx.host.storage) : new FolderStorage(ctx.config.filesDir);
    cache.set(ctx, storage);
  }
  return storage;
}
