// The side panel's Node tab: the selected node's name, its config form (with the API's
// error on the field it names), its documentation and examples, and what the shown
// run did in it (input, outputs, error, duration, log lines).
import { useEffect, useMemo, useState } from 'react'
import { post } from '../api/client'
import { Json } from '../components/ui'
import { ApiError, withoutField } from '../lib/errors'
import { ConfigForm } from './ConfigForm'
import { checkConfig } from './form'
import { configField, stable, type FlowEdge, type FlowNode } from './graph'
import type { NodeInfo, NodeTrace } from './types'

export function NodePanel({
  node,
  spec,
  selectedCount,
  edge,
  edgeError,
  error,
  trace,
  onConfig,
  onData,
  onDelete,
  onValid,
}: {
  node: FlowNode | null
  spec: NodeInfo | undefined
  selectedCount: number
  edge: FlowEdge | null
  edgeError?: string
  error?: { field: string; message: string }
  trace?: NodeTrace
  onConfig: (id: string, key: string, v: unknown) => void
  onData: (id: string, patch: Partial<FlowNode['data']>, key: string) => void
  onDelete: (id: string) => void
  onValid: (id: string) => void
}) {
  const local = useMemo(() => (node && spec ? checkConfig(spec.config_schema, node.data.config) : {}), [node, spec])
  const live = useNodeCheck(spec ? node?.data.type : undefined, node?.data.config)
  const nodeId = node?.id
  const valid = live !== null && live.message === null
  useEffect(() => {
    if (valid && error && nodeId) onValid(nodeId)
  }, [valid, error, nodeId, onValid])
  if (!node) {
    if (edge) {
      return (
        <div>
          <h2>Edge</h2>
          <p>
            From <code>{edge.source}</code> port <code>{edge.sourceHandle}</code> to <code>{edge.target}</code> port <code>{edge.targetHandle}</code>.
          </p>
          {edgeError && (
            <p className="error" role="alert">
              {edgeError}
            </p>
          )}
          <p className="muted small">Press Delete to remove it.</p>
        </div>
      )
    }
    return (
      <div className="muted">
        {selectedCount > 1 ? (
          <p>{selectedCount} nodes selected. Ctrl+C copies them, Delete removes them.</p>
        ) : (
          <>
            <p>Select a node to edit its settings.</p>
            <p className="small">
              Drag nodes from the palette, connect an output port (right) to an input port (left). Shift-drag selects several; Ctrl+C / Ctrl+V copy and
              paste; Delete removes; Ctrl+Z / Ctrl+Shift+Z undo and redo; Ctrl+S saves.
            </p>
          </>
        )}
      </div>
    )
  }
  // the API's check of the config on screen wins; until it answers, the browser's
  // own check and the error of the last save
  const props = spec?.config_schema.properties ?? {}
  let errs: Record<string, string> = {}
  let otherError: string | null = null
  const put = (field: string, message: string) => {
    const top = field.split(/[.[]/)[0]
    if (top && props[top]) errs[top] = message
    else otherError = (field ? field + ': ' : '') + message
  }
  if (live) {
    if (live.message !== null) put(configField(live.field) || live.field, live.message)
  } else {
    errs = { ...local }
    if (error) put(error.field, error.message)
  }
  return (
    <div className="node-panel">
      <h2>{spec?.name ?? node.data.type}</h2>
      <p className="muted small">
        <code>{node.data.type}</code> · id <code>{node.id}</code>
      </p>
      {otherError && (
        <p className="error" role="alert">
          {otherError}
        </p>
      )}
      {!spec && <p className="error">This node type is not in the registry: replace the node.</p>}
      <div className="field">
        <label htmlFor="node-label">Label</label>
        <input
          id="node-label"
          type="text"
          value={node.data.name ?? ''}
          placeholder={spec?.name}
          onChange={(e) => onData(node.id, { name: e.target.value || undefined }, 'name')}
        />
      </div>
      {spec && (
        <form className="node-form" onSubmit={(e) => e.preventDefault()} aria-label={`Settings of ${node.id}`}>
          <ConfigForm key={node.id} schema={spec.config_schema} value={node.data.config} errors={errs} onChange={(k, v) => onConfig(node.id, k, v)} />
          <p className={'small ' + (live ? (live.message === null ? 'ok' : 'error') : 'muted')} aria-live="polite">
            {live ? (live.message === null ? 'Settings are valid.' : 'Settings have an error.') : 'Checking the settings…'}
          </p>
        </form>
      )}
      {trace && <TraceDetails t={trace} />}
      {spec && (
        <details className="node-docs" open={!trace}>
          <summary>About this node</summary>
          <p>{spec.description}</p>
          {spec.documentation && <Doc text={spec.documentation} />}
          <p className="small">
            Inputs: {spec.inputs.map((p) => p.name).join(', ') || 'none'}. Outputs: {spec.outputs.map((p) => p.name).join(', ') || 'none'}.
          </p>
          <ul className="small">
            {spec.outputs.map((p) => (
              <li key={p.name}>
                <code>{p.name}</code>: {p.description}
              </li>
            ))}
          </ul>
          {spec.examples.length > 0 && Object.keys(spec.config_schema.properties ?? {}).length > 0 && (
            <div className="actions">
              {spec.examples.map((ex) => (
                <button
                  type="button"
                  key={ex.title}
                  onClick={() => {
                    for (const k of Object.keys(spec.config_schema.properties ?? {})) onConfig(node.id, k, ex.config[k])
                  }}
                >
                  Use example: {ex.title}
                </button>
              ))}
            </div>
          )}
        </details>
      )}
      <div className="actions">
        <button type="button" className="danger" onClick={() => onDelete(node.id)}>
          Delete node
        </button>
      </div>
    </div>
  )
}

/** Doc shows a node's documentation, with `code` spans. */
function Doc({ text }: { text: string }) {
  return (
    <p>
      {text.split('`').map((part, i) => (i % 2 ? <code key={i}>{part}</code> : <span key={i}>{part}</span>))}
    </p>
  )
}

export function TraceDetails({ t }: { t: NodeTrace }) {
  return (
    <section className="trace-details" aria-label="What the run did in this node">
      <h3>In the run</h3>
      <p>
        <strong className={'trace-status ' + (t.error ? 'failed' : t.status)}>{t.error ? 'failed' : t.status}</strong>
        {t.status !== 'skipped' && <> · {t.duration_ms.toFixed(3)} ms</>}
        {t.input_ports && t.input_ports.length > 0 && <> · in: {t.input_ports.join(', ')}</>}
        {t.ports && t.ports.length > 0 && <> · out: {t.ports.join(', ')}</>}
      </p>
      {t.error && (
        <p className="error" role="alert">
          {t.error}
        </p>
      )}
      {t.input !== undefined && (
        <>
          <h4>Input</h4>
          <Json value={t.input} label="Input" />
        </>
      )}
      {t.outputs && Object.keys(t.outputs).length > 0 && (
        <>
          <h4>Outputs</h4>
          <Json value={t.outputs} label="Outputs" />
        </>
      )}
      {t.logs && t.logs.length > 0 && (
        <>
          <h4>Log</h4>
          <pre className="json">{t.logs.join('\n')}</pre>
        </>
      )}
      {t.input === undefined && t.status !== 'skipped' && <p className="muted small">Production runs keep no inputs or outputs; debug the draft to see them.</p>}
    </section>
  )
}

interface Checked {
  key: string
  field: string
  message: string | null
}

/**
 * useNodeCheck asks the API whether a node's config is valid, 400 ms after it stops
 * changing (POST /api/v1/flow-nodes/{type}/check); null until the answer for this
 * very config has come.
 */
function useNodeCheck(type: string | undefined, config: Record<string, unknown> | undefined): Checked | null {
  const key = type && config ? type + '\u0000' + stable(config) : ''
  const [res, setRes] = useState<Checked | null>(null)
  useEffect(() => {
    if (!key || !type) return
    const ctl = new AbortController()
    const t = setTimeout(() => {
      post('/flow-nodes/' + encodeURIComponent(type) + '/check', { config }, { signal: ctl.signal }).then(
        () => setRes({ key, field: '', message: null }),
        (e: unknown) => {
          if (e instanceof ApiError && e.status === 400) setRes({ key, field: e.field ?? '', message: withoutField(e.message, e.field) })
        },
      )
    }, 400)
    return () => {
      clearTimeout(t)
      ctl.abort()
    }
    // config is part of key
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key])
  return res && res.key === key ? res : null
}
