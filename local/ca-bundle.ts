/**
 * NODE_EXTRA_CA_CERTS names one file, read once when a Node process starts. The broker must trust the
 * sandbox CA *and* any bundle the operator already passed in, so the two are written into one file.
 * @module
 */
import { readFile, writeFile } from 'node:fs/promises';

export async function writeCaBundle(
  path: string,
  sandboxCaPem: string,
  inherited: string | undefined,
): Promise<string> {
  let extra = '';
  if (inherited) {
    try {
      extra = await readFile(inherited, 'utf8');
    } catch (err) {
      throw new Error(
        `NODE_EXTRA_CA_CERTS names ${inherited}, which cannot be read: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
  await writeFile(path, `${extra.trimEnd()}${extra ? '\n' : ''}${sandboxCaPem}`);
  return path;
}
