/**
 * The wire shapes of webhooks (issue 22): an endpoint as support reads it (src/http/webhooks-api.ts), its secret
 * shown once at registration, and its deliveries (the delivery log). Part of the OpenAPI document's components
 * (schemas.ts).
 * @module
 */
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/store.js';
import { dateTime, guid, orNull } from './schema-parts.js';
import type { Schema } from './types.js';

const events: Schema = {
  type: 'array',
  uniqueItems: true,
  minItems: 1,
  items: { enum: [...WEBHOOK_EVENT_TYPES] },
  description: 'The events it gets.',
};

export function webhookSchemas(
  listOf: (item: string, description: string) => Schema,
): Record<string, Schema> {
  return {
    WebhookRequest: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: {
          type: 'string',
          format: 'uri',
          maxLength: 2048,
          description:
            'An https URL whose host resolves to public addresses only (no private, loopback or link-local ones).',
        },
        events: { ...events, description: 'The events it gets; absent: all.' },
      },
    },
    Webhook: {
      type: 'object',
      required: [
        'id',
        'url',
        'events',
        'status',
        'createdAt',
        'createdBy',
        'failures',
        'disabledAt',
        'lastError',
      ],
      properties: {
        id: guid,
        url: { type: 'string', format: 'uri' },
        events,
        status: {
          enum: ['active', 'disabled'],
          description: '`disabled` after a delivery failed for a whole day; `POST …/enable` resumes it.',
        },
        createdAt: dateTime,
        createdBy: { type: 'string' },
        failures: { type: 'integer', minimum: 0, description: 'Deliveries given up in a row.' },
        disabledAt: orNull(dateTime),
        lastError: orNull({ type: 'string' }),
      },
    },
    WebhookCreated: {
      type: 'object',
      required: ['id', 'url', 'events', 'status', 'secret'],
      properties: {
        id: guid,
        url: { type: 'string', format: 'uri' },
        events,
        status: { const: 'active' },
        secret: {
          type: 'string',
          pattern: '^whsec_[A-Za-z0-9+/]{43}=$',
          description:
            'The signing secret (Standard Webhooks: base64 after `whsec_`), shown only here; the broker keeps it sealed.',
        },
      },
    },
    WebhookDelivery: {
      type: 'object',
      required: [
        'eventId',
        'type',
        'status',
        'attempts',
        'createdAt',
        'nextAttemptAt',
        'lastStatus',
        'lastError',
      ],
      properties: {
        eventId: guid,
        type: { enum: [...WEBHOOK_EVENT_TYPES] },
        status: { enum: ['pending', 'delivered', 'failed'] },
        attempts: { type: 'integer', minimum: 0 },
        createdAt: dateTime,
        nextAttemptAt: dateTime,
        deliveredAt: orNull(dateTime),
        lastStatus: orNull({ type: 'integer' }),
        lastError: orNull({ type: 'string' }),
      },
    },
    WebhookWithDeliveries: {
      allOf: [
        { $ref: '#/components/schemas/Webhook' },
        {
          type: 'object',
          required: ['deliveries'],
          properties: {
            deliveries: {
              type: 'array',
              items: { $ref: '#/components/schemas/WebhookDelivery' },
              description: 'The newest deliveries, newest first (at most 50).',
            },
          },
        },
      ],
    },
    WebhookList: listOf('Webhook', 'The webhook endpoints.'),
  };
}
