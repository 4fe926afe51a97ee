/**
 * The support console's webhooks page (issue 22): each endpoint, a disabled one shown as such, and its delivery
 * log.
 * @module
 */
import type { WebhookDelivery, WebhookEndpoint } from '../../webhooks/store.js';
import { frame, when, type ConsoleFrame } from './console-pages.js';
import type { Page } from './document.js';
import { html, joinHtml } from './html.js';

export interface WebhooksInput {
  readonly frame: ConsoleFrame;
  readonly endpoints: readonly {
    readonly endpoint: WebhookEndpoint;
    /** Newest first. */
    readonly deliveries: readonly WebhookDelivery[];
  }[];
}

/** The webhook endpoints, a disabled one shown as such, and each one's delivery log. */
export function consoleWebhooksPage(input: WebhooksInput): Page {
  const sections = input.endpoints.map(({ endpoint: e, deliveries }) => {
    const rows = joinHtml(
      deliveries.map(
        (d) =>
          html`<tr>
            <td>${when(d.createdAt)}</td>
            <td><code>${d.type}</code></td>
            <td>${d.status}</td>
            <td>${d.attempts}</td>
            <td>${d.lastStatus ?? ''} ${d.lastError ?? ''}</td>
          </tr>`,
      ),
    );
    return html`<section>
      <h2><code>${e.url}</code></h2>
      <p class="status ${e.status === 'active' ? 'status-ok' : 'status-error'}">
        <span class="status-label">${e.status === 'active' ? 'Active' : 'Disabled'}</span>
        ${
          e.status === 'disabled'
            ? html` since ${when(e.disabledAt)}: a delivery failed for a whole day
                (${e.lastError ?? 'no answer'}). Enable it with
                <code>POST /api/webhooks/${e.id}/enable</code> once the receiver works.`
            : ''
        }
      </p>
      <p>Events: ${e.events.join(', ')}. Registered ${when(e.createdAt)} by ${e.createdBy}.</p>
      ${
        deliveries.length
          ? html`<div class="table-wrap">
              <table>
                <caption class="visually-hidden">
                  Deliveries to ${e.url}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Event at</th>
                    <th scope="col">Type</th>
                    <th scope="col">Delivery</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Last answer</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows}
                </tbody>
              </table>
            </div>`
          : html`<p>Nothing sent yet.</p>`
      }
    </section>`;
  });
  return {
    status: 200,
    wide: true,
    title: 'Webhooks',
    body: frame(
      input.frame,
      'webhooks',
      sections.length
        ? joinHtml(sections)
        : html`<p>No webhook endpoint. Register one with <code>POST /api/webhooks</code> (Broker.Admin).</p>`,
    ),
  };
}
