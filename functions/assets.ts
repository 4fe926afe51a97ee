/** `GET /assets/broker.css`: the consent pages' stylesheet (src/http/routes/customers.ts). @module */
import './telemetry.js';
import { stylesheetReply } from '../src/http/pages/stylesheet.js';
import { assetRoutes } from '../src/http/routes/customers.js';
import { registerRoutes } from './routes.js';

registerRoutes(assetRoutes, { assetsBrokerCss: () => stylesheetReply() });
