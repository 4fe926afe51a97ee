/** The problems loadConfig names for a set of settings, or none when they are valid. @module */
import { ConfigError, loadConfig } from '../../src/config.js';

export function problemsOf(env: Record<string, string | undefined>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}
