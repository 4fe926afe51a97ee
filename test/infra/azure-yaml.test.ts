/**
 * azure.yaml ties `azd up` together: the broker service is a function app deployed from the package folder that
 * its prepackage hook builds, and the hooks it names exist (the POSIX one executable: azd runs it by its shebang,
 * Azure/azure-dev:cli/azd/pkg/tools/bash/bash.go).
 * @module
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRepoFile, repoRoot } from './bicep.js';

const yaml = readRepoFile('azure.yaml');
const pkg = JSON.parse(readRepoFile('package.json')) as { scripts: Record<string, string> };

/** The value of `key:` at exactly `indent` spaces (the file is plain block YAML; no parser dependency). */
function values(key: string, indent: number): string[] {
  return [...yaml.matchAll(new RegExp(`^ {${indent}}${key}: (.+)$`, 'gm'))].map((m) => m[1]!.trim());
}

describe('azure.yaml', () => {
  it('deploys the repo as one function app service, prebuilt, from the package folder', async () => {
    expect(values('host', 4)).toEqual(['function']);
    expect(values('project', 4)).toEqual(['.']);
    expect(values('language', 4)).toEqual(['ts']);
    expect(values('remoteBuild', 4)).toEqual(['false']);
    const { PACKAGE_DIR } = await import('../../infra/scripts/package.mjs');
    expect(values('dist', 4)).toEqual([PACKAGE_DIR]);
  });

  it('builds the package before packaging with the package.json script', () => {
    expect(values('run', 10)).toEqual(['npm run package:azure', 'npm run package:azure']);
    expect(pkg.scripts['package:azure']).toBe('npm run build && node infra/scripts/package.mjs');
  });

  it('runs the postprovision scripts, which exist (the POSIX one executable)', () => {
    const scripts = values('run', 6);
    expect(scripts).toEqual(['infra/scripts/postprovision.sh', 'infra/scripts/postprovision.ps1']);
    for (const s of scripts) expect(statSync(join(repoRoot, s)).isFile()).toBe(true);
    expect(statSync(join(repoRoot, 'infra/scripts/postprovision.sh')).mode & 0o111).not.toBe(0);
  });

  it('points at the Bicep entry point and its parameters file', () => {
    expect(values('path', 2)).toEqual(['infra']);
    expect(values('module', 2)).toEqual(['main']);
    expect(statSync(join(repoRoot, 'infra/main.bicep')).isFile()).toBe(true);
    const params = JSON.parse(readRepoFile('infra/main.parameters.json')) as {
      parameters: Record<string, { value: string }>;
    };
    expect(params.parameters.environmentName?.value).toBe('${AZURE_ENV_NAME}');
    expect(params.parameters.location?.value).toBe('${AZURE_LOCATION}');
    // Every parameter given must be declared in main.bicep.
    const main = readRepoFile('infra/main.bicep');
    for (const name of Object.keys(params.parameters))
      expect(main).toMatch(new RegExp(`^param ${name} `, 'm'));
  });
});
