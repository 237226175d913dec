// Export and import of flows as JSON files in the shape POST /api/v1/flows takes:
// {id, name, description, enabled, tags, draft: {nodes, edges}}. A deployed version's
// file ({graph: …}) or a bare graph ({nodes, edges}) imports too.
import type { Draft, Flow } from './types'

export interface FlowFile {
  id?: string
  name: string
  description?: string
  enabled?: boolean
  tags?: string[]
  draft: Draft
}

/** exportFile keeps what the API takes, not what it adds (version, dates). */
export function exportFile(f: Pick<Flow, 'id' | 'name' | 'description' | 'enabled' | 'tags' | 'draft'>): FlowFile {
  return { id: f.id, name: f.name, description: f.description ?? '', enabled: f.enabled, tags: f.tags ?? [], draft: f.draft }
}

/** parseImport reads an imported file; errors say what is wrong in words. */
export function parseImport(text: string, fallbackName: string): FlowFile {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    throw new Error('The file is not JSON: ' + (e as Error).message)
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('The file must hold a JSON object (a flow, as exported).')
  const o = v as Record<string, unknown>
  const graph = (o.draft ?? o.graph ?? (Array.isArray(o.nodes) ? { nodes: o.nodes, edges: o.edges ?? [] } : undefined)) as Draft | undefined
  if (!graph || typeof graph !== 'object' || !Array.isArray(graph.nodes)) throw new Error('The file has no draft: expected {"name", "draft": {"nodes": [...], "edges": [...]}}.')
  if (graph.edges !== undefined && !Array.isArray(graph.edges)) throw new Error('draft.edges must be a list.')
  const out: FlowFile = {
    name: typeof o.name === 'string' && o.name.trim() ? o.name : fallbackName,
    draft: { nodes: graph.nodes, edges: graph.edges ?? [] },
  }
  if (typeof o.id === 'string' && o.id) out.id = o.id
  else if (typeof o.flow_id === 'string' && o.flow_id) out.id = o.flow_id
  if (typeof o.description === 'string') out.description = o.description
  if (typeof o.enabled === 'boolean') out.enabled = o.enabled
  if (Array.isArray(o.tags)) out.tags = o.tags.filter((t): t is string => typeof t === 'string')
  return out
}

/** copyName is the name and id of a duplicate: "X (copy)", "x-copy", "x-copy-2", … */
export function copyOf(id: string, name: string, taken: Set<string>): { id: string; name: string } {
  let cid = `${id}-copy`
  for (let i = 2; taken.has(cid); i++) cid = `${id}-copy-${i}`
  return { id: cid.slice(0, 128), name: `${name} (copy)`.slice(0, 200) }
}

/** saveJson offers a value as a JSON file download. */
export function saveJson(filename: string, value: unknown): void {
  const blob = new Blob([JSON.stringify(value, null, 2) + '\n'], { type: 'application/json' })
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
