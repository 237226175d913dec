import { useEffect, useState } from 'react'
import { post } from '../../api/client'
import { useDebounced } from '../../app/hooks'
import { ApiError, withoutField } from '../../lib/errors'
import { fmtNum } from '../../lib/format'
import { schemaProblems } from '../../lib/jsonedit'
import type { ResourceDef } from './resources'

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
      return (
        <p className="muted">
          Destinations are stored and validated now; the delivery log and dead letters appear here once the delivery worker is running.
        </p>
      )
  }
  return null
}

export function trackSnippet(origin: string, sourceId: string): string {
  return `<script>
// ThamesThrive: send events to source ${sourceId}
(function () {
  var KEY = 'thamesthrive.ids';
  var ids = JSON.parse(localStorage.getItem(KEY) || '{}');
  window.thamesthrive = function (type, properties) {
    return fetch('${origin}/track', {
      method: 'POST', keepalive: true,
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({source: {id: '${sourceId}'}, profile: ids.profile ? {id: ids.profile} : undefined,
        session: ids.session ? {id: ids.session} : undefined,
        events: [{type: type, properties: properties || {}}]})
    }).then(function (r) { return r.json(); }).then(function (a) {
      ids = {profile: a.profile && a.profile.id, session: a.session && a.session.id};
      localStorage.setItem(KEY, JSON.stringify(ids));
      return a;
    });
  };
  thamesthrive('page-view', {url: location.href, title: document.title});
})();
</script>`
}

export function curlExample(origin: string, sourceId: string, type: string): string {
  if (type === 'webhook') {
    return `curl -X POST '${origin}/collect/purchase/${sourceId}' \\
  -H 'Content-Type: application/json' \\
  -d '{"order_id": "A-1001", "total": 42.5}'`
  }
  return `curl -X POST '${origin}/track' \\
  -H 'Content-Type: application/json' \\
  -d '{"source": {"id": "${sourceId}"},
       "profile": {"id": "customer-1"},
       "events": [{"type": "sign-in", "properties": {"email": {"main": "ann@example.com"}}}]}'`
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
      {source.type !== 'webhook' && <Copyable label="Snippet for your web pages" text={trackSnippet(origin, id)} />}
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
    post<{ total: number }>('/profiles/search', { where: c, limit: 0 }, { signal: ctl.signal }).then(
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
