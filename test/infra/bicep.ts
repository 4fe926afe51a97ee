/**
 * Just enough Bicep reading for the infra checks, with no Bicep compiler at hand: comments removed (outside
 * strings), a bracketed block found by its opening text, and `key: value` pairs read from it. Each helper fails
 * loudly when what it looks for is missing, so that a renamed property makes a check fail rather than pass vacuously.
 * @module
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../..');

export function readRepoFile(path: string): string {
  return readFileSync(resolve(repoRoot, path), 'utf8');
}

/** The Bicep file's text with `//` and block comments removed (single-quoted strings are kept intact). */
export function readBicep(path: string): string {
  return stripComments(readRepoFile(path));
}

export function stripComments(text: string): string {
  let out = '';
  let i = 0;
  let inString = false;
  while (i < text.length) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === "'") inString = false;
      i++;
    } else if (c === "'") {
      inString = true;
      out += c;
      i++;
    } else if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * The text between the bracket that follows the first occurrence of `opening` (e.g. `appSettings: [`) and its
 * matching closing bracket.
 */
export function block(text: string, opening: string, from = 0): string {
  const start = text.indexOf(opening, from);
  if (start < 0) throw new Error(`not found: ${opening}`);
  const open = start + opening.length - 1;
  const openChar = text[open];
  const closeChar = openChar === '[' ? ']' : openChar === '{' ? '}' : undefined;
  if (!closeChar) throw new Error(`"${opening}" must end with [ or {`);
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\')
        i++; // an escaped character, e.g. \' inside a string
      else if (c === "'") inString = false;
      continue;
    }
    if (c === "'") inString = true;
    else if (c === openChar) depth++;
    else if (c === closeChar && --depth === 0) return text.slice(open + 1, i);
  }
  throw new Error(`unbalanced brackets after: ${opening}`);
}

/** Every block opened by a line starting with `resource <symbol> '<type>@…'`, by symbolic name. */
export function resources(text: string, type: string): Map<string, string> {
  const found = new Map<string, string>();
  const pattern = new RegExp(
    `^resource (\\w+) '${type.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}@[^']+'[^\\n]*$`,
    'gm',
  );
  for (const m of text.matchAll(pattern)) {
    const line = m[0];
    const opening = line.slice(0, line.lastIndexOf('{') + 1);
    if (!opening) throw new Error(`resource ${m[1]} does not open a body on its line`);
    found.set(m[1]!, block(text, opening, m.index));
  }
  return found;
}

/** The names of `{ name: 'X', value: … }` entries of the `var baseAppSettings = [` array. */
export function appSettingNames(text: string): string[] {
  const settings = block(text, 'var baseAppSettings = [');
  return [...settings.matchAll(/\{\s*name:\s*'([^']+)'\s*[,\n]\s*value:/g)].map((m) => m[1]!);
}

/** The raw value expressions of `key: value` lines, in order (`value` trimmed, up to the end of the line). */
export function propertyValues(text: string, key: string): string[] {
  const pattern = new RegExp(`(?:^|[\\s{,])${key}:\\s*([^\\n]+?)\\s*(?:\\}|$)`, 'gm');
  return [...text.matchAll(pattern)].map((m) => m[1]!.replace(/,$/, '').trim());
}

/** The single value of `key` in `text`; throws when it is absent or given more than once. */
export function propertyValue(text: string, key: string): string {
  const values = propertyValues(text, key);
  if (values.length !== 1) throw new Error(`expected exactly one "${key}:", found ${values.length}`);
  return values[0]!;
}

/** `var name = '…'` string variables. */
export function stringVars(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^var (\w+) = '([^']*)'\s*$/gm)].map((m) => [m[1]!, m[2]!]));
}
