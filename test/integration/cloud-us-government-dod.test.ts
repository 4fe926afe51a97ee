/** The broker with BROKER_CLOUD=AzureUSGovernmentDoD, against simulators behaving as that cloud (test/helpers/cloud-suite.ts). @module */
import { cloudSuite } from '../helpers/cloud-suite.js';

cloudSuite('AzureUSGovernmentDoD');
