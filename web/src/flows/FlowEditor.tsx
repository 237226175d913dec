// The visual flow editor (/gui/flows/:id): palette, canvas (@xyflow/react), and a side
// panel with the selected node's form, the debugger, recent runs, versions and the
// flow's settings and rules. Loaded lazily: it is the only page that needs the canvas.
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  applyEdgeChanges,
  applyNodeChanges,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type NodeChange,
} from '@xyflow/react'
import '@xyflow/react/dist/style.css'
import './flows.css'
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react'
import { get, post, put, type List } from '../api/client'
import { useGet, useTitle } from '../app/hooks'
import { Link } from '../components/Link'
import { ErrorText, Loading } from '../components/ui'
import { ApiError, withoutField } from '../lib/errors'
import type { Params } from '../lib/router'
import { CanvasContext, FlowNodeView, type CanvasInfo } from './FlowNodeView'
import {
  configField,
  copySelection,
  defaultConfig,
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
  type Clip,
  type FlowEdge,
  type FlowNode,
} from './graph'
import { History } from './history'
import { DRAG_TYPE, Palette } from './Palette'
import { NodePanel } from './NodePanel'
import { Debugger, RecentRuns } from './Debugger'
import { Versions } from './Versions'
import { FlowSettings } from './FlowSettings'
import type { DebugResult, Draft, Flow, NodeInfo, Trace } from './types'

const nodeTypes = { flow: FlowNodeView }

interface Snapshot {
  nodes: FlowNode[]
  edges: FlowEdge[]
}

export interface GraphErrors {
  nodes: Map<string, { field: string; message: string }>
  edges: Map<string, string>
  flow: string | null
}

const noErrors: GraphErrors = { nodes: new Map(), edges: new Map(), flow: null }

type Tab = 'node' | 'debug' | 'runs' | 'versions' | 'flow'

export default function FlowEditorPage({ params }: { params: Params }) {
  const flow = useGet<Flow>('/flows/' + encodeURIComponent(params.id))
  const specs = useGet<List<NodeInfo>>('/flow-nodes')
  useTitle(flow.data ? flow.data.name + ' · Flow' : 'Flow')
  if (flow.error || specs.error) {
    return (
      <div>
        <p>
          <Link to="/flows">← Flows</Link>
        </p>
        <ErrorText error={flow.error ?? specs.error} />
      </div>
    )
  }
  if (!flow.data || !specs.data) return <Loading what="the flow" />
  return (
    <ReactFlowProvider>
      <Editor key={flow.data.id} initial={flow.data} specList={specs.data.items} />
    </ReactFlowProvider>
  )
}

function strip(nodes: FlowNode[], edges: FlowEdge[]): Snapshot {
  return { nodes: nodes.map((n) => ({ ...n, selected: false, dragging: false })), edges: edges.map((e) => ({ ...e, selected: false })) }
}

let clipboard: Clip | null = null

/** Kept is a copy of unsaved edits in sessionStorage. */
interface Kept {
  baseVersion: number
  name: string
  description: string
  draft: Draft
  at: string
}

function readKept(key: string, f: Flow): Kept | null {
  try {
    const k = JSON.parse(sessionStorage.getItem(key) ?? 'null') as Kept | null
    if (!k || !k.draft || !Array.isArray(k.draft.nodes) || !Array.isArray(k.draft.edges)) return null
    if (sameGraph(k.draft, f.draft) && k.name === f.name && k.description === f.description) return null
    return k
  } catch {
    return null
  }
}

function Editor({ initial, specList }: { initial: Flow; specList: NodeInfo[] }) {
  const specs = useMemo(() => new Map(specList.map((s) => [s.id, s])), [specList])
  const rf = useReactFlow<FlowNode, FlowEdge>()
  const laidOut = useRef(needsLayout(initial.draft))
  const start = useMemo(() => {
    const c = toCanvas(initial.draft)
    return laidOut.current ? { ...c, nodes: layout(c.nodes, c.edges, specs) } : c
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [])
  const [nodes, setNodes] = useState<FlowNode[]>(start.nodes)
  const [edges, setEdges] = useState<FlowEdge[]>(start.edges)
  const [meta, setMeta] = useState<Flow>(initial)
  const [saved, setSaved] = useState<Draft>(initial.draft)
  const [errors, setErrors] = useState<GraphErrors>(noErrors)
  const [conflict, setConflict] = useState<Flow | null>(null)
  const [busy, setBusy] = useState<string | null>(null)
  const [notice, setNotice] = useState<string | null>(laidOut.current ? 'This graph had no saved positions: it was laid out automatically. Save to keep them.' : null)
  const [failure, setFailure] = useState<unknown>(null)
  const [tab, setTab] = useState<Tab>('node')
  const [debug, setDebug] = useState<DebugResult | null>(null)
  const [runTrace, setRunTrace] = useState<Trace | null>(null)
  const [versionsTick, setVersionsTick] = useState(0)
  const [savedMeta, setSavedMeta] = useState({ name: initial.name, description: initial.description })
  const history = useRef(new History<Snapshot>())
  const [, setTick] = useState(0)
  const state = useRef<Snapshot>({ nodes, edges })
  state.current = { nodes, edges }

  const record = useCallback((key: string | null = null) => {
    history.current.record(strip(state.current.nodes, state.current.edges), key)
    setTick((t) => t + 1)
  }, [])

  const draft = useMemo(() => toDraft(nodes, edges), [nodes, edges])
  const dirty = !sameGraph(draft, saved) || meta.name !== savedMeta.name || meta.description !== savedMeta.description

  // Unsaved edits are kept in sessionStorage (gone with the tab and on sign-out), so
  // leaving the page, a reload or an expired session does not lose them.
  const keepKey = 'thamesthrive.flow-editor.' + initial.id
  const [kept, setKept] = useState<Kept | null>(() => readKept(keepKey, initial))
  useEffect(() => {
    if (kept) return // the user has not decided about the earlier edits yet
    const t = setTimeout(() => {
      if (dirty) {
        const k: Kept = { baseVersion: meta.version, name: meta.name, description: meta.description, draft, at: new Date().toISOString() }
        sessionStorage.setItem(keepKey, JSON.stringify(k))
      } else sessionStorage.removeItem(keepKey)
    }, 300)
    return () => clearTimeout(t)
  }, [kept, dirty, draft, meta, keepKey])
  const trace = debug?.trace ?? runTrace
  const tv = useMemo(() => (trace ? traceView(trace, edges) : null), [trace, edges])

  useEffect(() => {
    if (!dirty) return
    const warn = (e: BeforeUnloadEvent) => e.preventDefault()
    window.addEventListener('beforeunload', warn)
    return () => window.removeEventListener('beforeunload', warn)
  }, [dirty])

  const canvasInfo: CanvasInfo = useMemo(
    () => ({
      specs,
      errors: new Map([...errors.nodes].map(([id, e]) => [id, e.field ? `${e.field}: ${e.message}` : e.message])),
      trace: tv ? tv.nodes : null,
    }),
    [specs, errors, tv],
  )

  // the minimap draws nodes in their canvas state's colour
  const minimapColor = useCallback(
    (n: FlowNode) => {
      const t = tv?.nodes.get(n.id)
      if (errors.nodes.has(n.id) || t?.error || t?.status === 'failed') return '#b42318'
      if (t && t.status === 'ok') return '#1f7a3a'
      if (n.selected) return '#0b5cad'
      return tv ? '#d5dae0' : '#8b98a8'
    },
    [tv, errors],
  )

  const shownEdges = useMemo(
    () =>
      edges.map((e) => {
        const err = errors.edges.get(e.id)
        const taken = tv?.taken.has(e.id)
        const cls = [err ? 'edge-error' : '', taken ? 'edge-taken' : '', tv && !taken ? 'edge-idle' : ''].filter(Boolean).join(' ')
        return cls || err ? { ...e, className: cls, label: err } : e
      }),
    [edges, errors, tv],
  )

  const onNodesChange = useCallback((changes: NodeChange<FlowNode>[]) => setNodes((ns) => applyNodeChanges(changes, ns)), [])
  const onEdgesChange = useCallback((changes: EdgeChange<FlowEdge>[]) => setEdges((es) => applyEdgeChanges(changes, es)), [])

  const isValidConnection = useCallback(
    (c: Connection | FlowEdge) => {
      if (c.source === c.target) return false
      const key = edgeKey({ source: c.source, source_port: c.sourceHandle ?? '', target: c.target, target_port: c.targetHandle ?? '' })
      return !state.current.edges.some((e) => e.id === key)
    },
    [],
  )

  const onConnect = useCallback(
    (c: Connection) => {
      if (!c.sourceHandle || !c.targetHandle) return
      record()
      const d = { source: c.source, source_port: c.sourceHandle, target: c.target, target_port: c.targetHandle }
      setEdges((es) => [...es, { id: edgeKey(d), source: d.source, sourceHandle: d.source_port, target: d.target, targetHandle: d.target_port }])
    },
    [record],
  )

  const select = useCallback((id: string | null) => {
    setNodes((ns) => ns.map((n) => (n.selected === (n.id === id) ? n : { ...n, selected: n.id === id })))
    setEdges((es) => es.map((e) => (e.selected ? { ...e, selected: false } : e)))
  }, [])

  const addNode = useCallback(
    (type: string, position?: { x: number; y: number }) => {
      const spec = specs.get(type)
      if (!spec) return
      record()
      const id = newNodeId(type, state.current.nodes.map((n) => n.id))
      let pos = position
      if (!pos) {
        const el = document.querySelector('.flow-canvas')?.getBoundingClientRect()
        const c = el ? rf.screenToFlowPosition({ x: el.left + el.width / 2, y: el.top + el.height / 3 }) : { x: 0, y: 0 }
        const n = state.current.nodes.length
        pos = { x: c.x - 100 + (n % 5) * 20, y: c.y + (n % 5) * 20 }
      }
      const node: FlowNode = { id, type: 'flow', position: pos, selected: true, data: { type, config: defaultConfig(spec) } }
      setNodes((ns) => [...ns.map((n) => (n.selected ? { ...n, selected: false } : n)), node])
      setTab('node')
    },
    [specs, record, rf],
  )

  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(DRAG_TYPE)
      if (!type) return
      e.preventDefault()
      const p = rf.screenToFlowPosition({ x: e.clientX, y: e.clientY })
      addNode(type, { x: p.x - 100, y: p.y - 20 })
    },
    [rf, addNode],
  )

  const restore = useCallback((s: Snapshot) => {
    setNodes(s.nodes)
    setEdges(s.edges)
  }, [])
  const undo = useCallback(() => {
    const s = history.current.undo(strip(state.current.nodes, state.current.edges))
    if (s) restore(s)
    setTick((t) => t + 1)
  }, [restore])
  const redo = useCallback(() => {
    const s = history.current.redo(strip(state.current.nodes, state.current.edges))
    if (s) restore(s)
    setTick((t) => t + 1)
  }, [restore])

  const copy = useCallback(() => {
    const c = copySelection(state.current.nodes, state.current.edges)
    if (c.nodes.length) clipboard = c
    return c.nodes.length
  }, [])
  const pasteClip = useCallback(() => {
    if (!clipboard) return
    record()
    const p = paste(clipboard, state.current.nodes.map((n) => n.id))
    clipboard = { nodes: p.nodes.map((n) => ({ ...n, selected: false })), edges: p.edges }
    setNodes((ns) => [...ns.map((n) => ({ ...n, selected: false })), ...p.nodes])
    setEdges((es) => [...es.map((e) => ({ ...e, selected: false })), ...p.edges])
  }, [record])

  const autoLayout = useCallback(() => {
    record()
    setNodes((ns) => layout(ns, state.current.edges, specs))
    setTimeout(() => void rf.fitView({ padding: 0.2 }), 50)
  }, [record, specs, rf])

  const applyError = useCallback((e: unknown, sent: Draft) => {
    if (!(e instanceof ApiError) || e.status !== 400) return false
    const t = errorTarget(e.field)
    const message = withoutField(e.message, e.field)
    if (!t) {
      setErrors({ ...noErrors, flow: e.message })
    } else if (t.kind === 'node') {
      setErrors({ ...noErrors, nodes: new Map([[t.id, { field: configField(t.path) || t.path, message }]]) })
      select(t.id)
      setTab('node')
    } else if (t.kind === 'edge') {
      const se = sent.edges[t.index]
      const id = se ? se.id || edgeKey(se) : ''
      setErrors({ ...noErrors, edges: new Map([[id, (t.path ? t.path + ': ' : '') + message]]), flow: `Edge ${t.index + 1}: ${message}` })
    } else {
      setErrors({ ...noErrors, flow: e.message })
    }
    return true
  }, [select])

  const save = useCallback(
    async (over?: Flow): Promise<boolean> => {
      const sent = toDraft(state.current.nodes, state.current.edges)
      setBusy('Saving…')
      setFailure(null)
      setNotice(null)
      try {
        // over a newer stored version (after a 409): the graph is ours; name and
        // description too where we changed them, the rest is theirs
        const body = over
          ? {
              id: meta.id,
              name: meta.name !== savedMeta.name ? meta.name : over.name,
              description: meta.description !== savedMeta.description ? meta.description : over.description,
              enabled: over.enabled,
              tags: over.tags,
              version: over.version,
              draft: sent,
            }
          : { id: meta.id, name: meta.name, description: meta.description, enabled: meta.enabled, tags: meta.tags, version: meta.version, draft: sent }
        const f = await put<Flow>('/flows/' + encodeURIComponent(meta.id), body)
        setMeta(f)
        setSavedMeta({ name: f.name, description: f.description })
        setSaved(sent)
        setErrors(noErrors)
        setConflict(null)
        setNotice(`Draft saved (version ${f.version}).`)
        return true
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) {
          try {
            setConflict(await get<Flow>('/flows/' + encodeURIComponent(meta.id)))
          } catch (e2) {
            setFailure(e2)
          }
          return false
        }
        if (!applyError(e, sent)) setFailure(e)
        return false
      } finally {
        setBusy(null)
      }
    },
    [meta, savedMeta, applyError],
  )

  const deploy = useCallback(async () => {
    if (dirty && !(await save())) return
    setBusy('Deploying…')
    setFailure(null)
    try {
      const v = await post<{ version: number }>('/flows/' + encodeURIComponent(meta.id) + '/deploy')
      setErrors(noErrors)
      setNotice(`Deployed as version ${v.version}. Rules that run this flow now run it.`)
      setVersionsTick((t) => t + 1)
    } catch (e) {
      if (!applyError(e, toDraft(state.current.nodes, state.current.edges))) setFailure(e)
    } finally {
      setBusy(null)
    }
  }, [dirty, save, meta.id, applyError])

  /** loadDraft replaces the canvas with a draft from the server (undoable). */
  const loadFlow = useCallback(
    (f: Flow, msg: string) => {
      record()
      const c = toCanvas(f.draft)
      const ns = needsLayout(f.draft) ? layout(c.nodes, c.edges, specs) : c.nodes
      setNodes(ns)
      setEdges(c.edges)
      setMeta(f)
      setSavedMeta({ name: f.name, description: f.description })
      setSaved(f.draft)
      setConflict(null)
      setErrors(noErrors)
      setNotice(msg)
      setTimeout(() => void rf.fitView({ padding: 0.2 }), 50)
    },
    [record, specs, rf],
  )

  const keyHandler = useCallback(
    (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey
      if (!mod) return
      const k = e.key.toLowerCase()
      if (k === 's') {
        e.preventDefault()
        void save()
        return
      }
      const el = e.target as HTMLElement | null
      if (el && (el.closest('input, textarea, select, [contenteditable=true]') || !el.closest('.flow-editor'))) return
      if (k === 'z' && !e.shiftKey) {
        e.preventDefault()
        undo()
      } else if ((k === 'z' && e.shiftKey) || k === 'y') {
        e.preventDefault()
        redo()
      } else if (k === 'c') {
        if (copy()) e.preventDefault()
      } else if (k === 'v') {
        e.preventDefault()
        pasteClip()
      } else if (k === 'a') {
        e.preventDefault()
        setNodes((ns) => ns.map((n) => ({ ...n, selected: true })))
      }
    },
    [save, undo, redo, copy, pasteClip],
  )
  useEffect(() => {
    window.addEventListener('keydown', keyHandler)
    return () => window.removeEventListener('keydown', keyHandler)
  }, [keyHandler])

  const clearNodeError = useCallback(
    (id: string) =>
      setErrors((e) => {
        if (!e.nodes.has(id)) return e
        const nodes = new Map(e.nodes)
        nodes.delete(id)
        return { ...e, nodes, flow: nodes.size || e.edges.size ? e.flow : null }
      }),
    [],
  )

  const selectedNodes = nodes.filter((n) => n.selected)
  const selectedEdges = edges.filter((e) => e.selected)
  const current = selectedNodes.length === 1 ? selectedNodes[0] : null

  const setConfig = useCallback(
    (id: string, key: string, v: unknown) => {
      record(`cfg:${id}:${key}`)
      setNodes((ns) =>
        ns.map((n) => {
          if (n.id !== id) return n
          const config = { ...n.data.config }
          if (v === undefined) delete config[key]
          else config[key] = v
          return { ...n, data: { ...n.data, config } }
        }),
      )
    },
    [record],
  )
  const setNodeData = useCallback(
    (id: string, patch: Partial<FlowNode['data']>, key: string) => {
      record(`data:${id}:${key}`)
      setNodes((ns) => ns.map((n) => (n.id === id ? { ...n, data: { ...n.data, ...patch } } : n)))
    },
    [record],
  )

  return (
    <div className="flow-editor">
      <div className="flow-toolbar">
        <Link to="/flows">← Flows</Link>
        <h1>{meta.name}</h1>
        <span className={'flow-state' + (meta.enabled ? '' : ' off')}>{meta.enabled ? 'enabled' : 'disabled'}</span>
        <span className="muted small" aria-live="polite">
          {busy ?? (dirty ? 'Unsaved changes' : `Saved · version ${meta.version}`)}
        </span>
        <span className="spacer" />
        <button onClick={undo} disabled={!history.current.canUndo} title="Undo (Ctrl+Z)">
          Undo
        </button>
        <button onClick={redo} disabled={!history.current.canRedo} title="Redo (Ctrl+Shift+Z)">
          Redo
        </button>
        <button onClick={autoLayout} title="Arrange the nodes left to right">
          Auto-layout
        </button>
        <button className={dirty ? 'primary' : ''} onClick={() => void save()} disabled={busy !== null} title="Save the draft (Ctrl+S)">
          Save draft
        </button>
        <button onClick={() => void deploy()} disabled={busy !== null} title="Save, check and make this draft the production version">
          Deploy
        </button>
      </div>
      {kept && (
        <div className="note warn flow-banner" role="alert">
          <p>
            This tab has unsaved edits of this flow from {new Date(kept.at).toLocaleTimeString()}.
            {kept.baseVersion !== meta.version && ` The flow was saved since (version ${meta.version}; the edits were made on version ${kept.baseVersion}): saving them replaces that.`}
          </p>
          <div className="actions">
            <button
              className="primary"
              onClick={() => {
                record()
                const c = toCanvas(kept.draft)
                setNodes(needsLayout(kept.draft) ? layout(c.nodes, c.edges, specs) : c.nodes)
                setEdges(c.edges)
                setMeta((m) => ({ ...m, name: kept.name, description: kept.description }))
                setKept(null)
                setNotice('Your unsaved edits are back on the canvas; save them to keep them.')
              }}
            >
              Restore my unsaved edits
            </button>
            <button
              onClick={() => {
                sessionStorage.removeItem(keepKey)
                setKept(null)
              }}
            >
              Discard them
            </button>
          </div>
        </div>
      )}
      {conflict && (
        <div className="note warn flow-banner" role="alert">
          <p>
            Someone saved this flow since you opened it (it is at version {conflict.version}, yours was {meta.version}). Your edits are still here, not
            saved.
          </p>
          <div className="actions">
            <button className="primary" onClick={() => void save(conflict)}>
              Save mine over theirs
            </button>
            <button onClick={() => loadFlow(conflict, `Loaded version ${conflict.version}. Undo (Ctrl+Z) brings your edits back.`)}>Load theirs</button>
            <button onClick={() => setConflict(null)}>Decide later</button>
          </div>
        </div>
      )}
      {errors.flow && (
        <p className="error flow-banner" role="alert">
          Not saved: {errors.flow}
        </p>
      )}
      {failure ? (
        <div className="flow-banner">
          <ErrorText error={failure} />
        </div>
      ) : null}
      {notice && (
        <p className="note flow-banner" role="status">
          {notice}
        </p>
      )}
      <div className="flow-body">
        <Palette specs={specList} onAdd={(t) => addNode(t)} />
        <div className="flow-canvas" onDragOver={(e) => {
          if (e.dataTransfer.types.includes(DRAG_TYPE)) {
            e.preventDefault()
            e.dataTransfer.dropEffect = 'move'
          }
        }} onDrop={onDrop}>
          <CanvasContext.Provider value={canvasInfo}>
            <ReactFlow<FlowNode, FlowEdge>
              nodes={nodes}
              edges={shownEdges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onEdgesChange={onEdgesChange}
              onConnect={onConnect}
              isValidConnection={isValidConnection}
              onBeforeDelete={async () => {
                record()
                return true
              }}
              onNodeDragStart={() => record()}
              onSelectionDragStart={() => record()}
              deleteKeyCode={['Backspace', 'Delete']}
              multiSelectionKeyCode={['Meta', 'Control', 'Shift']}
              selectionKeyCode="Shift"
              fitView={start.nodes.length > 0}
              fitViewOptions={{ padding: 0.2, maxZoom: 1 }}
              minZoom={0.2}
              maxZoom={2}
              defaultEdgeOptions={{ type: 'default' }}
              proOptions={{ hideAttribution: true }}
            >
              <Background gap={16} />
              <MiniMap pannable zoomable ariaLabel="Minimap" nodeColor={minimapColor} />
              <Controls />
            </ReactFlow>
          </CanvasContext.Provider>
          {nodes.length === 0 && <p className="flow-empty muted">Drag a Start node from the palette to begin.</p>}
        </div>
        <aside className="flow-side" aria-label="Side panel">
          <div role="tablist" className="flow-tabs">
            {(
              [
                ['node', 'Node'],
                ['debug', 'Debug'],
                ['runs', 'Runs'],
                ['versions', 'Versions'],
                ['flow', 'Flow'],
              ] as [Tab, string][]
            ).map(([t, label]) => (
              <button key={t} role="tab" aria-selected={tab === t} className={tab === t ? 'active' : ''} onClick={() => setTab(t)}>
                {label}
              </button>
            ))}
          </div>
          <div className="flow-tab-body">
            {tab === 'node' && (
              <NodePanel
                node={current}
                spec={current ? specs.get(current.data.type) : undefined}
                selectedCount={selectedNodes.length}
                edge={selectedEdges.length === 1 && selectedNodes.length === 0 ? selectedEdges[0] : null}
                edgeError={selectedEdges.length === 1 ? errors.edges.get(selectedEdges[0].id) : undefined}
                error={current ? errors.nodes.get(current.id) : undefined}
                trace={current && tv ? tv.nodes.get(current.id) : undefined}
                onConfig={setConfig}
                onData={setNodeData}
                onValid={clearNodeError}
                onDelete={(id) => {
                  record()
                  setNodes((ns) => ns.filter((n) => n.id !== id))
                  setEdges((es) => es.filter((e) => e.source !== id && e.target !== id))
                }}
              />
            )}
            {tab === 'debug' && <Debugger flowId={meta.id} draft={draft} result={debug} onResult={(r) => {
              setRunTrace(null)
              setDebug(r)
            }} onSelect={(id) => {
              select(id)
              setTab('node')
            }} />}
            {tab === 'runs' && (
              <RecentRuns
                flowId={meta.id}
                shown={runTrace}
                onShow={(t) => {
                  setDebug(null)
                  setRunTrace(t)
                }}
                onSelect={(id) => {
                  select(id)
                  setTab('node')
                }}
              />
            )}
            {tab === 'versions' && (
              <Versions
                flowId={meta.id}
                draft={draft}
                dirty={dirty}
                tick={versionsTick}
                onRestoredToDraft={(f, n) => loadFlow(f, `Version ${n} restored to the draft. Undo (Ctrl+Z) brings back what was on the canvas.`)}
                onDeployed={(msg) => setNotice(msg)}
              />
            )}
            {tab === 'flow' && (
              <FlowSettings
                meta={meta}
                dirty={dirty}
                draft={draft}
                onMeta={(m) => setMeta((old) => ({ ...old, ...m }))}
                onEnabled={(f) => {
                  setMeta((old) => ({ ...old, enabled: f.enabled, version: old.version === f.version - 1 ? f.version : old.version }))
                  setNotice(f.enabled ? 'Flow enabled: rules run its deployed version.' : 'Flow disabled: no rule runs it.')
                }}
              />
            )}
          </div>
          {trace && (
            <div className="flow-trace-bar">
              <span>
                Showing {debug ? 'the debug run' : `run ${trace.run_id.slice(0, 8)}`}: <strong>{trace.status}</strong>, {trace.steps} steps,{' '}
                {trace.duration_ms.toFixed(2)} ms
              </span>
              <button
                className="link"
                onClick={() => {
                  setDebug(null)
                  setRunTrace(null)
                }}
              >
                Clear
              </button>
            </div>
          )}
        </aside>
      </div>
    </div>
  )
}
