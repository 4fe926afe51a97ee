/**
 * Server-rendered pages of the consent flow: the document and its headers, the page builders, the error
 * catalogue and the stylesheet. Builders take plain data and return a Page; `pageReply` makes it an HttpReply.
 * @module
 */
export { escapeHtml, html, joinHtml, safeHref, SafeHtml, type HtmlValue } from './html.js';
export { PAGE_CSP, PAGE_HEADERS, pageReply, type Page } from './document.js';
export {
  APPLICATION_ADMINISTRATOR,
  approverRolesFor,
  CLOUD_APPLICATION_ADMINISTRATOR,
  GLOBAL_ADMINISTRATOR,
  GRAPH_APP_ID,
  PRIVILEGED_ROLE_ADMINISTRATOR,
  type ApproverRole,
} from '../../consent/admin-roles.js';
export { landingPage, type LandingPageInput } from './landing-page.js';
export { confirmPage, type ConfirmPageInput } from './confirm-page.js';
export { permissionGroups, signInScopeList, useLabel } from './permission-list.js';
export { consentResultPage, type ConsentOutcome, type ConsentResultInput } from './result-page.js';
export {
  ERROR_REASONS,
  errorPage,
  errorPageFor,
  type ErrorDetails,
  type ErrorPageInput,
  type ErrorReason,
} from './error-pages.js';
export { BROKER_CSS, STYLESHEET_PATH, stylesheetReply } from './stylesheet.js';
