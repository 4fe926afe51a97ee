/**
 * Keeps the sandbox's simulated cloud (tenants, consents, app secrets, the vault's secrets) in a file under
 * .data/, so that a restart of `npm start` finds the same cloud that Azurite's tables refer to: a consent
 * given yesterday is still there, and so are the keys the broker keeps in Key Vault.
 * @module
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { World, WorldSnapshot } from '../simulators/common/world.js';

/** Restores `world` from `path`; false when there is no file yet. A damaged file is an error naming it. */
export async function restoreWorld(world: World, path: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    world.restore(JSON.parse(text) as WorldSnapshot);
  } catch (err) {
    throw new Error(
      `the sandbox state in ${path} is damaged (${(err as Error).message}); remove it to seed the sandbox anew`,
      {
        cause: err,
      },
    );
  }
  return true;
}

export interface WorldSaver {
  /** Writes the world now if it changed since the last write. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Writes the world to `path` every `intervalMs` when it changed (atomically: a temp file, then rename). */
export function autosaveWorld(world: World, path: string, intervalMs = 1_000): WorldSaver {
  let last = '';
  let writing: Promise<void> = Promise.resolve();
  const flush = () => {
    writing = writing.then(async () => {
      const text = JSON.stringify(world.snapshot());
      if (text === last) return;
      await writeFile(`${path}.tmp`, text, { mode: 0o600 });
      await rename(`${path}.tmp`, path);
      last = text;
    });
    return writing;
  };
  const timer = setInterval(() => {
    flush().catch((err: unknown) => console.error(`sandbox: cannot save ${path}: ${(err as Error).message}`));
  }, intervalMs);
  timer.unref();
  return {
    flush,
    stop: async () => {
      clearInterval(timer);
      await flush();
    },
  };
}
