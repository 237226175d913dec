// How a node is drawn on the canvas: its name and type, its input ports on the left
// and output ports on the right (as the registry declares them), an error the API
// found in it, and what the last debug run did in it.
import { Handle, Position, type NodeProps } from '@xyflow/react'
import { createContext, memo, useContext } from 'react'
import type { FlowNode } from './graph'
import type { NodeInfo, NodeTrace } from './types'

export interface CanvasInfo {
  specs: Map<string, NodeInfo>
  errors: Map<string, string>
  trace: Map<string, NodeTrace> | null
}

export const CanvasContext = createContext<CanvasInfo>({ specs: new Map(), errors: new Map(), trace: null })

function FlowNodeViewImpl({ id, data, selected }: NodeProps<FlowNode>) {
  const { specs, errors, trace } = useContext(CanvasContext)
  const spec = specs.get(data.type)
  const error = errors.get(id)
  const t = trace?.get(id)
  const status = t ? (t.error ? 'failed' : t.status) : trace ? 'not-run' : ''
  const inputs = spec?.inputs ?? []
  const outputs = spec?.outputs ?? []
  const rows = Math.max(inputs.length, outputs.length, 1)
  const cls = ['fnode', selected ? 'selected' : '', error ? 'has-error' : '', status ? 'trace-' + status : ''].filter(Boolean).join(' ')
  return (
    <div className={cls} data-node-id={id} data-node-type={data.type} data-trace={status || undefined} title={spec?.description}>
      <div className="fnode-head">
        <strong>{data.name || spec?.name || data.type}</strong>
        <span className="fnode-type">
          {data.type} · {id}
        </span>
      </div>
      <div className="fnode-ports">
        {Array.from({ length: rows }, (_, i) => (
          <div className="fnode-row" key={i}>
            <span className="fnode-in">{inputs[i]?.name}</span>
            <span className={'fnode-out' + (t && outputs[i] && (t.ports ?? []).includes(outputs[i].name) ? ' taken' : '')}>{outputs[i]?.name}</span>
          </div>
        ))}
      </div>
      {inputs.map((p, i) => (
        <Handle
          key={'in-' + p.name}
          type="target"
          position={Position.Left}
          id={p.name}
          style={{ top: portY(i) }}
          title={`input ${p.name}: ${p.description ?? ''}`}
          data-port={'in:' + p.name}
        />
      ))}
      {outputs.map((p, i) => (
        <Handle
          key={'out-' + p.name}
          type="source"
          position={Position.Right}
          id={p.name}
          style={{ top: portY(i) }}
          title={`output ${p.name}: ${p.description ?? ''}`}
          data-port={'out:' + p.name}
        />
      ))}
      {!spec && <div className="fnode-error">Unknown node type</div>}
      {error && (
        <div className="fnode-error" role="alert">
          {error}
        </div>
      )}
      {t && (
        <div className="fnode-trace">
          {status}
          {t.status !== 'skipped' && ` · ${t.duration_ms.toFixed(2)} ms`}
          {t.error && <div className="fnode-error">{t.error}</div>}
        </div>
      )}
    </div>
  )
}

/** portY is the vertical centre of port row i, under the node's header. */
function portY(i: number): number {
  return 44 + i * 22 + 11
}

export const FlowNodeView = memo(FlowNodeViewImpl)
