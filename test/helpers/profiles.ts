/** The problems parseProfiles names for a profiles document, or none when it is valid. @module */
import { parseProfiles, ProfilesError } from '../../src/profiles/profiles.js';

export function profileProblems(doc: unknown): string[] {
  try {
    parseProfiles(doc, 'test.json');
  } catch (err) {
    if (err instanceof ProfilesError) return [...err.problems];
    throw err;
  }
  return [];
}
