// The Flow tab: name and description (saved with the draft), enable/disable (at once),
// export, and the rules that run this flow, with links to them and a form for a new one.
import { useCallback, useEffect, useState } from 'react'
import { get, post, put, type List } from '../api/client'
import { useSession } from '../app/session'
import { ConditionBox } from '../components/ConditionBox'
import { Link } from '../components/Link'
import { ErrorText, Field } from '../components/ui'
import { ApiError, withoutField } from '../lib/errors'
import { exportFile, saveJson } from './io'
import type { Draft, Flow, Rule } from './types'

export function FlowSettings({
  meta,
  dirty,
  draft,
  onMeta,
  onEnabled,
}: {
  meta: Flow
  dirty: boolean
  draft: Draft
  onMeta: (m: Partial<Flow>) => void
  onEnabled: (f: Flow) => void
}) {
  const session = useSession()
  const [error, setError] = useState<unknown>(null)
  const toggle = async () => {
    setError(null)
    try {
      // change only enabled: the stored flow, not the canvas, is what is sent
      const stored = await get<Flow>('/flows/' + encodeURIComponent(meta.id))
      onEnabled(await put<Flow>('/flows/' + encodeURIComponent(meta.id), { ...stored, enabled: !meta.enabled }))
    } catch (e) {
      setError(e)
    }
  }
  return (
    <div>
      <h2>Flow</h2>
      <Field label="Name (required)">{(p) => <input {...p} type="text" value={meta.name} onChange={(e) => onMeta({ name: e.target.value })} />}</Field>
      <Field label="Description">
        {(p) => <textarea {...p} rows={2} value={meta.description} onChange={(e) => onMeta({ description: e.target.value })} />}
      </Field>
      <p className="muted small">Name and description are saved with the draft.</p>
      <div className="actions">
        <button onClick={() => void toggle()}>{meta.enabled ? 'Disable flow' : 'Enable flow'}</button>
        <button onClick={() => saveJson(`${meta.id}.flow.json`, exportFile({ ...meta, draft }))}>
          Export JSON{dirty ? ' (with unsaved edits)' : ''}
        </button>
      </div>
      <p className="muted small">Disabling stops the flow at once; rules that name it run nothing until it is enabled again.</p>
      <ErrorText error={error} />
      {session.can('rules') ? <Rules flowId={meta.id} /> : <p className="muted">Your roles cannot see rules.</p>}
    </div>
  )
}

function Rules({ flowId }: { flowId: string }) {
  const [rules, setRules] = useState<Rule[] | null>(null)
  const [error, setError] = useState<unknown>(null)
  const [name, setName] = useState('')
  const [eventType, setEventType] = useState('')
  const [condition, setCondition] = useState('')
  const [fieldErr, setFieldErr] = useState<Record<string, string>>({})
  const load = useCallback(() => {
    get<List<Rule>>('/rules?limit=1000').then((r) => setRules(r.items.filter((x) => x.flow_id === flowId)), setError)
  }, [flowId])
  useEffect(load, [load])
  const create = async () => {
    setFieldErr({})
    setError(null)
    try {
      await post('/rules', { name: name || `Run ${flowId} on ${eventType}`, event_type: eventType, condition: condition || undefined, flow_id: flowId, enabled: true })
      setName('')
      setEventType('')
      setCondition('')
      load()
    } catch (e) {
      if (e instanceof ApiError && e.status === 400 && e.field) setFieldErr({ [e.field]: withoutField(e.message, e.field) })
      else setError(e)
    }
  }
  return (
    <section className="flow-rules">
      <h3>Rules that run this flow</h3>
      <ErrorText error={error} />
      {rules && rules.length === 0 && <p className="muted">None: the flow runs only when a rule names it.</p>}
      {rules && rules.length > 0 && (
        <ul>
          {rules.map((r) => (
            <li key={r.id}>
              <Link to={'/config/rules/' + encodeURIComponent(r.id)}>{r.name}</Link> — on <code>{r.event_type}</code>
              {r.source_id && (
                <>
                  {' '}
                  from <code>{r.source_id}</code>
                </>
              )}
              {r.condition && (
                <>
                  {' '}
                  when <code>{r.condition}</code>
                </>
              )}
              {!r.enabled && <span className="tag">disabled</span>}
            </li>
          ))}
        </ul>
      )}
      <form
        className="new-rule"
        onSubmit={(e) => {
          e.preventDefault()
          void create()
        }}
      >
        <h4>New rule for this flow</h4>
        <Field label="Event type (required)" error={fieldErr.event_type}>
          {(p) => <input {...p} type="text" value={eventType} onChange={(e) => setEventType(e.target.value)} placeholder="purchase" />}
        </Field>
        <Field label="Rule name" error={fieldErr.name}>
          {(p) => <input {...p} type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder={`Run ${flowId} on ${eventType || '…'}`} />}
        </Field>
        <ConditionBox label="Only when (optional condition)" value={condition} onChange={setCondition} error={fieldErr.condition} rows={1} />
        <button type="submit">Create rule</button>
      </form>
    </section>
  )
}
