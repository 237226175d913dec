// The palette: every node type of GET /api/v1/flow-nodes, grouped by family and
// searchable. A type is dragged onto the canvas, or added with its button (keyboard).
import { useMemo, useState } from 'react'
import type { NodeInfo } from './types'

export const DRAG_TYPE = 'application/x-thamesthrive-node'

/** groupSpecs groups node types by category, in the registry's order, filtered by text. */
export function groupSpecs(specs: NodeInfo[], text: string): [string, NodeInfo[]][] {
  const q = text.trim().toLowerCase()
  const groups = new Map<string, NodeInfo[]>()
  for (const s of specs) {
    if (q && !`${s.id} ${s.name} ${s.description} ${s.category}`.toLowerCase().includes(q)) continue
    groups.set(s.category, [...(groups.get(s.category) ?? []), s])
  }
  return [...groups]
}

export function Palette({ specs, onAdd }: { specs: NodeInfo[]; onAdd: (type: string) => void }) {
  const [text, setText] = useState('')
  const groups = useMemo(() => groupSpecs(specs, text), [specs, text])
  return (
    <aside className="palette" aria-label="Node palette">
      <label className="sr-only" htmlFor="palette-search">
        Search nodes
      </label>
      <input id="palette-search" type="search" placeholder="Search nodes" value={text} onChange={(e) => setText(e.target.value)} />
      {groups.length === 0 && <p className="muted">No node matches.</p>}
      {groups.map(([cat, items]) => (
        <section key={cat}>
          <h3>{cat}</h3>
          <ul>
            {items.map((s) => (
              <li
                key={s.id}
                className="palette-item"
                draggable
                data-node-type={s.id}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DRAG_TYPE, s.id)
                  e.dataTransfer.effectAllowed = 'move'
                }}
                title={s.description}
              >
                <span className="palette-name">{s.name}</span>
                <span className="palette-desc">{s.description}</span>
                <button type="button" className="palette-add" aria-label={`Add ${s.name}`} onClick={() => onAdd(s.id)}>
                  +
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </aside>
  )
}
