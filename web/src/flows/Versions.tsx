// The Versions tab: the flow's deployed versions (newest first, the one in production
// marked), each compared with the draft on the canvas node by node, and restored to
// production (a new version) or to the draft.
import { useEffect, useState } from 'react'
import { get, post } from '../api/client'
import { Confirm, ErrorText } from '../components/ui'
import { fmtTime } from '../lib/format'
import { diffGraphs, type GraphDiff } from './graph'
import type { Draft, Flow, Version, VersionInfo } from './types'

export function Versions({
  flowId,
  draft,
  dirty,
  tick,
  onRestoredToDraft,
  onDeployed,
}: {
  flowId: string
  draft: Draft
  dirty: boolean
  tick: number
  onRestoredToDraft: (f: Flow, version: number) => void
  onDeployed: (msg: string) => void
}) {
  const base = '/flows/' + encodeURIComponent(flowId)
  const [list, setList] = useState<{ current: number; items: VersionInfo[] } | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [open, setOpen] = useState<Version | null>(null)
  const [ask, setAsk] = useState<{ n: number; to: 'production' | 'draft' } | null>(null)
  const [reload, setReload] = useState(0)

  useEffect(() => {
    get<{ current: number; items: VersionInfo[] }>(base + '/versions').then(setList, setError)
  }, [base, tick, reload])

  const compare = async (n: number) => {
    try {
      setOpen(await get<Version>(`${base}/versions/${n}`))
    } catch (e) {
      setError(e)
    }
  }

  const restore = async (n: number, to: 'production' | 'draft') => {
    setAsk(null)
    setError(null)
    try {
      const v = await post<Version>(`${base}/versions/${n}/restore`, to === 'draft' ? { to: 'draft' } : {})
      if (to === 'draft') {
        onRestoredToDraft(await get<Flow>(base), n)
      } else {
        onDeployed(`Version ${n} is in production again, as version ${v.version}.`)
      }
      setReload((r) => r + 1)
    } catch (e) {
      setError(e)
    }
  }

  return (
    <div className="versions">
      <h2>Versions</h2>
      <ErrorText error={error} />
      {list && list.items.length === 0 && <p className="muted">Not deployed yet. Deploy puts the draft in production as version 1.</p>}
      {list && list.items.length > 0 && (
        <ul className="version-list">
          {list.items.map((v) => (
            <li key={v.version} className={open?.version === v.version ? 'current' : ''} data-version={v.version}>
              <div>
                <strong>Version {v.version}</strong> {v.current && <span className="tag">in production</span>}
                <div className="muted small">
                  {fmtTime(v.deployed_at)} {v.deployed_by && <>by {v.deployed_by}</>} · {v.nodes} nodes
                  {v.restored_from ? <> · restored from {v.restored_from}</> : null}
                </div>
              </div>
              <div className="row-actions">
                <button onClick={() => void compare(v.version)}>Compare with draft</button>
                {!v.current && <button onClick={() => setAsk({ n: v.version, to: 'production' })}>Restore to production</button>}
                <button onClick={() => setAsk({ n: v.version, to: 'draft' })}>Restore to draft</button>
              </div>
            </li>
          ))}
        </ul>
      )}
      {open && <DiffView version={open.version} diff={diffGraphs(open.graph, draft)} onClose={() => setOpen(null)} />}
      <Confirm
        open={ask !== null}
        title={ask?.to === 'draft' ? `Restore version ${ask?.n} to the draft?` : `Put version ${ask?.n} back in production?`}
        confirmLabel="Restore"
        onConfirm={() => ask && void restore(ask.n, ask.to)}
        onCancel={() => setAsk(null)}
      >
        {ask?.to === 'draft' ? (
          <p>
            The draft becomes version {ask?.n}'s graph; production is not touched.
            {dirty ? ' Your unsaved edits leave the canvas (Undo brings them back).' : ''}
          </p>
        ) : (
          <p>Version {ask?.n}'s graph is deployed again as a new version; rules run it at once. The draft is not touched.</p>
        )}
      </Confirm>
    </div>
  )
}

function DiffView({ version, diff, onClose }: { version: number; diff: GraphDiff; onClose: () => void }) {
  const changed = diff.nodes.filter((n) => n.status !== 'same')
  return (
    <section className="graph-diff" aria-label={`Version ${version} compared with the draft`}>
      <h3>
        Version {version} → draft{' '}
        <button className="link" onClick={onClose}>
          Close
        </button>
      </h3>
      {changed.length === 0 && diff.edgesAdded.length === 0 && diff.edgesRemoved.length === 0 && <p className="muted">Same graph (positions aside).</p>}
      <ul>
        {changed.map((n) => (
          <li key={n.id} className={'diff-' + n.status}>
            <code>{n.id}</code> ({n.type}): {n.status}
            {n.fields.length > 0 && <> — {n.fields.join(', ')}</>}
          </li>
        ))}
        {diff.edgesAdded.map((e) => (
          <li key={'+' + e} className="diff-added">
            edge <code>{e}</code>: added
          </li>
        ))}
        {diff.edgesRemoved.map((e) => (
          <li key={'-' + e} className="diff-removed">
            edge <code>{e}</code>: removed
          </li>
        ))}
      </ul>
    </section>
  )
}
