/** `GET /assets/broker.css`: the consent pages' stylesheet (anonymous, long-cached). @module */
import './telemetry.js';
import { app } from '@azure/functions';
import { stylesheetReply } from '../src/http/pages/stylesheet.js';

app.http('assetsBrokerCss', {
  methods: ['GET'],
  route: 'assets/broker.css',
  authLevel: 'anonymous',
  handler: () => stylesheetReply(),
});
