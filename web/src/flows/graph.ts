// The flow editor's pure logic: turning the API's draft into canvas nodes and edges
// and back, reading the node or edge an API error names, new ids, copy/paste, the
// diff between two graphs by node, and what a run's trace says about each edge.
import dagre from '@dagrejs/dagre'
import type { Edge, Node } from '@xyflow/react'
import type { Draft, DraftEdge, DraftNode, NodeInfo, NodeTrace, Trace } from './types'

export interface NodeData extends Record<string, unknown> {
  type: string
  name?: string
  config: Record<string, unknown>
}

export type FlowNode = Node<NodeData, 'flow'>
export type FlowEdge = Edge

/** edgeKey names an edge by its ends: a graph may not hold the same edge twice. */
export function edgeKey(e: { source: string; source_port: string; target: string; target_port: string }): string {
  return `${e.source}:${e.source_port}->${e.target}:${e.target_port}`
}

export const NODE_WIDTH = 200

/** nodeHeight is the height a node is drawn with: a header and a row per port. */
export function nodeHeight(spec: NodeInfo | undefined): number {
  const rows = spec ? Math.max(spec.inputs.length, spec.outputs.length, 1) : 1
  return 44 + rows * 22
}

/** toCanvas turns a draft into canvas nodes and edges (positions as saved). */
export function toCanvas(draft: Draft): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const nodes: FlowNode[] = (draft.nodes ?? []).map((n, i) => ({
    id: n.id,
    type: 'flow',
    position: n.position ? { x: n.position.x, y: n.position.y } : { x: 0, y: i * 100 },
    data: { type: n.type, ...(n.name ? { name: n.name } : {}), config: { ...(n.config ?? {}) } },
  }))
  const edges: FlowEdge[] = (draft.edges ?? []).map((e) => ({
    id: e.id || edgeKey(e),
    source: e.source,
    sourceHandle: e.source_port,
    target: e.target,
    targetHandle: e.target_port,
  }))
  return { nodes, edges }
}

/** needsLayout says whether a draft has nodes without a saved position (an import). */
export function needsLayout(draft: Draft): boolean {
  return (draft.nodes ?? []).some((n) => !n.position)
}

/** toDraft turns canvas nodes and edges into the draft the API takes. */
export function toDraft(nodes: FlowNode[], edges: FlowEdge[]): Draft {
  return {
    nodes: nodes.map((n) => {
      const d: DraftNode = { id: n.id, type: n.data.type }
      if (n.data.name) d.name = n.data.name
      d.config = { ...n.data.config }
      d.position = { x: Math.round(n.position.x), y: Math.round(n.position.y) }
      return d
    }),
    edges: edges.map((e) => {
      const d: DraftEdge = { source: e.source, source_port: e.sourceHandle ?? '', target: e.target, target_port: e.targetHandle ?? '' }
      if (e.id !== edgeKey(d)) d.id = e.id
      return d
    }),
  }
}

/** layout places nodes left to right in the order edges run (dagre). */
export function layout(nodes: FlowNode[], edges: FlowEdge[], specs: Map<string, NodeInfo>): FlowNode[] {
  const g = new dagre.graphlib.Graph()
  g.setGraph({ rankdir: 'LR', nodesep: 40, ranksep: 80, marginx: 20, marginy: 20 })
  g.setDefaultEdgeLabel(() => ({}))
  for (const n of nodes) g.setNode(n.id, { width: NODE_WIDTH, height: nodeHeight(specs.get(n.data.type)) })
  for (const e of edges) if (g.hasNode(e.source) && g.hasNode(e.target)) g.setEdge(e.source, e.target)
  dagre.layout(g)
  return nodes.map((n) => {
    const p = g.node(n.id)
    const h = nodeHeight(specs.get(n.data.type))
    return { ...n, position: { x: Math.round(p.x - NODE_WIDTH / 2), y: Math.round(p.y - h / 2) } }
  })
}

/** ErrorTarget is what an API error's field names in a draft. */
export type ErrorTarget =
  | { kind: 'node'; id: string; path: string }
  | { kind: 'edge'; index: number; path: string }
  | { kind: 'flow'; path: string }

/**
 * errorTarget reads the field of a 400 answer to a flow's save or deploy:
 * draft.nodes[n2].config.condition is node n2's field "condition" (path "config.condition"),
 * draft.edges[3].source_port edge 3; anything else (name, draft) the flow itself.
 */
export function errorTarget(field: string | undefined): ErrorTarget | null {
  if (!field) return null
  let m = /^draft\.nodes\[([^\]]*)\](?:\.(.*))?$/.exec(field)
  if (m) return { kind: 'node', id: m[1], path: m[2] ?? '' }
  m = /^draft\.edges\[(\d+)\](?:\.(.*))?$/.exec(field)
  if (m) return { kind: 'edge', index: Number(m[1]), path: m[2] ?? '' }
  return { kind: 'flow', path: field }
}

/** configField is the config field a node error's path names ('' for none). */
export function configField(path: string): string {
  return path.startsWith('config.') ? path.slice('config.'.length) : ''
}

/** newNodeId gives a node of type t an id no node holds: if-1, if-2, … */
export function newNodeId(t: string, taken: Iterable<string>): string {
  const have = new Set(taken)
  const base = t.replace(/[^A-Za-z0-9._-]/g, '-')
  for (let i = 1; ; i++) {
    const id = `${base}-${i}`
    if (!have.has(id)) return id
  }
}

/** defaultConfig is a node type's config with its spec's defaults filled in. */
export function defaultConfig(spec: NodeInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, s] of Object.entries(spec.config_schema.properties ?? {})) {
    if (s.default !== undefined) out[k] = structuredClone(s.default)
  }
  return out
}

export interface Clip {
  nodes: FlowNode[]
  edges: FlowEdge[]
}

/** copySelection keeps the selected nodes and the edges between them. */
export function copySelection(nodes: FlowNode[], edges: FlowEdge[]): Clip {
  const sel = nodes.filter((n) => n.selected)
  const ids = new Set(sel.map((n) => n.id))
  return {
    nodes: sel.map((n) => structuredClone({ ...n, selected: false })),
    edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => ({ ...e, selected: false })),
  }
}

/** paste gives the clip's nodes new ids (edges follow), moved by offset and selected. */
export function paste(clip: Clip, taken: Iterable<string>, offset = 40): Clip {
  const have = new Set(taken)
  const ids = new Map<string, string>()
  const nodes = clip.nodes.map((n) => {
    const id = newNodeId(n.data.type, have)
    have.add(id)
    ids.set(n.id, id)
    return {
      ...structuredClone(n),
      id,
      selected: true,
      position: { x: n.position.x + offset, y: n.position.y + offset },
    }
  })
  const edges = clip.edges.map((e) => {
    const d = { source: ids.get(e.source)!, source_port: e.sourceHandle ?? '', target: ids.get(e.target)!, target_port: e.targetHandle ?? '' }
    return { id: edgeKey(d), source: d.source, sourceHandle: d.source_port, target: d.target, targetHandle: d.target_port, selected: true }
  })
  return { nodes, edges }
}

export interface NodeDiff {
  id: string
  type: string
  status: 'added' | 'removed' | 'changed' | 'same'
  /** config keys (and "type", "name") that differ */
  fields: string[]
}

export interface GraphDiff {
  nodes: NodeDiff[]
  edgesAdded: string[]
  edgesRemoved: string[]
}

/** diffGraphs compares graph `from` (e.g. a version) with `to` (e.g. the draft) by node. */
export function diffGraphs(from: Draft, to: Draft): GraphDiff {
  const a = new Map((from.nodes ?? []).map((n) => [n.id, n]))
  const b = new Map((to.nodes ?? []).map((n) => [n.id, n]))
  const nodes: NodeDiff[] = []
  for (const [id, n] of a) {
    const m = b.get(id)
    if (!m) {
      nodes.push({ id, type: n.type, status: 'removed', fields: [] })
      continue
    }
    const fields: string[] = []
    if (n.type !== m.type) fields.push('type')
    if ((n.name ?? '') !== (m.name ?? '')) fields.push('name')
    const ca = n.config ?? {}
    const cb = m.config ?? {}
    for (const k of [...new Set([...Object.keys(ca), ...Object.keys(cb)])].sort()) {
      if (stable(ca[k]) !== stable(cb[k])) fields.push('config.' + k)
    }
    nodes.push({ id, type: m.type, status: fields.length ? 'changed' : 'same', fields })
  }
  for (const [id, m] of b) if (!a.has(id)) nodes.push({ id, type: m.type, status: 'added', fields: [] })
  const ka = new Set((from.edges ?? []).map(edgeKey))
  const kb = new Set((to.edges ?? []).map(edgeKey))
  return {
    nodes,
    edgesAdded: [...kb].filter((k) => !ka.has(k)),
    edgesRemoved: [...ka].filter((k) => !kb.has(k)),
  }
}

/** stable is JSON with object keys sorted, for comparing configs. */
export function stable(v: unknown): string {
  return JSON.stringify(v, (_, x) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as object).sort(([p], [q]) => (p < q ? -1 : 1))) : x,
  ) ?? 'undefined'
}

export interface TraceView {
  nodes: Map<string, NodeTrace>
  /** edges (by canvas id) a value went along */
  taken: Set<string>
}

/**
 * traceView says per node what a run did and which edges carried a value: an edge was
 * taken when its source node emitted on its port and its target received on its port.
 */
export function traceView(trace: Trace | null | undefined, edges: FlowEdge[]): TraceView {
  const nodes = new Map<string, NodeTrace>()
  for (const n of trace?.nodes ?? []) nodes.set(n.node_id, n)
  const taken = new Set<string>()
  for (const e of edges) {
    const s = nodes.get(e.source)
    const t = nodes.get(e.target)
    if (!s || !t || t.status === 'skipped') continue
    if (!(s.ports ?? []).includes(e.sourceHandle ?? '')) continue
    if (t.input_ports && !t.input_ports.includes(e.targetHandle ?? '')) continue
    taken.add(e.id)
  }
  return { nodes, taken }
}

/** sameGraph says whether two drafts hold the same nodes, configs, positions and edges. */
export function sameGraph(a: Draft, b: Draft): boolean {
  return stable(normal(a)) === stable(normal(b))
}

function normal(d: Draft): Draft {
  return {
    nodes: (d.nodes ?? []).map((n) => ({ ...n, config: n.config ?? {}, name: n.name || undefined })),
    edges: (d.edges ?? []).map((e) => ({ ...e, id: e.id && e.id !== edgeKey(e) ? e.id : undefined })),
  }
}
