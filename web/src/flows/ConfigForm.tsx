// The form of a node's config, generated from its JSON Schema (GET /api/v1/flow-nodes):
// one control per property by its x-type, required fields marked, enums as selects,
// ranges on number inputs, secrets masked; conditions and templates show an error's
// position with a caret (the panel checks the config with the API as it is typed).
import { useEffect, useId, useState } from 'react'
import { ConditionBox } from '../components/ConditionBox'
import { Field } from '../components/ui'
import type { NodeSchema } from './types'
import { isSecret, parseValueText, valueText } from './form'

export function ConfigForm({
  schema,
  value,
  onChange,
  errors,
}: {
  schema: NodeSchema
  value: Record<string, unknown>
  onChange: (key: string, v: unknown) => void
  errors: Record<string, string>
}) {
  const props = Object.entries(schema.properties ?? {})
  if (props.length === 0) return <p className="muted">This node has no settings.</p>
  const required = new Set(schema.required ?? [])
  const basic = props.filter(([, s]) => !s['x-advanced'])
  const advanced = props.filter(([, s]) => s['x-advanced'])
  const control = ([k, s]: [string, NodeSchema]) => (
    <Control key={k} name={k} schema={s} required={required.has(k)} value={value[k]} onChange={(v) => onChange(k, v)} error={errors[k]} />
  )
  return (
    <>
      {basic.map(control)}
      {advanced.length > 0 && (
        <details open={advanced.some(([k]) => errors[k] !== undefined || value[k] !== undefined)}>
          <summary>Advanced</summary>
          {advanced.map(control)}
        </details>
      )}
    </>
  )
}

function helpOf(s: NodeSchema): string {
  const parts = [s.description ?? '']
  if (s.minimum !== undefined && s.maximum !== undefined) parts.push(`From ${s.minimum} to ${s.maximum}.`)
  else if (s.minimum !== undefined) parts.push(`At least ${s.minimum}.`)
  else if (s.maximum !== undefined) parts.push(`At most ${s.maximum}.`)
  if (s.maxLength !== undefined) parts.push(`Up to ${s.maxLength} characters.`)
  if (s.default !== undefined && typeof s.default !== 'object') parts.push(`Default: ${String(s.default)}.`)
  const ex = s.examples?.[0]
  if (ex !== undefined && typeof ex !== 'object') parts.push(`Example: ${String(ex)}`)
  return parts.filter(Boolean).join(' ')
}

function Control({
  name,
  schema,
  required,
  value,
  onChange,
  error,
}: {
  name: string
  schema: NodeSchema
  required: boolean
  value: unknown
  onChange: (v: unknown) => void
  error?: string
}) {
  const label = (schema.title ?? name).replace(/_/g, ' ') + (required ? ' (required)' : '')
  const help = helpOf(schema)
  const xt = schema['x-type'] ?? schema.type ?? 'value'
  if (xt === 'condition' || (xt === 'template' && !isSecret(name, schema))) {
    // a text whose errors come with a position: drawn with a caret under it
    return (
      <ConditionBox
        label={label}
        value={(value as string) ?? ''}
        onChange={(v) => onChange(v === '' ? undefined : v)}
        error={error}
        help={help}
        rows={xt === 'condition' ? 3 : 4}
      />
    )
  }
  if (xt === 'boolean') {
    return (
      <Field label={label} help={help} error={error}>
        {(p) => <input {...p} type="checkbox" checked={Boolean(value ?? schema.default)} onChange={(e) => onChange(e.target.checked)} />}
      </Field>
    )
  }
  if (schema.enum) {
    return (
      <Field label={label} help={help} error={error}>
        {(p) => (
          <select {...p} value={value === undefined ? '' : String(value)} onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}>
            <option value="">{schema.default !== undefined ? `(default: ${String(schema.default)})` : '(choose)'}</option>
            {schema.enum!.map((o) => (
              <option key={String(o)} value={String(o)}>
                {String(o)}
              </option>
            ))}
          </select>
        )}
      </Field>
    )
  }
  if (xt === 'number' || xt === 'integer') {
    return (
      <Field label={label} help={help} error={error}>
        {(p) => (
          <input
            {...p}
            type="number"
            step={xt === 'integer' ? 1 : 'any'}
            min={schema.minimum}
            max={schema.maximum}
            value={value === undefined ? '' : String(value)}
            onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
          />
        )}
      </Field>
    )
  }
  if (xt === 'template') {
    return (
      <Field label={label} help={help} error={error}>
        {(p) => (
          <textarea {...p} className="code" rows={3} spellCheck={false} value={(value as string) ?? ''} onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)} />
        )}
      </Field>
    )
  }
  if (xt === 'list' && (schema.items?.type === 'string' || schema.items?.['x-type'] === 'reference')) {
    return <LinesControl label={label} help={help + ' One per line.'} value={(value as string[]) ?? []} onChange={onChange} error={error} />
  }
  if (xt === 'string' || xt === 'reference' || xt === 'duration') {
    if (isSecret(name, schema)) return <SecretControl label={label} help={help} value={(value as string) ?? ''} onChange={onChange} error={error} />
    return (
      <Field label={label} help={help} error={error}>
        {(p) => (
          <input
            {...p}
            type="text"
            autoComplete="off"
            spellCheck={false}
            placeholder={xt === 'reference' ? 'profile@traits.name' : xt === 'duration' ? '5s' : undefined}
            value={(value as string) ?? ''}
            onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)}
          />
        )}
      </Field>
    )
  }
  // map, value, lists of objects: JSON (a value that is not JSON is taken as text)
  return <JsonControl label={label} help={help} value={value} onChange={onChange} error={error} textAllowed={xt === 'value'} />
}

function SecretControl({ label, help, value, onChange, error }: { label: string; help: string; value: string; onChange: (v: unknown) => void; error?: string }) {
  const [show, setShow] = useState(false)
  return (
    <Field label={label} help={help} error={error}>
      {(p) => (
        <span className="secret">
          <input {...p} type={show ? 'text' : 'password'} autoComplete="new-password" value={value} onChange={(e) => onChange(e.target.value === '' ? undefined : e.target.value)} />
          <button type="button" onClick={() => setShow(!show)} aria-pressed={show}>
            {show ? 'Hide' : 'Show'}
          </button>
        </span>
      )}
    </Field>
  )
}

function LinesControl({ label, help, value, onChange, error }: { label: string; help: string; value: string[]; onChange: (v: unknown) => void; error?: string }) {
  const [text, setText] = useState(value.join('\n'))
  useEffect(() => {
    if (lines(text).join('\n') !== value.join('\n')) setText(value.join('\n'))
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value])
  return (
    <Field label={label} help={help} error={error}>
      {(p) => (
        <textarea
          {...p}
          className="code"
          rows={3}
          spellCheck={false}
          value={text}
          onChange={(e) => {
            setText(e.target.value)
            const l = lines(e.target.value)
            onChange(l.length ? l : undefined)
          }}
        />
      )}
    </Field>
  )
}

function lines(s: string): string[] {
  return s
    .split('\n')
    .map((x) => x.trim())
    .filter(Boolean)
}

function JsonControl({
  label,
  help,
  value,
  onChange,
  error,
  textAllowed,
}: {
  label: string
  help: string
  value: unknown
  onChange: (v: unknown) => void
  error?: string
  textAllowed: boolean
}) {
  const id = useId()
  const [text, setText] = useState(valueText(value))
  const [local, setLocal] = useState<string | null>(null)
  useEffect(() => {
    const r = parseValueText(text, textAllowed)
    if (!('error' in r) && JSON.stringify(r.value) === JSON.stringify(value)) return
    setText(valueText(value))
    setLocal(null)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [value])
  return (
    <Field id={id} label={label} help={help + (textAllowed ? ' JSON, or plain text.' : ' JSON.')} error={local ?? error}>
      {(p) => (
        <textarea
          {...p}
          className="code"
          rows={4}
          spellCheck={false}
          value={text}
          onChange={(e) => {
            setText(e.target.value)
            const r = parseValueText(e.target.value, textAllowed)
            if ('error' in r) {
              setLocal(r.error)
              return
            }
            setLocal(null)
            onChange(r.value)
          }}
        />
      )}
    </Field>
  )
}
