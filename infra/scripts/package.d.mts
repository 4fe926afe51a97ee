/** Types of package.mjs for the TypeScript tests (test/infra/package.test.ts) and the bench (bench/cold-start.ts). */
export declare const PACKAGE_DIR: string;
export declare const PACKAGE_MAIN: string;
export declare function buildPackage(options?: {
  root?: string;
  distRoot?: string;
  outDir?: string;
  /** BROKER_PROFILES_FILE (default: the environment's), copied into the package at the same relative path. */
  profilesFile?: string;
}): Promise<{ files: string[]; bytes: number }>;
