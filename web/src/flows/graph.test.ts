import { describe, expect, it } from 'vitest'
import {
  configField,
  copySelection,
  defaultConfig,
  diffGraphs,
  edgeKey,
  errorTarget,
  layout,
  needsLayout,
  newNodeId,
  paste,
  sameGraph,
  toCanvas,
  toDraft,
  traceView,
  type FlowNode,
} from './graph'
import { History } from './history'
import type { Draft, NodeInfo, Trace } from './types'

const draft: Draft = {
  nodes: [
    { id: 'n1', type: 'start', config: {}, position: { x: 0, y: 0 } },
    { id: 'n2', type: 'if', name: 'Big order?', config: { condition: 'event@properties.price > 100' }, position: { x: 260.4, y: 10 } },
    { id: 'n3', type: 'add-segment', config: { segment: 'big' }, position: { x: 520, y: -40 } },
  ],
  edges: [
    { source: 'n1', source_port: 'payload', target: 'n2', target_port: 'payload' },
    { id: 'mine', source: 'n2', source_port: 'true', target: 'n3', target_port: 'payload' },
  ],
}

const spec = (id: string, inputs: string[], outputs: string[], props: NodeInfo['config_schema']['properties'] = {}): NodeInfo => ({
  id,
  name: id,
  category: 'Flow',
  description: '',
  inputs: inputs.map((name) => ({ name })),
  outputs: outputs.map((name) => ({ name })),
  config_schema: { type: 'object', properties: props },
  examples: [],
})
const specs = new Map([
  ['start', spec('start', [], ['payload'])],
  ['if', spec('if', ['payload'], ['true', 'false'])],
  ['add-segment', spec('add-segment', ['payload'], ['payload'])],
])

describe('draft <-> canvas', () => {
  it('round-trips a draft (positions rounded, edge ids kept only when set)', () => {
    const { nodes, edges } = toCanvas(draft)
    expect(nodes[1].data).toEqual({ type: 'if', name: 'Big order?', config: { condition: 'event@properties.price > 100' } })
    expect(edges[0]).toMatchObject({ id: 'n1:payload->n2:payload', sourceHandle: 'payload', targetHandle: 'payload' })
    expect(edges[1].id).toBe('mine')
    const back = toDraft(nodes, edges)
    expect(back.nodes[1].position).toEqual({ x: 260, y: 10 })
    expect(back.edges[0].id).toBeUndefined()
    expect(back.edges[1].id).toBe('mine')
    expect(sameGraph(back, { ...draft, nodes: draft.nodes.map((n) => ({ ...n, position: n.position && { x: Math.round(n.position.x), y: n.position.y } })) })).toBe(true)
  })

  it('lays out imported graphs without positions left to right', () => {
    const imported: Draft = { nodes: draft.nodes.map(({ position: _, ...n }) => n), edges: draft.edges }
    expect(needsLayout(imported)).toBe(true)
    expect(needsLayout(draft)).toBe(false)
    const { nodes, edges } = toCanvas(imported)
    const placed = layout(nodes, edges, specs)
    const x = (id: string) => placed.find((n) => n.id === id)!.position.x
    expect(x('n1')).toBeLessThan(x('n2'))
    expect(x('n2')).toBeLessThan(x('n3'))
  })

  it('compares graphs regardless of key order and empty configs', () => {
    const a: Draft = { nodes: [{ id: 'a', type: 'x', config: { p: 1, q: { r: 2, s: 3 } } }], edges: [] }
    const b: Draft = { nodes: [{ id: 'a', type: 'x', config: { q: { s: 3, r: 2 }, p: 1 } }], edges: [] }
    expect(sameGraph(a, b)).toBe(true)
    expect(sameGraph(a, { nodes: [{ id: 'a', type: 'x', config: { p: 2 } }], edges: [] })).toBe(false)
    expect(sameGraph({ nodes: [{ id: 'a', type: 'x' }], edges: [] }, { nodes: [{ id: 'a', type: 'x', config: {} }], edges: [] })).toBe(true)
  })
})

describe('errorTarget', () => {
  const cases: [string | undefined, ReturnType<typeof errorTarget>][] = [
    ['draft.nodes[n2].config.condition', { kind: 'node', id: 'n2', path: 'config.condition' }],
    ['draft.nodes[add-segment.1].type', { kind: 'node', id: 'add-segment.1', path: 'type' }],
    ['draft.nodes[n2].id', { kind: 'node', id: 'n2', path: 'id' }],
    ['draft.nodes[n2]', { kind: 'node', id: 'n2', path: '' }],
    ['draft.edges[3]', { kind: 'edge', index: 3, path: '' }],
    ['draft.edges[12].source_port', { kind: 'edge', index: 12, path: 'source_port' }],
    ['name', { kind: 'flow', path: 'name' }],
    ['draft', { kind: 'flow', path: 'draft' }],
    [undefined, null],
  ]
  for (const [field, want] of cases) it(String(field), () => expect(errorTarget(field)).toEqual(want))
  it('names the config field', () => {
    expect(configField('config.condition')).toBe('condition')
    expect(configField('config.set.profile@traits.x')).toBe('set.profile@traits.x')
    expect(configField('type')).toBe('')
  })
})

describe('ids, defaults, copy and paste', () => {
  it('gives new ids no node holds', () => {
    expect(newNodeId('if', [])).toBe('if-1')
    expect(newNodeId('if', ['if-1', 'if-2', 'n1'])).toBe('if-3')
  })
  it('fills the spec defaults', () => {
    const s = spec('increment-counter', ['payload'], ['payload'], { counter: { type: 'string' }, by: { type: 'number', default: 1 }, tags: { type: 'array', default: ['a'] } })
    const c = defaultConfig(s)
    expect(c).toEqual({ by: 1, tags: ['a'] })
    ;(c.tags as string[]).push('b')
    expect(s.config_schema.properties!.tags.default).toEqual(['a'])
  })
  it('pastes the selection with new ids and the edges between copied nodes only', () => {
    const { nodes, edges } = toCanvas(draft)
    const sel: FlowNode[] = nodes.map((n) => ({ ...n, selected: n.id !== 'n1' }))
    const clip = copySelection(sel, edges)
    expect(clip.nodes.map((n) => n.id)).toEqual(['n2', 'n3'])
    expect(clip.edges.map((e) => e.id)).toEqual(['mine'])
    const out = paste(clip, nodes.map((n) => n.id))
    expect(out.nodes.map((n) => n.id)).toEqual(['if-1', 'add-segment-1'])
    expect(out.nodes[0].position).toEqual({ x: 300.4, y: 50 })
    expect(out.nodes[0].data.config).toEqual({ condition: 'event@properties.price > 100' })
    expect(out.nodes[0].data.config).not.toBe(clip.nodes[0].data.config)
    expect(out.edges).toEqual([
      { id: 'if-1:true->add-segment-1:payload', source: 'if-1', sourceHandle: 'true', target: 'add-segment-1', targetHandle: 'payload', selected: true },
    ])
    // a second paste does not reuse the first one's ids
    const again = paste(clip, [...nodes.map((n) => n.id), ...out.nodes.map((n) => n.id)])
    expect(again.nodes.map((n) => n.id)).toEqual(['if-2', 'add-segment-2'])
  })
})

describe('diffGraphs', () => {
  it('lists nodes added, removed and changed with the fields that differ, and edges', () => {
    const to: Draft = {
      nodes: [
        { id: 'n1', type: 'start', config: {}, position: { x: 5, y: 5 } },
        { id: 'n2', type: 'if', config: { condition: 'event@properties.price > 200' } },
        { id: 'n4', type: 'increment-counter', config: { counter: 'c' } },
      ],
      edges: [{ source: 'n1', source_port: 'payload', target: 'n2', target_port: 'payload' }, { source: 'n2', source_port: 'true', target: 'n4', target_port: 'payload' }],
    }
    const d = diffGraphs(draft, to)
    expect(d.nodes).toEqual([
      { id: 'n1', type: 'start', status: 'same', fields: [] },
      { id: 'n2', type: 'if', status: 'changed', fields: ['name', 'config.condition'] },
      { id: 'n3', type: 'add-segment', status: 'removed', fields: [] },
      { id: 'n4', type: 'increment-counter', status: 'added', fields: [] },
    ])
    expect(d.edgesAdded).toEqual(['n2:true->n4:payload'])
    expect(d.edgesRemoved).toEqual(['n2:true->n3:payload'])
  })
})

describe('traceView', () => {
  it('marks the edges a value went along', () => {
    const { edges } = toCanvas({
      nodes: draft.nodes,
      edges: [...draft.edges, { source: 'n2', source_port: 'false', target: 'n3', target_port: 'payload' }],
    })
    const trace: Trace = {
      run_id: 'r', flow_id: 'f', flow_version: 0, started: '', duration_ms: 1, status: 'ok', steps: 3,
      nodes: [
        { node_id: 'n1', type: 'start', status: 'ok', ports: ['payload'], duration_ms: 0 },
        { node_id: 'n2', type: 'if', status: 'ok', input_ports: ['payload'], ports: ['true'], duration_ms: 0 },
        { node_id: 'n3', type: 'add-segment', status: 'ok', input_ports: ['payload'], ports: ['payload'], duration_ms: 0 },
      ],
    }
    const v = traceView(trace, edges)
    expect([...v.taken].sort()).toEqual(['mine', 'n1:payload->n2:payload'])
    expect(v.nodes.get('n2')!.ports).toEqual(['true'])
    const skipped = traceView({ ...trace, nodes: [trace.nodes[0], { ...trace.nodes[1], ports: ['false'] }, { ...trace.nodes[2], status: 'skipped' }] }, edges)
    expect([...skipped.taken]).toEqual(['n1:payload->n2:payload'])
    expect(traceView(null, edges).taken.size).toBe(0)
  })
  it('keys edges by their ends', () => {
    expect(edgeKey({ source: 'a', source_port: 'p', target: 'b', target_port: 'q' })).toBe('a:p->b:q')
  })
})

describe('History', () => {
  it('undoes and redoes, and a new change drops the redo list', () => {
    const h = new History<number>()
    let s = 0
    const change = (v: number, key: string | null = null) => {
      h.record(s, key)
      s = v
    }
    change(1)
    change(2)
    expect(h.canUndo).toBe(true)
    s = h.undo(s)!
    expect(s).toBe(1)
    s = h.undo(s)!
    expect(s).toBe(0)
    expect(h.undo(s)).toBeNull()
    s = h.redo(s)!
    expect(s).toBe(1)
    change(5)
    expect(h.canRedo).toBe(false)
    expect(h.redo(s)).toBeNull()
    s = h.undo(s)!
    expect(s).toBe(1)
  })
  it('coalesces changes with the same key into one step until broken', () => {
    const h = new History<string>()
    let s = ''
    for (const c of ['a', 'ab', 'abc']) {
      h.record(s, 'node n1 field x')
      s = c
    }
    expect(h.undo(s)).toBe('')
    s = 'abc'
    const h2 = new History<string>()
    h2.record('', 'k')
    h2.breakCoalescing()
    h2.record('a', 'k')
    expect(h2.undo('ab')).toBe('a')
    expect(h2.undo('a')).toBe('')
  })
  it('keeps at most limit steps', () => {
    const h = new History<number>(3)
    for (let i = 0; i < 5; i++) h.record(i)
    expect(h.undo(5)).toBe(4)
    expect(h.undo(4)).toBe(3)
    expect(h.undo(3)).toBe(2)
    expect(h.undo(2)).toBeNull()
  })
})
