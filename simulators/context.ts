/**
 * What every simulator is built from: the shared World, the Entra signing keys, and the base URLs of its
 * siblings (known once they listen, hence getters).
 * @module
 */
import type { TokenKeys } from './common/tokens.js';
import type { World } from './common/world.js';

export interface SimContext {
  readonly world: World;
  readonly keys: TokenKeys;
  readonly urls: SimUrls;
}

export interface SimUrls {
  /** e.g. https://localhost:41234 — stands for https://login.microsoftonline.com */
  readonly entra: string;
  /** stands for https://graph.microsoft.com */
  readonly graph: string;
  /** stands for https://{vault}.vault.azure.net */
  readonly keyVault: string;
}
