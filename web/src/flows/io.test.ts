import { describe, expect, it } from 'vitest'
import { copyOf, exportFile, parseImport } from './io'
import type { Flow } from './types'

const flow: Flow = {
  id: 'big-spender',
  name: 'Big spender',
  description: 'd',
  enabled: true,
  tags: ['t'],
  version: 7,
  created: '2026-01-01T00:00:00Z',
  updated: '2026-01-02T00:00:00Z',
  draft: { nodes: [{ id: 'n1', type: 'start', position: { x: 1, y: 2 } }], edges: [] },
}

describe('export and import', () => {
  it('exports what the API takes and imports it back as it was', () => {
    const f = exportFile(flow)
    expect(f).toEqual({ id: 'big-spender', name: 'Big spender', description: 'd', enabled: true, tags: ['t'], draft: flow.draft })
    expect(parseImport(JSON.stringify(f), 'file')).toEqual(f)
  })
  it('takes a deployed version and a bare graph', () => {
    const v = { flow_id: 'big-spender', version: 2, graph: { nodes: [{ id: 'n1', type: 'start' }], edges: [] } }
    expect(parseImport(JSON.stringify(v), 'v2')).toEqual({ id: 'big-spender', name: 'v2', draft: v.graph })
    expect(parseImport(JSON.stringify({ nodes: [] }), 'bare')).toEqual({ name: 'bare', draft: { nodes: [], edges: [] } })
  })
  const bad: [string, RegExp][] = [
    ['not json', /not JSON/],
    ['[1]', /JSON object/],
    ['{"name": "x"}', /no draft/],
    ['{"draft": {"nodes": {}}}', /no draft/],
    ['{"draft": {"nodes": [], "edges": 3}}', /edges must be a list/],
  ]
  for (const [text, want] of bad) it('refuses ' + text, () => expect(() => parseImport(text, 'f')).toThrow(want))
})

describe('copyOf', () => {
  it('finds a free id and names the copy', () => {
    expect(copyOf('a', 'A', new Set())).toEqual({ id: 'a-copy', name: 'A (copy)' })
    expect(copyOf('a', 'A', new Set(['a-copy', 'a-copy-2']))).toEqual({ id: 'a-copy-3', name: 'A (copy)' })
  })
})
