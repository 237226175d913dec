// The shapes of the workflow API (docs/workflows.md, GET /api/v1/openapi.json) that the
// flow editor uses.

export interface Position {
  x: number
  y: number
}

export interface DraftNode {
  id: string
  type: string
  name?: string
  config?: Record<string, unknown>
  position?: Position
}

export interface DraftEdge {
  id?: string
  source: string
  source_port: string
  target: string
  target_port: string
}

export interface Draft {
  nodes: DraftNode[]
  edges: DraftEdge[]
}

export interface Flow {
  id: string
  name: string
  description: string
  enabled: boolean
  tags: string[]
  version: number
  created?: string
  updated?: string
  draft: Draft
}

export interface Port {
  name: string
  description?: string
}

/** NodeSchema is the part of JSON Schema the node specs use (with their x- hints). */
export interface NodeSchema {
  type?: string
  title?: string
  description?: string
  properties?: Record<string, NodeSchema>
  required?: string[]
  items?: NodeSchema
  enum?: (string | number)[]
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  minItems?: number
  maxItems?: number
  pattern?: string
  format?: string
  default?: unknown
  examples?: unknown[]
  additionalProperties?: boolean | NodeSchema
  writeOnly?: boolean
  'x-type'?: string
  'x-secret'?: boolean
  'x-advanced'?: boolean
  'x-writable'?: boolean
}

export interface NodeInfo {
  id: string
  name: string
  category: string
  description: string
  documentation?: string
  start?: boolean
  inputs: Port[]
  outputs: Port[]
  config_schema: NodeSchema
  examples: { title: string; config: Record<string, unknown> }[]
}

export interface NodeTrace {
  node_id: string
  type: string
  status: string
  input_ports?: string[]
  input?: unknown
  ports: string[] | null
  outputs?: Record<string, unknown>
  duration_ms: number
  error?: string
  logs?: string[]
}

export interface Trace {
  run_id: string
  flow_id: string
  flow_version: number
  rule_id?: string
  event_id?: string
  event_type?: string
  profile_id?: string
  started: string
  duration_ms: number
  status: string
  error?: string
  steps: number
  nodes: NodeTrace[]
}

export interface Change {
  path: string
  op: 'add' | 'remove' | 'change'
  before?: unknown
  after?: unknown
}

export interface DebugResult {
  trace: Trace
  profile_id: string
  profile_diff: Change[]
  session_diff: Change[]
  event_diff: Change[]
  response?: Record<string, unknown>
  ux?: unknown[]
  merge_keys?: unknown[]
  injected_events?: unknown[]
}

export interface VersionInfo {
  version: number
  deployed_at: string
  deployed_by?: string
  restored_from?: number
  current: boolean
  nodes: number
}

export interface Version {
  flow_id: string
  version: number
  graph: Draft
  deployed_at: string
  deployed_by?: string
  restored_from?: number
}

export interface Rule {
  id: string
  name: string
  description?: string
  enabled: boolean
  event_type: string
  source_id?: string
  condition?: string
  flow_id: string
  version: number
}
