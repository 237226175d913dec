// The debugger: runs the draft on the canvas (saved or not) through
// POST /api/v1/flows/{id}/debug with a stored event (searched for) or one written
// here, optionally against a given profile, and shows the result: the trace is drawn
// on the graph by the editor; here are the per-node table and the changes the run
// would make. Recent production runs (GET …/runs) open in the same view.
import { useCallback, useEffect, useState } from 'react'
import { get, post, type List } from '../api/client'
import { ConditionBox } from '../components/ConditionBox'
import { ErrorText, Field, Json } from '../components/ui'
import { ApiError, withoutField } from '../lib/errors'
import { fmtTime } from '../lib/format'
import type { Change, DebugResult, Draft, Trace } from './types'

interface EventRow {
  id: string
  type: string
  profile?: { id?: string }
  metadata?: { time?: { insert?: string } }
  properties?: Record<string, unknown>
}

const sample = JSON.stringify({ type: 'purchase', properties: { price: 150 } }, null, 2)

export function Debugger({
  flowId,
  draft,
  result,
  onResult,
  onSelect,
}: {
  flowId: string
  draft: Draft
  result: DebugResult | null
  onResult: (r: DebugResult | null) => void
  onSelect: (nodeId: string) => void
}) {
  const [mode, setMode] = useState<'write' | 'stored'>('write')
  const [text, setText] = useState(sample)
  const [where, setWhere] = useState('')
  const [whereError, setWhereError] = useState<string | undefined>()
  const [found, setFound] = useState<EventRow[] | null>(null)
  const [picked, setPicked] = useState<string>('')
  const [profileId, setProfileId] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<unknown>(null)
  const [jsonError, setJsonError] = useState<string | null>(null)

  const search = async () => {
    setWhereError(undefined)
    try {
      const r = await post<List<EventRow>>('/events/search', { where: where.trim() || undefined, limit: 20 })
      setFound(r.items)
      if (r.items.length && !r.items.some((x) => x.id === picked)) setPicked(r.items[0].id)
    } catch (e) {
      if (e instanceof ApiError && e.status === 400) setWhereError(withoutField(e.message, e.field))
      else setError(e)
    }
  }

  const run = async () => {
    setError(null)
    setJsonError(null)
    const body: Record<string, unknown> = { draft }
    if (mode === 'write') {
      try {
        body.event = JSON.parse(text)
      } catch (e) {
        setJsonError('The event is not valid JSON: ' + (e as Error).message)
        return
      }
    } else {
      if (!picked) {
        setJsonError('Search for a stored event and pick one first.')
        return
      }
      body.event_id = picked
    }
    if (profileId.trim()) body.profile_id = profileId.trim()
    setBusy(true)
    try {
      onResult(await post<DebugResult>('/flows/' + encodeURIComponent(flowId) + '/debug', body))
    } catch (e) {
      onResult(null)
      setError(e)
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="debugger">
      <h2>Debug the draft</h2>
      <p className="muted small">Runs what is on the canvas, saved or not. Nothing is stored; webhooks and e-mails are really sent.</p>
      <fieldset>
        <legend>Event</legend>
        <label className="check">
          <input type="radio" name="dbg-mode" checked={mode === 'write'} onChange={() => setMode('write')} /> Write one
        </label>
        <label className="check">
          <input type="radio" name="dbg-mode" checked={mode === 'stored'} onChange={() => setMode('stored')} /> A stored event
        </label>
        {mode === 'write' ? (
          <Field label="Event (JSON)" error={jsonError ?? undefined} help='type and properties; profile.id and session.id are optional.'>
            {(p) => <textarea {...p} className="code" rows={6} spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />}
          </Field>
        ) : (
          <>
            <ConditionBox
              label="Find events (condition)"
              value={where}
              onChange={setWhere}
              onSubmit={() => void search()}
              placeholder='type == "purchase"'
              error={whereError}
              rows={1}
            />
            <button type="button" onClick={() => void search()}>
              Search events
            </button>
            {jsonError && (
              <p className="error" role="alert">
                {jsonError}
              </p>
            )}
            {found && found.length === 0 && <p className="muted">No event matches.</p>}
            {found && found.length > 0 && (
              <ul className="event-picks">
                {found.map((ev) => (
                  <li key={ev.id}>
                    <label className="check">
                      <input type="radio" name="dbg-event" checked={picked === ev.id} onChange={() => setPicked(ev.id)} />
                      <span>
                        <strong>{ev.type}</strong> {fmtTime(ev.metadata?.time?.insert)} <code className="small">{ev.profile?.id}</code>
                      </span>
                    </label>
                  </li>
                ))}
              </ul>
            )}
          </>
        )}
      </fieldset>
      <Field label="Profile id (optional)" help="Run against this stored profile instead of the event's.">
        {(p) => <input {...p} type="text" value={profileId} onChange={(e) => setProfileId(e.target.value)} />}
      </Field>
      <div className="actions">
        <button className="primary" onClick={() => void run()} disabled={busy}>
          {busy ? 'Running…' : 'Run the draft'}
        </button>
      </div>
      <ErrorText error={error} />
      {result && <RunResult trace={result.trace} onSelect={onSelect} result={result} />}
    </div>
  )
}

function RunResult({ trace, result, onSelect }: { trace: Trace; result?: DebugResult; onSelect: (id: string) => void }) {
  return (
    <section className="run-result" aria-label="Run result">
      <h3>
        Run: <span className={'trace-status ' + trace.status}>{trace.status}</span> · {trace.steps} steps · {trace.duration_ms.toFixed(2)} ms
      </h3>
      {trace.error && (
        <p className="error" role="alert">
          {trace.error}
        </p>
      )}
      <table className="trace-table">
        <thead>
          <tr>
            <th scope="col">Node</th>
            <th scope="col">Status</th>
            <th scope="col">Ports out</th>
            <th scope="col">ms</th>
          </tr>
        </thead>
        <tbody>
          {trace.nodes.map((n) => (
            <tr key={n.node_id} className={n.error ? 'failed' : n.status}>
              <td>
                <button className="link" onClick={() => onSelect(n.node_id)}>
                  {n.node_id}
                </button>{' '}
                <span className="muted small">{n.type}</span>
                {n.error && <div className="error small">{n.error}</div>}
              </td>
              <td>{n.error ? 'failed' : n.status}</td>
              <td>{(n.ports ?? []).join(', ')}</td>
              <td>{n.status === 'skipped' ? '' : n.duration_ms.toFixed(3)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {result && (
        <>
          <Diff title="Profile changes" changes={result.profile_diff} />
          <Diff title="Session changes" changes={result.session_diff} />
          <Diff title="Event changes" changes={result.event_diff} />
          {result.response && Object.keys(result.response).length > 0 && (
            <>
              <h4>Tracker response</h4>
              <Json value={result.response} />
            </>
          )}
          {(result.ux?.length ?? 0) > 0 && (
            <>
              <h4>UX items</h4>
              <Json value={result.ux} />
            </>
          )}
          {(result.injected_events?.length ?? 0) > 0 && (
            <>
              <h4>Injected events</h4>
              <Json value={result.injected_events} />
            </>
          )}
          {(result.merge_keys?.length ?? 0) > 0 && (
            <>
              <h4>Merge requests</h4>
              <Json value={result.merge_keys} />
            </>
          )}
          <p className="muted small">
            Profile <code>{result.profile_id}</code>
          </p>
        </>
      )}
    </section>
  )
}

function show(v: unknown): string {
  return v === undefined ? '' : JSON.stringify(v)
}

function Diff({ title, changes }: { title: string; changes: Change[] }) {
  return (
    <>
      <h4>{title}</h4>
      {changes.length === 0 ? (
        <p className="muted small">None.</p>
      ) : (
        <table className="diff-table" aria-label={title}>
          <thead>
            <tr>
              <th scope="col">Path</th>
              <th scope="col">Change</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {changes.map((c) => (
              <tr key={c.path + c.op} className={'diff-' + c.op}>
                <td>
                  <code>{c.path}</code>
                </td>
                <td>{c.op}</td>
                <td>
                  <code>{show(c.before)}</code>
                </td>
                <td>
                  <code>{show(c.after)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  )
}

export function RecentRuns({
  flowId,
  shown,
  onShow,
  onSelect,
}: {
  flowId: string
  shown: Trace | null
  onShow: (t: Trace | null) => void
  onSelect: (id: string) => void
}) {
  const [runs, setRuns] = useState<Trace[] | null>(null)
  const [error, setError] = useState<unknown>(null)
  const load = useCallback(
    () =>
      get<List<Trace>>('/flows/' + encodeURIComponent(flowId) + '/runs?limit=50').then(
        (r) => {
          setRuns(r.items)
          setError(null)
        },
        setError,
      ),
    [flowId],
  )
  useEffect(() => {
    void load()
  }, [load])
  return (
    <div>
      <h2>Recent runs</h2>
      <p className="muted small">The last runs on real traffic kept by this server (at most 50; emptied by a restart). Open one to see it on the graph.</p>
      <button onClick={() => void load()}>Refresh</button>
      <ErrorText error={error} />
      {runs && runs.length === 0 && <p className="muted">No run yet: deploy the flow and create a rule that runs it.</p>}
      {runs && runs.length > 0 && (
        <ul className="runs">
          {runs.map((r) => (
            <li key={r.run_id} className={shown?.run_id === r.run_id ? 'current' : ''}>
              <button className="link" onClick={() => onShow(r)}>
                {fmtTime(r.started)}
              </button>{' '}
              <span className={'trace-status ' + r.status}>{r.status}</span> · v{r.flow_version} · {r.event_type} · {r.duration_ms.toFixed(2)} ms
              {r.error && <div className="error small">{r.error}</div>}
            </li>
          ))}
        </ul>
      )}
      {shown && <RunResult trace={shown} onSelect={onSelect} />}
    </div>
  )
}
