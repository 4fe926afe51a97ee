/**
 * Starts Azure Monitor (OpenTelemetry) when APPLICATIONINSIGHTS_CONNECTION_STRING is set. Every function
 * module imports this first, so that it runs before the rest of the app is loaded, whichever module the
 * worker loads first (src/adapters/telemetry/azure-monitor.ts).
 * @module
 */
import { startAzureMonitor } from '../src/adapters/telemetry/azure-monitor.js';
import { loadTelemetryConfigFromEnvironment } from '../src/config.js';

startAzureMonitor(loadTelemetryConfigFromEnvironment());
