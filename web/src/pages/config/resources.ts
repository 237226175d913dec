// The configuration resources the GUI edits, each with the JSON Schema its form is
// rendered from and validated against (the API checks again and has the last word;
// its 400s name the same field paths).
import type { Schema } from '../../lib/schema'

export interface ResourceDef {
  kind: string
  base: string
  label: string
  single: string
  perm: string
  schema: Schema
  /** extra list columns: field path and label */
  columns: { path: string; label: string }[]
}

const ID: Schema = {
  type: 'string',
  title: 'Id',
  description: 'Optional: letters, digits, ".", "_" or "-"; generated when left empty. Cannot change later.',
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$',
  'x-readonly-after-create': true,
}
const NAME: Schema = { type: 'string', title: 'Name', minLength: 1, maxLength: 200 }
const DESCRIPTION: Schema = { type: 'string', title: 'Description', maxLength: 10000, 'x-widget': 'textarea' }
const ENABLED: Schema = { type: 'boolean', title: 'Enabled', default: true }
const TAGS: Schema = { type: 'array', title: 'Tags', items: { type: 'string', minLength: 1, maxLength: 100 } }

function meta(props: Record<string, Schema>, required: string[] = []): Schema {
  return {
    type: 'object',
    required: ['name', ...required],
    properties: { id: ID, name: NAME, description: DESCRIPTION, ...props, enabled: ENABLED, tags: TAGS },
  }
}

export const resources: ResourceDef[] = [
  {
    kind: 'event-sources',
    base: '/event-sources',
    label: 'Event sources',
    single: 'event source',
    perm: 'sources',
    columns: [{ path: 'type', label: 'Type' }],
    schema: meta(
      {
        type: { type: 'string', enum: ['rest', 'webhook'], default: 'rest', description: 'rest: /track and /collect; webhook: /collect only' },
        allowed_origins: {
          type: 'array',
          title: 'Allowed origins',
          items: { type: 'string' },
          description: 'Web pages that may send to this source (https://shop.example.com, https://*.example.com, *); empty allows every origin.',
        },
      },
      ['type'],
    ),
  },
  {
    kind: 'event-types',
    base: '/event-types',
    label: 'Event types',
    single: 'event type',
    perm: 'event-types',
    columns: [{ path: 'on_invalid', label: 'Invalid events' }],
    schema: meta({
      id: { ...ID, title: 'Event type', description: 'The event type this configures, e.g. purchase.' },
      on_invalid: {
        type: 'string',
        title: 'Events failing the schema',
        enum: ['reject', 'store'],
        description: 'reject answers 422 and stores nothing; store keeps them marked invalid.',
      },
      schema: {
        type: 'object',
        title: 'JSON Schema of the properties',
        'x-widget': 'json',
        description: 'Draft 2020-12 unless $schema names another. Example: {"type":"object","required":["order_id"]}',
      },
      profile_mapping: {
        type: 'array',
        title: 'Profile mapping',
        description: 'Copies values of the event onto the profile, in order.',
        items: {
          type: 'object',
          required: ['to', 'op'],
          properties: {
            from: { type: 'string', title: 'From', description: 'e.g. event@properties.email (empty for increment or delete)' },
            op: { type: 'string', title: 'Operation', enum: ['equals', 'equals-if-not-exists', 'append', 'increment', 'delete'], default: 'equals' },
            to: { type: 'string', title: 'To', description: 'e.g. profile@data.contact.email.main or profile@traits.plan' },
            condition: { type: 'string', title: 'Only when', 'x-widget': 'condition' },
          },
        },
      },
    }),
  },
  {
    kind: 'consent-types',
    base: '/consent-types',
    label: 'Consent types',
    single: 'consent type',
    perm: 'consent-types',
    columns: [
      { path: 'default_value', label: 'Default' },
      { path: 'revokable', label: 'Revokable' },
    ],
    schema: meta({
      revokable: { type: 'boolean', title: 'Revokable' },
      default_value: { type: 'string', title: 'Default value', enum: ['grant', 'deny'], default: 'deny' },
      auto_revoke: { type: 'string', title: 'Revoke automatically after', description: 'ISO 8601 (P30D) or 720h; only for revokable consents' },
    }),
  },
  {
    kind: 'segments',
    base: '/segments',
    label: 'Segments',
    single: 'segment',
    perm: 'segments',
    columns: [
      { path: 'machine_name', label: 'Machine name' },
      { path: 'condition', label: 'Condition' },
    ],
    schema: meta(
      {
        condition: {
          type: 'string',
          title: 'Condition',
          'x-widget': 'condition',
          description: 'Over profile fields, e.g. stats.visits > 3 AND data.contact.email.main EXISTS',
        },
        event_types: { type: 'array', title: 'Re-check on event types', items: { type: 'string' }, description: 'Empty: after every event.' },
      },
      ['condition'],
    ),
  },
  {
    kind: 'rules',
    base: '/rules',
    label: 'Rules',
    single: 'rule',
    perm: 'rules',
    columns: [
      { path: 'event_type', label: 'Event type' },
      { path: 'flow_id', label: 'Flow' },
    ],
    schema: meta(
      {
        event_type: { type: 'string', title: 'Event type', minLength: 1 },
        source_id: { type: 'string', title: 'Source id', description: 'Only events of this source; empty: any source.' },
        condition: { type: 'string', title: 'Condition', 'x-widget': 'condition', description: 'Over event, session and profile; empty: always.' },
        flow_id: { type: 'string', title: 'Flow id', minLength: 1, description: 'The flow this rule starts.' },
      },
      ['event_type', 'flow_id'],
    ),
  },
  {
    kind: 'schedules',
    base: '/schedules',
    label: 'Schedules',
    single: 'schedule',
    perm: 'schedules',
    columns: [
      { path: 'cron', label: 'Cron (UTC)' },
      { path: 'flow_id', label: 'Flow' },
      { path: 'target', label: 'Target' },
      { path: 'next_run', label: 'Next run' },
    ],
    schema: meta(
      {
        cron: {
          type: 'string',
          title: 'Cron (UTC)',
          minLength: 1,
          description: 'minute hour day-of-month month day-of-week (0 9 * * 1: Mondays 09:00 UTC), @daily, @hourly or @every 15m',
        },
        flow_id: { type: 'string', title: 'Flow id', minLength: 1, description: 'The flow whose deployed version runs.' },
        target: {
          type: 'string',
          title: 'Target',
          enum: ['once', 'segment'],
          default: 'once',
          description: 'once: the flow runs once, without a profile; segment: once for every member of the segment.',
        },
        segment_id: { type: 'string', title: 'Segment id', description: 'With target segment: whose members the flow runs for.' },
        next_run: { type: 'string', title: 'Next run', readOnly: true, description: 'When it fires next (computed by the server).' },
      },
      ['cron', 'flow_id'],
    ),
  },
  {
    kind: 'destinations',
    base: '/destinations',
    label: 'Destinations',
    single: 'destination',
    perm: 'destinations',
    columns: [{ path: 'webhook.url', label: 'URL' }],
    schema: meta(
      {
        type: { type: 'string', enum: ['webhook'], default: 'webhook' },
        events: { type: 'boolean', title: 'Send events' },
        profiles: { type: 'boolean', title: 'Send profiles' },
        filter: { type: 'string', title: 'Filter', 'x-widget': 'condition', description: 'Only what meets this condition (event@ by default).' },
        template: { type: 'string', title: 'Body template', 'x-widget': 'code', description: 'With {{scope@path}} placeholders; empty: the document.' },
        concurrency: { type: 'integer', title: 'Concurrency', minimum: 1, maximum: 64, description: 'Deliveries at once per worker process (default 4).' },
        rate_limit: { type: 'number', title: 'Rate limit', minimum: 0, maximum: 100000, description: 'Deliveries per second per worker process; empty or 0: no cap.' },
        webhook: {
          type: 'object',
          title: 'Webhook',
          required: ['url'],
          properties: {
            url: { type: 'string', title: 'URL', pattern: '^https?://' },
            method: { type: 'string', title: 'Method', enum: ['POST', 'PUT', 'PATCH'], default: 'POST' },
            timeout: { type: 'string', title: 'Timeout', default: '5s', description: '100ms to 60s' },
            headers: { type: 'object', title: 'Headers', 'x-widget': 'json', description: '{"X-Api-Key": "…"}' },
            auth: {
              type: 'object',
              title: 'Authentication',
              properties: {
                type: { type: 'string', title: 'Type', enum: ['none', 'basic', 'bearer'], default: 'none' },
                username: { type: 'string', title: 'Username' },
                password: { type: 'string', title: 'Password', 'x-widget': 'password', description: 'Stored encrypted; ******** keeps the stored one.' },
                token: { type: 'string', title: 'Token', 'x-widget': 'password', description: 'Stored encrypted; ******** keeps the stored one.' },
              },
            },
          },
        },
      },
      ['webhook'],
    ),
  },
  {
    kind: 'report-definitions',
    base: '/report-definitions',
    label: 'Saved reports',
    single: 'saved report',
    perm: 'reports',
    columns: [{ path: 'kind', label: 'Kind' }],
    schema: meta(
      {
        kind: { type: 'string', title: 'Kind', enum: ['events-histogram', 'events-breakdown', 'profiles-new', 'sessions-active'], default: 'events-histogram' },
        params: {
          type: 'object',
          title: 'Parameters',
          description: 'Those of the kind: histogram range, interval, where; breakdown range, by, limit, where; profiles-new range, interval; sessions-active within.',
          properties: {
            range: { type: 'string', title: 'Range', description: '24h, 7d, 30d…' },
            interval: { type: 'string', title: 'Interval', enum: ['1m', '1h', '1d', '1w'] },
            by: { type: 'string', title: 'Break down by', enum: ['type', 'source', 'channel', 'device_type', 'os', 'country'] },
            limit: { type: 'integer', title: 'Limit', minimum: 1, maximum: 1000 },
            where: { type: 'string', title: 'Where', 'x-widget': 'condition' },
            within: { type: 'string', title: 'Within', description: 'sessions-active: 30m, 1h…' },
          },
        },
      },
      ['kind'],
    ),
  },
]

export function resourceOf(kind: string): ResourceDef | undefined {
  return resources.find((r) => r.kind === kind)
}
