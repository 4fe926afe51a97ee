/** Types of package.mjs for the TypeScript tests (test/infra/package.test.ts). */
export declare const PACKAGE_DIR: string;
export declare function selectPackageFiles(options?: { root?: string; distRoot?: string }): string[];
