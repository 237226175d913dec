import { useEffect, useState } from 'react'
import { post, type List } from '../../api/client'
import { useDebounced, useGet } from '../../app/hooks'
import { ErrorText, Table } from '../../components/ui'
import { fmtTime } from '../../lib/format'
import { ApiError, withoutField } from '../../lib/errors'
import { fmtNum } from '../../lib/format'
import { schemaProblems } from '../../lib/jsonedit'
import type { ResourceDef } from './resources'
import { curlExample, trackSnippet } from '../../lib/snippets'

type Doc = Record<string, unknown>

/** Extras is the side panel of an editor: what helps with that kind of resource. */
export function Extras({ def, doc, stored, creating }: { def: ResourceDef; doc: Doc; stored: Doc | null; creating: boolean }) {
  switch (def.kind) {
    case 'event-sources':
      return creating || !stored ? <p className="muted">Once created, the snippet and a curl example for this source appear here.</p> : <SourceSnippets source={stored} />
    case 'segments':
      return <LiveCount condition={(doc.condition as string) ?? ''} />
    case 'event-types':
      return <SchemaCheck schema={doc.schema} />
    case 'destinations':
      return creating || !stored ? <p className="muted">Once created, the delivery state, log and dead letters appear here.</p> : <Deliveries id={stored.id as string} />
  }
  return null
}

function Copyable({ label, text }: { label: string; text: string }) {
  const [copied, setCopied] = useState(false)
  return (
    <section>
      <h2>{label}</h2>
      <pre className="code" tabIndex={0} aria-label={label}>
        {text}
      </pre>
      <button
        type="button"
        aria-label={'Copy: ' + label}
        onClick={() =>
          navigator.clipboard?.writeText(text).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? 'Copied' : 'Copy'}
      </button>
    </section>
  )
}

function SourceSnippets({ source }: { source: Doc }) {
  const origin = window.location.origin
  const id = source.id as string
  return (
    <>
      {source.type !== 'webhook' && (
        <>
          <Copyable label="Snippet for your web pages" text={trackSnippet(origin, id)} />
          <p className="help">
            It loads the browser tracker and sends a page view on every page; <code>thamesthrive('track', type, properties)</code> sends your own
            events. Replace <code>{origin}</code> with the public address of your collectors if the console runs elsewhere, and add your site to the
            allowed origins.
          </p>
        </>
      )}
      <Copyable label="Try it with curl" text={curlExample(origin, id, source.type as string)} />
    </>
  )
}

/** LiveCount counts the profiles a condition selects while it is typed (debounced). */
function LiveCount({ condition }: { condition: string }) {
  const c = useDebounced(condition.trim(), 400)
  const [state, setState] = useState<{ count?: number; error?: string; busy?: boolean }>({})
  useEffect(() => {
    if (!c) {
      setState({})
      return
    }
    const ctl = new AbortController()
    setState((s) => ({ ...s, busy: true }))
    post<{ total: number }>('/profiles/search', { where: c, limit: 0, exact_total: true }, { signal: ctl.signal }).then(
      (r) => setState({ count: r.total }),
      (e: Error) => {
        if (e.name === 'AbortError') return
        setState({ error: e instanceof ApiError && e.field ? withoutField(e.message, e.field) : e.message })
      },
    )
    return () => ctl.abort()
  }, [c])
  return (
    <section aria-labelledby="live-count">
      <h2 id="live-count">Members now</h2>
      <p className="big" aria-live="polite" data-testid="live-count">
        {!c ? '—' : state.error ? '?' : state.count === undefined ? '…' : fmtNum(state.count)}
      </p>
      {state.error ? <p className="field-error">{state.error}</p> : <p className="muted">profiles meet the condition as typed</p>}
    </section>
  )
}

function SchemaCheck({ schema }: { schema: unknown }) {
  if (schema === undefined) return <p className="muted">Without a schema, events of this type are not validated.</p>
  const problems = schemaProblems(schema)
  return (
    <section aria-labelledby="schema-check">
      <h2 id="schema-check">Schema check</h2>
      {problems.length === 0 ? (
        <p className="ok">Looks like a JSON Schema. The server compiles it on save.</p>
      ) : (
        <ul className="field-error" role="alert">
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
    </section>
  )
}

interface DeliveryStatus {
  paused: boolean
  reason?: string
  since?: string
  queued: number
  dead_letters: number
}

interface Attempt {
  item: string
  attempt: number
  time: string
  outcome: string
  status?: number
  latency_ms: number
  error?: string
}

interface DeadLetter {
  id: string
  kind: string
  queued: string
  attempts: number
  error: string
}

/** Deliveries shows a destination's delivery state, recent attempts and dead letters. */
function Deliveries({ id }: { id: string }) {
  const base = '/destinations/' + encodeURIComponent(id)
  const status = useGet<DeliveryStatus>(base + '/status', 10_000)
  const log = useGet<List<Attempt>>(base + '/deliveries?limit=20', 10_000)
  const dead = useGet<List<DeadLetter>>(base + '/dead-letters?limit=20', 10_000)
  const [error, setError] = useState<unknown>(null)
  const act = (path: string) =>
    post(base + path).then(
      () => {
        setError(null)
        status.reload()
        dead.reload()
        log.reload()
      },
      setError,
    )
  return (
    <section aria-labelledby="deliveries">
      <h2 id="deliveries">Delivery</h2>
      <ErrorText error={error ?? status.error} />
      {status.data && (
        <p>
          {status.data.paused ? (
            <>
              <strong>Paused</strong>
              {status.data.reason ? ': ' + status.data.reason : ''} {status.data.since ? 'since ' + fmtTime(status.data.since) : ''}{' '}
              <button type="button" onClick={() => void act('/resume')}>
                Resume
              </button>
            </>
          ) : (
            <>
              Delivering.{' '}
              <button type="button" onClick={() => void act('/pause')}>
                Pause
              </button>
            </>
          )}
          <br />
          {fmtNum(status.data.queued)} queued, {fmtNum(status.data.dead_letters)} dead letters
        </p>
      )}
      <h3>Recent attempts</h3>
      <ErrorText error={log.error} />
      {log.data && (
        <Table
          caption="Recent delivery attempts"
          rowKey={(a) => a.item + '/' + a.attempt + '/' + a.time}
          rows={log.data.items}
          columns={[
            { key: 't', label: 'Time', render: (a) => fmtTime(a.time) },
            { key: 'o', label: 'Outcome', render: (a) => a.outcome + (a.status ? ` (${a.status})` : '') },
            { key: 'n', label: 'Attempt', render: (a) => a.attempt },
            { key: 'e', label: 'Error', render: (a) => a.error ?? '' },
          ]}
        />
      )}
      <h3>Dead letters</h3>
      <ErrorText error={dead.error} />
      {dead.data && (
        <>
          <Table
            caption="Dead letters"
            rowKey={(d) => d.id}
            rows={dead.data.items}
            columns={[
              { key: 'q', label: 'Queued', render: (d) => fmtTime(d.queued) },
              { key: 'k', label: 'Kind', render: (d) => d.kind },
              { key: 'e', label: 'Error', render: (d) => `${d.error} (${d.attempts} attempts)` },
              {
                key: 'r',
                label: 'Replay',
                render: (d) => (
                  <button type="button" aria-label={'Replay ' + d.id} onClick={() => void act('/dead-letters/' + encodeURIComponent(d.id) + '/replay')}>
                    Replay
                  </button>
                ),
              },
            ]}
          />
          {dead.data.total > 0 && (
            <button type="button" onClick={() => void act('/dead-letters/replay')}>
              Replay all {fmtNum(dead.data.total)}
            </button>
          )}
        </>
      )}
    </section>
  )
}
