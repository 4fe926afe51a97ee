/**
 * `GET /assets/broker.css` (the pages' stylesheet) and `GET /assets/console.js` (the support console's copy
 * buttons): src/http/routes/customers.ts.
 * @module
 */
import './telemetry.js';
import { consoleScriptReply } from '../src/http/pages/console-script.js';
import { stylesheetReply } from '../src/http/pages/stylesheet.js';
import { assetRoutes } from '../src/http/routes/customers.js';
import { registerRoutes } from './routes.js';

registerRoutes(assetRoutes, {
  assetsBrokerCss: () => stylesheetReply(),
  assetsConsoleJs: () => consoleScriptReply(),
});
