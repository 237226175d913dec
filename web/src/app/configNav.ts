// The configuration screens in the navigation: one generic list/edit page per kind
// (pages/config/), shown to the roles whose permission row covers the kind.
export interface ConfigKind {
  kind: string
  label: string
  perm: string
  group: string
}

export const configKinds: ConfigKind[] = [
  { kind: 'event-sources', label: 'Event sources', perm: 'sources', group: 'Collect' },
  { kind: 'event-types', label: 'Event types', perm: 'event-types', group: 'Collect' },
  { kind: 'consent-types', label: 'Consent types', perm: 'consent-types', group: 'Collect' },
  { kind: 'segments', label: 'Segments', perm: 'segments', group: 'Automation' },
  { kind: 'rules', label: 'Rules', perm: 'rules', group: 'Automation' },
  { kind: 'schedules', label: 'Schedules', perm: 'schedules', group: 'Automation' },
  { kind: 'destinations', label: 'Destinations', perm: 'destinations', group: 'Automation' },
  { kind: 'report-definitions', label: 'Saved reports', perm: 'reports', group: 'Insight' },
]
