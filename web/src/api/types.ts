// Shapes of the API's answers the GUI reads (see docs/api.md and /api/v1/openapi.json).

export interface Me {
  id: string
  username: string
  name: string
  roles: string[]
  permissions: string[]
  token_expires: string
}

export interface Meta {
  id: string
  name: string
  description?: string
  enabled: boolean
  tags: string[]
  version: number
  created?: string
  updated?: string
  [k: string]: unknown
}

export interface Profile {
  id: string
  ids: string[]
  metadata: {
    time: Record<string, string>
    merged_into?: string
    merges?: { profile_id: string; time?: string; key?: string; [k: string]: unknown }[]
  }
  stats: Record<string, unknown> & { counters?: Record<string, number> }
  traits: Record<string, unknown> | null
  data: Record<string, unknown> | null
  segments: string[] | null
  interests: Record<string, number> | null
  consents: Record<string, unknown> | null
  active: boolean
  aux: Record<string, unknown> | null
}

export interface Session {
  id: string
  profile: { id: string }
  metadata: { time: Record<string, string> }
  [k: string]: unknown
}

export interface Event {
  id: string
  type: string
  source: { id: string }
  session: { id: string }
  profile: { id: string }
  metadata: { time: Record<string, string>; status?: string; [k: string]: unknown }
  properties?: Record<string, unknown>
  [k: string]: unknown
}

export interface Histogram {
  from: string
  to: string
  interval: string
  total: number
  buckets: { start: string; count: number }[]
}

export interface Breakdown {
  by: string
  items: { value: string; count: number }[]
}

export interface Job {
  id: string
  kind: string
  status: string
  total: number
  done: number
  error?: string
  created: string
  started: string
  finished: string
  counters?: Record<string, number>
}
